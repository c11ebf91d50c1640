// Live latency measurement of cells on this machine with onnxruntime-node: the protocol that turns
// "run the network" into a number a search can trust on a small, shared, noisy box.
//
// Protocol (every choice below is recorded in the result's `protocol`):
// - Everything untimed happens first: each cell's ONNX model is built, its session created and one
//   seeded input tensor prepared (all cells of a run share the same input values).
// - Session options: graphOptimizationLevel 'all' (what a deployment would run), executionMode
//   'sequential' and interOpNumThreads 1 (NB201 graphs are chains of small ops; parallel branches
//   only add scheduling jitter), intraOpNumThreads = `threads`. The default is 1 thread: on a
//   2-core machine shared with other work, a second spinning pool thread fights everything else
//   and its wake-up latency dominates the noise; pass more threads to model a dedicated device.
// - Warm-up: `warmupRuns` untimed runs per cell (memory arena and pattern planning happen on the
//   first runs). Their median sets `runsPerVisit`: each visit of a cell makes enough back-to-back
//   runs to last about `minVisitMs` (at least one), so cheap cells get as many timed runs as
//   expensive ones get time.
// - A visit is timed as one group (process.hrtime.bigint() around its back-to-back runs) and
//   gives one sample, the visit's time per run. Timing runs one by one was the reason a quiet
//   machine reported CV above 10% on every sample cell: `await session.run` hops through
//   onnxruntime-node's async worker, and that dispatch jitter (tens of microseconds) is a large
//   share of a 0.3-1 ms network (per-run CV 7-19% against 5-9% over visits, the 10 default cells
//   on one core while the other ran a benchmark), and the first run after a switch of network is
//   20-30% slower (caches). A preemption still poisons only its own visit, which the median over
//   visits discards. Each timed visit starts with one untimed run (see runVisit).
// - Timing: `rounds` interleaved rounds; each round visits every cell once in a fresh seeded order,
//   so slow drift (thermal, frequency, neighbours' load) hits all cells alike and no cell always
//   follows the same predecessor (whose cache footprint would bias it). The defaults (40 rounds,
//   visits of >= 8 ms) spread a measurement of 30 cells over about 10-15 s. That span, more than
//   the run count, is what averages out neighbours' bursts: on a saturated 2-core box, two
//   independent measurements of 30 cells differed by a median 3-8% with 15-20 rounds and by
//   0.7-2% with 40-60 (`simnas bench measure`).
// - Per cell, over its visits pooled across rounds: median, p90, and a robust coefficient of
//   variation CV = 1.4826 * MAD / median (MAD = median absolute deviation; 1.4826 makes it match
//   the standard deviation under normal noise while ignoring preempted visits). What a search
//   needs is how well the median is known, not how much single visits scatter: the relative
//   standard error of the median, 1.2533 * CV / sqrt(visits).
// - Cells whose standard error exceeds `noisyError` are re-measured (up to `maxRemeasures` times, again in
//   interleaved rounds among themselves, half as many rounds each time). Their runs join the
//   cell's pool rather than replace it: more runs spread over more time steady the median, while
//   keeping only the calmest attempt would trade a long window for a short one (measured: worse
//   repeatability between independent measurements). A cell whose pooled CV stays above the
//   threshold is flagged `noisy`.
// - `windowMs`, when set, sizes the timed phase by time instead of a round count: as many rounds
//   (at most `rounds`, at least MIN_ROUNDS) as fill the window at the warm-up's pace. The
//   verification of one candidate uses it, so its cost does not grow with the network's size.
// - Anchors (optional): cells measured earlier in the same job (the samples) are measured again in
//   the same rounds as the new cells, the ones nearest in latency to them. Their ratio now/earlier
//   is the drift of the machine since then (load, frequency, thermal state, neighbours), and the
//   new cells' latencies are divided by it: every latency of a job stands on the scale of its
//   samples, whichever way the machine moved, and the new cells' standard errors grow by the
//   drift's. Measured on this 2-core VM while other work came and went (scratch runs under two
//   helpers' benchmarks): one verification of the same cell scattered by 13-60% (robust sd) in
//   absolute terms and by 6-9% relative to its anchors. Correcting only when the machine was faster
//   (the rule before) left a verification read under load on the loaded scale: the machine's load
//   then decided the verdict, not the cell. How unevenly the drift hit the anchors (their
//   dispersion) is recorded too: a certification's noise includes it (src/devices/live.ts).
// - Ambient load is recorded: over the timing phase, the CPU time other processes used (all cores'
//   busy time from os.cpus() minus our own process.cpuUsage()) as an average number of busy cores,
//   plus the 1-minute load average. Contention on a shared machine slows runs (shared caches,
//   memory bandwidth), and not every network alike, which the anchors undo only in part; the figure
//   tells a reader how far to trust a measurement.
// - `timeBudgetMs` caps the wall time of the whole call: rounds stop early once it is spent (never
//   before `MIN_ROUNDS` rounds) and no re-measure starts after it. Sessions are always released.
import os from 'node:os';

