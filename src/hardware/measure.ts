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
// - Every run is timed on its own (process.hrtime.bigint() around `await session.run`, ns
//   resolution, well below the 0.1 ms of the cheapest network). Timing a batch of runs as one
//   sample looks attractive for short runs but is worse here: one preemption by a neighbour
//   (tens of ms on a shared 2-core box) poisons the whole batch's mean, whereas individually
//   timed runs let the median discard it.
// - Timing: `rounds` interleaved rounds; each round visits every cell once in a fresh seeded order,
//   so slow drift (thermal, frequency, neighbours' load) hits all cells alike and no cell always
//   follows the same predecessor (whose cache footprint would bias it). The defaults (40 rounds,
//   visits of >= 8 ms) spread a measurement of 30 cells over about 10-15 s. That span, more than
//   the run count, is what averages out neighbours' bursts: on a saturated 2-core box, two
//   independent measurements of 30 cells differed by a median 3-8% with 15-20 rounds and by
//   0.7-2% with 40-60 (`simnas bench measure`).
// - Per cell, over all its timed runs pooled across rounds: median, p90, and a robust coefficient
//   of variation CV = 1.4826 * MAD / median (MAD = median absolute deviation; 1.4826 makes it
//   match the standard deviation under normal noise while ignoring preempted runs).
// - Cells whose CV exceeds `noisyCv` are re-measured (up to `maxRemeasures` times, again in
//   interleaved rounds among themselves, half as many rounds each time). Their runs join the
//   cell's pool rather than replace it: more runs spread over more time steady the median, while
//   keeping only the calmest attempt would trade a long window for a short one (measured: worse
//   repeatability between independent measurements). A cell whose pooled CV stays above the
//   threshold is flagged `noisy`.
// - Ambient load is recorded, not corrected: over the timing phase, the CPU time other processes
//   used (all cores' busy time from os.cpus() minus our own process.cpuUsage()) as an average
//   number of busy cores, plus the 1-minute load average. Contention on a shared machine slows
//   every run alike (shared caches, SMT siblings, memory bandwidth), which interleaving cannot
//   undo between two separate measurements; the figure tells a reader how far to trust them.
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
  /** Robust CV above which a cell is re-measured and, if it stays above, flagged noisy. */
  readonly noisyCv: number;
  readonly maxRemeasures: number;
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
  noisyCv: 0.1,
  maxRemeasures: 2,
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
  readonly medianMs: Milliseconds;
  readonly p90Ms: Milliseconds;
  readonly minMs: Milliseconds;
  /** Robust coefficient of variation, 1.4826 * MAD / median (a fraction, 0.02 = 2%). */
  readonly cv: number;
  readonly noisy: boolean;
  /** Timed runs behind the figures (all attempts pooled). */
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
  if (!(options.noisyCv > 0)) throw new UsageError(`noisy CV threshold must be > 0, got ${options.noisyCv}`);
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

  const runVisit = async (entry: PreparedCell, event: VisitEvent): Promise<number[]> => {
    hooks.onVisit?.(event);
    const runs = event.phase === 'warmup' ? 1 : entry.runsPerVisit;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = clock();
      await entry.session.run(entry.feeds);
      times.push(clock() - start);
    }
    if (event.phase === 'warmup') warmupRunsTotal += runs;
    else timedRuns += runs;
    return times;
  };

  /** Interleaved rounds over `members`; returns per-run times per member. */
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
        const perRun = await runVisit(prepared[index]!, { phase, cellIndex: index, round, attempt });
        times.get(index)!.push(...perRun);
      }
      completed++;
      onRound();
    }
    return { times, rounds: completed, stoppedByBudget };
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
    for (const [index, entry] of prepared.entries()) {
      const warmupTimes: number[] = [];
      for (let run = 0; run < options.warmupRuns; run++) {
        warmupTimes.push(
          ...(await runVisit(entry, { phase: 'warmup', cellIndex: index, round: run, attempt: 0 })),
        );
      }
      // The first run pays for arena growth and planning; calibrate on the rest when there are any.
      entry.runsPerVisit = runsPerVisitFor(
        median(warmupTimes.length > 1 ? warmupTimes.slice(1) : warmupTimes),
        options.minVisitMs,
      );
      progress.tick(1, `warmed ${space.format(entry.cell)}`);
    }
    const everyCell = prepared.map((_, index) => index);
    const ambientStart = ambientSnapshot();
    const first = await timeRounds(everyCell, options.rounds, 'timed', 0, () => progress.tick(1, 'round'));
    stopProgress();

    const pooled = new Map<number, number[]>();
    const attempts = new Map<number, number>();
    for (const index of everyCell) {
      pooled.set(index, first.times.get(index)!);
      attempts.set(index, 1);
    }
    const isNoisy = (index: number): boolean => robustCv(pooled.get(index)!) > options.noisyCv;
    let remeasureAttempts = 0;
    for (let attempt = 1; attempt <= options.maxRemeasures; attempt++) {
      const noisy = everyCell.filter(isNoisy);
      if (noisy.length === 0 || wallClock() > budgetEnd) break;
      remeasureAttempts++;
      logger.info(
        `re-measuring ${noisy.length} noisy cell(s) (attempt ${attempt} of ${options.maxRemeasures})`,
      );
      const again = await timeRounds(noisy, remeasureRounds(options.rounds), 'remeasure', attempt, () => {});
      for (const index of noisy) {
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
    const results = prepared.map((entry, index): CellLatency => {
      const perRun = pooled.get(index)!;
      const cv = robustCv(perRun);
      return {
        cell: space.format(entry.cell),
        ...(space.enumerable
          ? { code: space.code(entry.cell) }
          : { code: Number.NaN, key: space.key(entry.cell) }),
        medianMs: median(perRun),
        p90Ms: quantile(perRun, 0.9),
        minMs: Math.min(...perRun),
        cv,
        noisy: cv > options.noisyCv,
        runs: perRun.length,
        runsPerVisit: entry.runsPerVisit,
        attempts: attempts.get(index)!,
        buildMs: entry.buildMs,
        sessionMs: entry.sessionMs,
      };
    });
    const noisyCount = results.filter((result) => result.noisy).length;
    if (noisyCount > 0) {
      logger.warn(
        `${noisyCount} cell(s) stayed above CV ${formatPercent(options.noisyCv)} after re-measuring`,
      );
    }
    return {
      protocol: {
        ...options,
        onnxruntimeVersion: onnxruntimeVersion(),
        sessionOptions: {
          graphOptimizationLevel: 'all',
          executionMode: 'sequential',
          intraOpNumThreads: options.threads,
          interOpNumThreads: 1,
        },
        cvMethod: 'robust: 1.4826 * median absolute deviation / median, over per-run times',
        order:
          'interleaved rounds, each visiting every cell once in a seeded random order; runs timed one by one',
        clock: hooks.clock ? 'injected' : 'process.hrtime.bigint() around session.run',
        roundsCompleted: first.rounds,
        remeasureAttempts,
        stoppedByBudget: first.stoppedByBudget,
        timedRuns,
        warmupRunsTotal,
        backgroundCores,
        loadAverage: [ambientStart.loadAverage, ambientEnd.loadAverage],
        logicalCores: os.cpus().length,
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
  return { cell, session, feeds: { [model.inputName]: input }, buildMs, sessionMs, runsPerVisit: 1 };
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