import * as ort from 'onnxruntime-node';

import { UsageError } from '../errors.js';
import { DEFAULT_SPACE_ID, spaceById } from '../spaces/index.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { BATCH_MAX, SEED_MAX, THREADS_MAX } from '../options.js';
import { silentLogger, type Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { median, quantile } from '../util/stats.js';
import { availableExecutionProviders, onnxruntimeVersion } from './fingerprint.js';
import { quote } from '../util/quote.js';

export type Milliseconds = number;

/** A serialized model ready for a session, plus how to feed it. */
export interface MeasurableModel {
  readonly bytes: Uint8Array;
  readonly inputName: string;
  readonly inputShape: readonly number[];
}

export interface ModelRequest {
  /** One of the space's datasets. */
  readonly dataset: string;
  readonly batchSize: number;
  readonly seed: number;
}

/** Builds the network for one architecture (in production, the space's own `network`). */
export type ModelBuilder = (
  architecture: Architecture,
  request: ModelRequest,
) => MeasurableModel | Promise<MeasurableModel>;

export interface MeasureOptions {
  /** One of the space's datasets (input setting). */
  readonly dataset: string;
  readonly batchSize: number;
  /** Execution provider name as onnxruntime-node lists it ("cpu", "cuda", ...). */
  readonly provider: string;
  /** intraOpNumThreads. */
  readonly threads: number;
  readonly warmupRuns: number;
  readonly rounds: number;
  /** Target duration of one visit of a cell in a round; short runs are repeated up to this. */
  readonly minVisitMs: Milliseconds;
  /**
   * Relative standard error of the median above which a cell is re-measured and, if it stays
   * above, flagged noisy.
   */
  readonly noisyError: number;
  readonly maxRemeasures: number;
  /** Target duration of the timed phase (rounds then come from it, capped by `rounds`); undefined: `rounds`. */
  readonly windowMs: Milliseconds | undefined;
  /** Wall-time cap for the whole call; undefined means none. */
  readonly timeBudgetMs: Milliseconds | undefined;
  /** Seeds the input values, the weights and the visiting order of each round. */
  readonly seed: number;
}

export const DEFAULT_MEASURE_OPTIONS: MeasureOptions = {
  dataset: 'cifar10',
  batchSize: 1,
  provider: 'cpu',
  threads: 1,
  warmupRuns: 5,
  rounds: 40,
  minVisitMs: 8,
  noisyError: 0.02,
  maxRemeasures: 2,
  windowMs: undefined,
  timeBudgetMs: undefined,
  seed: 0,
};

/** Rounds always completed, whatever the budget says: fewer leave median and p90 meaningless. */
export const MIN_ROUNDS = 3;
const MAX_RUNS_PER_SAMPLE = 64;

export type MeasurePhase = 'warmup' | 'timed' | 'remeasure';

/** One visit of a cell (a warm-up run, or a timed visit of runsPerVisit runs), reported before it runs. */
export interface VisitEvent {
  readonly phase: MeasurePhase;
  /** Index into the measured cells. */
  readonly cellIndex: number;
  /** Round within the phase (re-measure rounds count from 0 in each attempt). */
  readonly round: number;
  /** 0 for the first measurement, 1.. for re-measures. */
  readonly attempt: number;
}

export interface MeasureHooks {
  /** The space the architectures belong to (default nb201): names them and builds their networks. */
  readonly space?: SearchSpace;
  /** Overrides the space's network builder (tests). */
  readonly buildModel?: ModelBuilder;
  readonly logger?: Logger;
  /** Monotonic clock in ms; injected by tests. */
  readonly clock?: () => Milliseconds;
  readonly onVisit?: (event: VisitEvent) => void;
  /** Force the progress bar on/off (default: on a TTY). */
  readonly interactiveProgress?: boolean;
  /** Earlier measurements to re-measure alongside the new cells, as drift anchors. */
  readonly anchors?: AnchorPool;
}

/** Cells measured earlier in the same job, from which the anchors of a measurement are chosen. */
export interface AnchorPool {
  readonly cells: readonly { readonly architecture: Architecture; readonly medianMs: Milliseconds }[];
  /** How many to re-measure (the ones nearest in latency to the new cells). */
  readonly count: number;
}

/** What the anchors saw: the machine's drift since the earlier measurement, which the new cells were divided by. */
export interface Anchoring {
  readonly anchors: readonly {
    readonly cell: string;
    readonly earlierMs: Milliseconds;
    readonly nowMs: Milliseconds;
  }[];
  /** Median over anchors of now / earlier. */
  readonly drift: number;
  /** Relative standard error of the drift (from the anchors' spread and their own standard errors). */
  readonly driftError: number;
  /**
   * Standard deviation of the anchors' log ratios now/earlier (n - 1 degrees of freedom; 0 for one
   * anchor): how unevenly the machine's drift hit different networks, which a new cell divided by
   * the drift inherits as one more network (see LiveDevice.measurementNoise).
   */
  readonly dispersion: number;
}

export interface CellLatency {
  /** The architecture in the space's text form. */
  readonly cell: string;
  /**
   * The space's integer code (NB201: our base-5 cell code); NaN (null in JSON) in spaces too large
   * for integer codes (FBNet), whose results carry `key` instead.
   */
  readonly code: number;
  /** The space's key, only in spaces too large for integer codes. */
  readonly key?: string;
  /** Median over visits of the time per run (divided by the anchors' drift, where there were anchors). */
  readonly medianMs: Milliseconds;
  /** 90th percentile and minimum over visits of the time per run. */
  readonly p90Ms: Milliseconds;
  readonly minMs: Milliseconds;
  /** Robust coefficient of variation over visits, 1.4826 * MAD / median (a fraction, 0.02 = 2%). */
  readonly cv: number;
  /** Relative standard error of the median, 1.2533 * CV / sqrt(visits) (and the drift's, with anchors). */
  readonly standardError: number;
  readonly noisy: boolean;
  /** Timed visits and runs behind the figures (all attempts pooled). */
  readonly visits: number;
  readonly runs: number;
  readonly runsPerVisit: number;
  /** Measurement attempts made (1 + re-measures). */
  readonly attempts: number;
  /** Untimed-phase costs, for the record. */
  readonly buildMs: Milliseconds;
  readonly sessionMs: Milliseconds;
}

export interface MeasurementProtocol extends MeasureOptions {
  readonly onnxruntimeVersion: string;
  readonly sessionOptions: {
    readonly graphOptimizationLevel: 'all';
    readonly executionMode: 'sequential';
    readonly intraOpNumThreads: number;
    readonly interOpNumThreads: 1;
  };
  readonly cvMethod: string;
  readonly order: string;
  readonly clock: string;
  readonly roundsCompleted: number;
  readonly remeasureAttempts: number;
  readonly stoppedByBudget: boolean;
  readonly timedRuns: number;
  readonly warmupRunsTotal: number;
  /** Average number of cores other processes kept busy while cells were timed. */
  readonly backgroundCores: number;
  /** 1-minute load average when timing started and when it ended (0 where the OS has none). */
  readonly loadAverage: readonly [number, number];
  readonly logicalCores: number;
  /** Present when anchors were re-measured alongside the cells. */
  readonly anchoring?: Anchoring;
}

/** The conditions of one measurement call, for reports: how busy the machine was, what the anchors saw. */
export interface MeasurementCondition {
  readonly cells: number;
  readonly backgroundCores: number;
  readonly loadAverage: readonly [number, number];
  readonly anchoring?: Anchoring;
  readonly wallMs: Milliseconds;
}

/** The conditions of a measurement, as reports list them. */
export function conditionOf(result: MeasurementResult): MeasurementCondition {
  const { backgroundCores, loadAverage, anchoring } = result.protocol;
  return {
    cells: result.cells.length,
    backgroundCores,
    loadAverage,
    ...(anchoring ? { anchoring } : {}),
    wallMs: result.wallMs,
  };
}

export interface MeasurementResult {
  readonly protocol: MeasurementProtocol;
  readonly cells: readonly CellLatency[];
  readonly startedAt: string;
  /** Whole call: building, sessions, warm-up, timing, release. */
  readonly wallMs: Milliseconds;
}

const hrtimeClock = (): Milliseconds => Number(process.hrtime.bigint()) / 1e6;

/** Robust CV: 1.4826 * MAD / median. 0 for fewer than 2 values; Infinity if the median is 0. */
export function robustCv(values: ArrayLike<number>): number {
  if (values.length < 2) return 0;
  const center = median(values);
  const deviations = Array.from(values, (value) => Math.abs(value - center));
  const spread = 1.4826 * median(deviations);
  return center > 0 ? spread / center : spread === 0 ? 0 : Number.POSITIVE_INFINITY;
}

/** Rounds of one re-measure: half the first measurement's, so two re-measures cost at most one more. */
export function remeasureRounds(rounds: number): number {
  return Math.max(MIN_ROUNDS, Math.ceil(rounds / 2));
}

/** Relative standard error of a median of `count` values with robust CV `cv` (normal efficiency 1/1.2533^2). */
export function medianStandardError(cv: number, count: number): number {
  return (1.2533 * cv) / Math.sqrt(Math.max(1, count));
}

/** Back-to-back runs per visit so that one visit lasts at least `minVisitMs`. */
export function runsPerVisitFor(runMs: Milliseconds, minVisitMs: Milliseconds): number {
  if (!(runMs > 0)) return MAX_RUNS_PER_SAMPLE;
  return Math.min(MAX_RUNS_PER_SAMPLE, Math.max(1, Math.ceil(minVisitMs / runMs)));
}

/** Checks options and resolves the provider name; throws UsageError saying what is accepted. */
export function validateMeasureOptions(options: MeasureOptions): MeasureOptions {
  const integer = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${value}`);
    }
  };
  integer('batch size', options.batchSize, 1, BATCH_MAX);
  integer('threads', options.threads, 1, THREADS_MAX);
  integer('warm-up runs', options.warmupRuns, 1, 10_000);
  integer('rounds', options.rounds, MIN_ROUNDS, 100_000);
  integer('re-measures', options.maxRemeasures, 0, 10);
  integer('seed', options.seed, 0, SEED_MAX);
  if (!(options.minVisitMs >= 0 && Number.isFinite(options.minVisitMs))) {
    throw new UsageError(`minimum visit time must be a finite number of ms >= 0, got ${options.minVisitMs}`);
  }
  if (!(options.noisyError > 0))
    throw new UsageError(`noisy standard-error threshold must be > 0, got ${options.noisyError}`);
  if (options.windowMs !== undefined && !(options.windowMs > 0 && Number.isFinite(options.windowMs))) {
    throw new UsageError(`timing window must be a positive number of ms, got ${options.windowMs}`);
  }
  if (options.timeBudgetMs !== undefined && !(options.timeBudgetMs > 0)) {
    throw new UsageError(`time budget must be a positive number of ms, got ${options.timeBudgetMs}`);
  }
  return { ...options, provider: resolveExecutionProvider(options.provider) };
}

/** The provider as onnxruntime-node names it, or a UsageError listing the available ones. */
export function resolveExecutionProvider(requested: string): string {
  const providers = availableExecutionProviders();
  const found = providers.find((ep) => ep.name.toLowerCase() === requested.trim().toLowerCase());
  if (!found) {
    const listed = providers.map((ep) => (ep.bundled ? ep.name : `${ep.name} (separate install)`)).join(', ');
    throw new UsageError(
      `execution provider ${quote(requested)} is not available in onnxruntime-node ${onnxruntimeVersion()}; ` +
        `available: ${listed}`,
    );
  }
  return found.name;
}

interface PreparedCell {
  readonly cell: Architecture;
  readonly session: ort.InferenceSession;
  readonly feeds: Record<string, ort.Tensor>;
  readonly buildMs: Milliseconds;
  readonly sessionMs: Milliseconds;
  runsPerVisit: number;
  /** Median warm-up run (after the first), which sizes visits and the window's rounds. */
  warmupMs: Milliseconds;
}

/**
 * Measures `cells` (architectures of `hooks.space`) on this machine. Results come back in the order
 * of `cells`.
 */
export async function measureCells(
  cells: readonly Architecture[],
  requested: MeasureOptions,
  hooks: MeasureHooks,
): Promise<MeasurementResult> {
  const options = validateMeasureOptions(requested);
  if (cells.length === 0) throw new UsageError('no cells to measure');
  const logger = hooks.logger ?? silentLogger;
  const space = hooks.space ?? spaceById(DEFAULT_SPACE_ID);
  const buildModel: ModelBuilder =
    hooks.buildModel ?? ((architecture, request) => space.network(architecture, request));
  const clock = hooks.clock ?? hrtimeClock;
  const wallClock = hrtimeClock;
  const startedAt = new Date().toISOString();
  const wallStart = wallClock();
  const budgetEnd =
    options.timeBudgetMs === undefined ? Number.POSITIVE_INFINITY : wallStart + options.timeBudgetMs;
  const random = new Random(options.seed);
  const orderRandom = random.child('measure-order');
  const inputs = new Map<string, ort.Tensor>();
  const prepared: PreparedCell[] = [];
  let warmupRunsTotal = 0;
  let timedRuns = 0;

  /** One visit: its runs back to back, timed as a group; returns the time per run. */
  const runVisit = async (entry: PreparedCell, event: VisitEvent): Promise<number> => {
    hooks.onVisit?.(event);
    const runs = event.phase === 'warmup' ? 1 : entry.runsPerVisit;
    // The first run after another network pays for cold caches (20-30% slower on a sub-ms network,
    // and by how much depends on which network ran before): it runs untimed, so a visit measures
    // the network warm, as it runs when deployed back to back.
    if (event.phase !== 'warmup') await entry.session.run(entry.feeds);
    const start = clock();
    for (let i = 0; i < runs; i++) await entry.session.run(entry.feeds);
    const perRun = (clock() - start) / runs;
    if (event.phase === 'warmup') warmupRunsTotal += runs;
    else timedRuns += runs;
    return perRun;
  };

  /** Interleaved rounds over `members`; returns per-visit times per member. */
  const timeRounds = async (
    members: readonly number[],
    rounds: number,
    phase: MeasurePhase,
    attempt: number,
    onRound: () => void,
  ): Promise<{ times: Map<number, number[]>; rounds: number; stoppedByBudget: boolean }> => {
    const times = new Map<number, number[]>(members.map((index) => [index, []]));
    let completed = 0;
    let stoppedByBudget = false;
    for (let round = 0; round < rounds; round++) {
      if (round >= MIN_ROUNDS && wallClock() > budgetEnd) {
        stoppedByBudget = true;
        break;
      }
      for (const index of orderRandom.shuffled(members)) {
        times.get(index)!.push(await runVisit(prepared[index]!, { phase, cellIndex: index, round, attempt }));
      }
      completed++;
      onRound();
    }
    return { times, rounds: completed, stoppedByBudget };
  };

  const warmUp = async (index: number): Promise<void> => {
    const entry = prepared[index]!;
    const warmupTimes: number[] = [];
    for (let run = 0; run < options.warmupRuns; run++) {
      warmupTimes.push(await runVisit(entry, { phase: 'warmup', cellIndex: index, round: run, attempt: 0 }));
    }
    // The first run pays for arena growth and planning; calibrate on the rest when there are any.
    entry.warmupMs = median(warmupTimes.length > 1 ? warmupTimes.slice(1) : warmupTimes);
    entry.runsPerVisit = runsPerVisitFor(entry.warmupMs, options.minVisitMs);
  };

  let stopProgress = (): void => {};
  try {
    const progress = createProgress({
      label: 'measure',
      total: cells.length * 2 + options.rounds,
      logger,
      interactive: hooks.interactiveProgress,
    });
    let progressStopped = false;
    stopProgress = () => {
      if (!progressStopped) progress.done();
      progressStopped = true;
    };
    for (const cell of cells) {
      prepared.push(await prepareCell(cell, options, buildModel, inputs, random, wallClock));
      progress.tick(1, `built ${space.format(cell)}`);
    }
    for (const index of prepared.keys()) {
      await warmUp(index);
      progress.tick(1, `warmed ${space.format(prepared[index]!.cell)}`);
    }
    const measuredCells = prepared.map((_, index) => index);
    const anchors = chooseAnchors(hooks.anchors, prepared, space);
    const anchorIndices: number[] = [];
    for (const anchor of anchors) {
      prepared.push(await prepareCell(anchor.architecture, options, buildModel, inputs, random, wallClock));
      anchorIndices.push(prepared.length - 1);
      await warmUp(prepared.length - 1);
    }
    const everyCell = [...measuredCells, ...anchorIndices];
    const roundMs = everyCell.reduce(
      (sum, index) => sum + prepared[index]!.warmupMs * prepared[index]!.runsPerVisit,
      0,
    );
    const rounds =
      options.windowMs === undefined
        ? options.rounds
        : Math.min(
            options.rounds,
            Math.max(MIN_ROUNDS, Math.ceil(options.windowMs / Math.max(roundMs, 1e-3))),
          );
    const ambientStart = ambientSnapshot();
    const first = await timeRounds(everyCell, rounds, 'timed', 0, () => progress.tick(1, 'round'));
    stopProgress();

    const pooled = new Map<number, number[]>();
    const attempts = new Map<number, number>();
    for (const index of everyCell) {
      pooled.set(index, first.times.get(index)!);
      attempts.set(index, 1);
    }
    const errorOf = (index: number): number => {
      const visits = pooled.get(index)!;
      return medianStandardError(robustCv(visits), visits.length);
    };
    let remeasureAttempts = 0;
    for (let attempt = 1; attempt <= options.maxRemeasures; attempt++) {
      const noisy = everyCell.filter((index) => errorOf(index) > options.noisyError);
      if (noisy.length === 0 || wallClock() > budgetEnd) break;
      remeasureAttempts++;
      logger.info(
        `re-measuring ${noisy.length} noisy cell(s) (attempt ${attempt} of ${options.maxRemeasures})`,
      );
      // Anchors join every re-measure, so that the drift they report covers the same time.
      const members = [...new Set([...noisy, ...anchorIndices])];
      const again = await timeRounds(members, remeasureRounds(rounds), 'remeasure', attempt, () => {});
      for (const index of members) {
        pooled.get(index)!.push(...again.times.get(index)!);
        attempts.set(index, attempts.get(index)! + 1);
      }
    }

    const ambientEnd = ambientSnapshot();
    const backgroundCores = backgroundCoresBetween(ambientStart, ambientEnd);
    if (backgroundCores > BUSY_BACKGROUND_CORES) {
      logger.warn(
        `other processes kept ${backgroundCores.toFixed(1)} of ${os.cpus().length} cores busy while timing; ` +
          'latencies may be inflated and less repeatable',
      );
    }
    const anchoring =
      anchors.length === 0
        ? undefined
        : driftOf(
            anchors.map((anchor, i) => {
              const visits = pooled.get(anchorIndices[i]!)!;
              return {
                cell: space.format(anchor.architecture),
                earlierMs: anchor.medianMs,
                nowMs: median(visits),
                error: errorOf(anchorIndices[i]!),
              };
            }),
          );
    const scale = anchoring?.drift ?? 1;
    const results = measuredCells.map((index): CellLatency => {
      const entry = prepared[index]!;
      const visits = pooled.get(index)!;
      const cv = robustCv(visits);
      const ownError = medianStandardError(cv, visits.length);
      const standardError = anchoring ? Math.hypot(ownError, anchoring.driftError) : ownError;
      return {
        cell: space.format(entry.cell),
        ...(space.enumerable
          ? { code: space.code(entry.cell) }
          : { code: Number.NaN, key: space.key(entry.cell) }),
        medianMs: median(visits) / scale,
        p90Ms: quantile(visits, 0.9) / scale,
        minMs: Math.min(...visits) / scale,
        cv,
        standardError,
        noisy: ownError > options.noisyError,
        visits: visits.length,
        runs: visits.length * entry.runsPerVisit,
        runsPerVisit: entry.runsPerVisit,
        attempts: attempts.get(index)!,
        buildMs: entry.buildMs,
        sessionMs: entry.sessionMs,
      };
    });
    const noisyCount = results.filter((result) => result.noisy).length;
    if (noisyCount > 0 && options.maxRemeasures > 0) {
      logger.warn(
        `${noisyCount} cell(s) stayed above a ${formatPercent(options.noisyError)} standard error after re-measuring`,
      );
    } else if (noisyCount > 0) {
      // A measurement that is not re-measured (a verification) carries its standard error into
      // what depends on it (the certification margin): said, not warned about.
      logger.info(
        `${noisyCount} cell(s) measured with a standard error above ${formatPercent(options.noisyError)}, ` +
          'carried into their noise',
      );
    }
    return {
      protocol: {
        ...options,
        rounds,
        onnxruntimeVersion: onnxruntimeVersion(),
        sessionOptions: {
          graphOptimizationLevel: 'all',
          executionMode: 'sequential',
          intraOpNumThreads: options.threads,
          interOpNumThreads: 1,
        },
        cvMethod:
          'robust over visits: 1.4826 * median absolute deviation / median; standard error of the median 1.2533 * CV / sqrt(visits)',
        order:
          'interleaved rounds, each visiting every cell once in a seeded random order; each visit timed as one group of runs',
        clock: hooks.clock ? 'injected' : 'process.hrtime.bigint() around each visit',
        roundsCompleted: first.rounds,
        remeasureAttempts,
        stoppedByBudget: first.stoppedByBudget,
        timedRuns,
        warmupRunsTotal,
        backgroundCores,
        loadAverage: [ambientStart.loadAverage, ambientEnd.loadAverage],
        logicalCores: os.cpus().length,
        ...(anchoring ? { anchoring } : {}),
      },
      cells: results,
      startedAt,
      wallMs: wallClock() - wallStart,
    };
  } finally {
    stopProgress();
    await Promise.all(prepared.map((entry) => entry.session.release()));
  }
}

/**
 * The pool's cells nearest (in log latency) to the new cells' warm-up pace, skipping any that is
 * itself being measured: anchors of similar size see load the way the new cells do.
 */
function chooseAnchors(
  pool: AnchorPool | undefined,
  prepared: readonly PreparedCell[],
  space: SearchSpace,
): AnchorPool['cells'] {
  if (!pool || pool.count <= 0 || prepared.length === 0) return [];
  const measuring = new Set(prepared.map((entry) => space.key(entry.cell)));
  const target = Math.log(median(prepared.map((entry) => entry.warmupMs)));
  return pool.cells
    .filter((cell) => !measuring.has(space.key(cell.architecture)) && cell.medianMs > 0)
    .map((cell) => ({ cell, distance: Math.abs(Math.log(cell.medianMs) - target) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, pool.count)
    .map(({ cell }) => cell);
}

/** Anchor ratios now/earlier -> the drift and its standard error. */
export function driftOf(
  anchors: readonly { cell: string; earlierMs: number; nowMs: number; error: number }[],
): Anchoring {
  const logRatios = anchors.map((anchor) => Math.log(anchor.nowMs / anchor.earlierMs));
  const drift = Math.exp(median(logRatios));
  // Each ratio carries the anchor's error now and (about as much) when it was first measured; the
  // spread between anchors adds what per-anchor errors miss (load that hits sizes differently).
  const own = Math.sqrt(anchors.reduce((sum, a) => sum + 2 * a.error ** 2, 0)) / anchors.length;
  const spread =
    anchors.length > 1 ? robustCv(logRatios.map((r) => Math.exp(r))) / Math.sqrt(anchors.length) : 0;
  const mean = logRatios.reduce((sum, r) => sum + r, 0) / logRatios.length;
  const squares = logRatios.reduce((sum, r) => sum + (r - mean) ** 2, 0);
  return {
    anchors: anchors.map(({ cell, earlierMs, nowMs }) => ({ cell, earlierMs, nowMs })),
    drift,
    driftError: Math.hypot(own, spread),
    dispersion: anchors.length > 1 ? Math.sqrt(squares / (anchors.length - 1)) : 0,
  };
}

/** Above this many cores of other work, a measurement is reported as taken on a busy machine. */
const BUSY_BACKGROUND_CORES = 0.5;

interface AmbientSnapshot {
  readonly atMs: number;
  /** Busy time summed over all cores (ms). */
  readonly busyMs: number;
  /** This process's CPU time (ms). */
  readonly ownMs: number;
  readonly loadAverage: number;
}

function ambientSnapshot(): AmbientSnapshot {
  let busyMs = 0;
  for (const cpu of os.cpus()) busyMs += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  const own = process.cpuUsage();
  return {
    atMs: hrtimeClock(),
    busyMs,
    ownMs: (own.user + own.system) / 1000,
    loadAverage: os.loadavg()[0] ?? 0,
  };
}

/** Average cores busy with other processes between two snapshots (clamped at 0: tick rounding). */
export function backgroundCoresBetween(start: AmbientSnapshot, end: AmbientSnapshot): number {
  const wall = end.atMs - start.atMs;
  if (!(wall > 0)) return 0;
  return Math.max(0, (end.busyMs - start.busyMs - (end.ownMs - start.ownMs)) / wall);
}

async function prepareCell(
  cell: Architecture,
  options: MeasureOptions,
  buildModel: ModelBuilder,
  inputs: Map<string, ort.Tensor>,
  random: Random,
  clock: () => Milliseconds,
): Promise<PreparedCell> {
  const buildStart = clock();
  const model = await buildModel(cell, {
    dataset: options.dataset,
    batchSize: options.batchSize,
    seed: options.seed,
  });
  const buildMs = clock() - buildStart;
  const sessionStart = clock();
  const session = await createSession(model.bytes, options);
  const sessionMs = clock() - sessionStart;
  const shapeKey = model.inputShape.join('x');
  let input = inputs.get(shapeKey);
  if (!input) {
    input = seededInput(model.inputShape, random.child(`measure-input-${shapeKey}`));
    inputs.set(shapeKey, input);
  }
  return {
    cell,
    session,
    feeds: { [model.inputName]: input },
    buildMs,
    sessionMs,
    runsPerVisit: 1,
    warmupMs: 0,
  };
}

/** Session settings of every timed session: full graph optimization, one inter-op thread, quiet. */
export function timingSessionOptions(provider: string, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
}

async function createSession(bytes: Uint8Array, options: MeasureOptions): Promise<ort.InferenceSession> {
  const sessionOptions = timingSessionOptions(options.provider, options.threads);
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (error) {
    if (options.provider === 'cpu') throw error;
    const reason = (error instanceof Error ? error.message : String(error)).trim();
    throw new UsageError(
      `execution provider '${options.provider}' is listed by onnxruntime-node ${onnxruntimeVersion()} ` +
        `but could not start a session (${reason}); use --provider cpu or install its libraries`,
    );
  }
}

/** Standard-normal float32 input of `shape`, reproducible from the stream. */
function seededInput(shape: readonly number[], random: Random): ort.Tensor {
  const size = shape.reduce((product, dim) => product * dim, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = random.normal();
  return new ort.Tensor('float32', data, [...shape]);
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
