// The simnas pipeline: the one place the end-to-end flow is written. Front ends (the CLI, later
// the action) turn their arguments into options objects and print or publish the results.
// `runMainJob` fingerprints this machine and measures the sample cells; `runSearch` is the whole
// method: measure, adapt, search, verify, recommend.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { checkCompatible, readArtifact, type ControllerArtifact } from './controller/artifact.js';
import { ActorCritic } from './controller/policy.js';
import { policyShapeFor } from './controller/pretrain.js';
import { PRIOR_HASH } from './controller/prior.js';
import { proposeCells } from './controller/rollout.js';
import { designSampleCells, DEFAULT_SAMPLE_COUNT } from './devices/design.js';
import type { Device } from './devices/device.js';
import { fitLatencyModel } from './devices/latency-model.js';
import { LiveDevice } from './devices/live.js';
import { RecordedDevice } from './devices/recorded.js';
import { ReusingDevice } from './devices/reusing.js';
import { UsageError } from './errors.js';
import { hardwareFingerprint, type HardwareFingerprint } from './hardware/fingerprint.js';
import {
  DEFAULT_MEASURE_OPTIONS,
  measureCells,
  type MeasureOptions,
  type MeasurementResult,
  validateMeasureOptions,
} from './hardware/measure.js';
import { buildNb201Model } from './hardware/nb201-model.js';
import { defaultSampleCells, randomSampleCells } from './hardware/sample-cells.js';
import { DEFAULT_BATCH_SIZE, folderImages } from './proxies/images.js';
import { ProxyProvider } from './proxies/provider.js';
import { effectiveCodes } from './proxies/table.js';
import type { SearchProblem } from './search/objective.js';
import { kneePoint, paretoFront } from './search/pareto.js';
import { recommend, type Recommendation, type VerifiedCell } from './search/recommend.js';
import {
  bestCertified,
  certifiedThresholdMs,
  chooseCandidates,
  computesSomething,
  DEFAULT_MARGIN_Z,
  LAST_CHANCE_MIN_PASS,
} from './search/verification.js';
import {
  evolutionSearch,
  exhaustiveSearch,
  hillClimb,
  randomSearch,
  type Evaluations,
  type StrategyChoice,
  type StrategyName,
} from './search/strategies.js';
import { decodeCell, encodeCell, formatCell, isConnected, type Cell } from './space/cell.js';
import { DATASET_SHAPES, type Dataset } from './space/datasets.js';
import { ensureWritableFolder } from './util/folders.js';
import type { Logger } from './util/log.js';
import { Random } from './util/random.js';
import { median } from './util/stats.js';

/** Where the measured cells came from. */
export type CellSource = 'default' | 'given' | 'random';

export interface MainJobOptions extends Partial<MeasureOptions> {
  /** Cells to measure; default: the 10 default sample cells of the dataset. */
  readonly cells?: readonly Cell[];
  /** Draw this many random cells (under `seed`) instead of the default set. */
  readonly sample?: number;
  /** Progress bar on/off; default: on a TTY. */
  readonly interactiveProgress?: boolean;
}

export interface MainJobResult {
  readonly fingerprint: HardwareFingerprint;
  readonly cellSource: CellSource;
  readonly measurement: MeasurementResult;
}

/** Fills in defaults for every measurement setting the caller left out. */
export function measureOptionsFrom(options: MainJobOptions): MeasureOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([key, value]) => value !== undefined && key in DEFAULT_MEASURE_OPTIONS),
  ) as Partial<MeasureOptions>;
  return { ...DEFAULT_MEASURE_OPTIONS, ...defined };
}

export function selectCells(
  options: MainJobOptions,
  measure: MeasureOptions,
): { cells: Cell[]; source: CellSource } {
  if (options.cells && options.cells.length > 0 && options.sample !== undefined) {
    throw new UsageError('give either cells or a sample size, not both');
  }
  if (options.cells && options.cells.length > 0) return { cells: [...options.cells], source: 'given' };
  if (options.sample !== undefined) {
    return { cells: randomSampleCells(options.sample, measure.seed), source: 'random' };
  }
  return { cells: defaultSampleCells(measure.dataset), source: 'default' };
}

export async function runMainJob(options: MainJobOptions, logger: Logger): Promise<MainJobResult> {
  // Validate before the slow parts so a bad provider or setting fails at once.
  const measureOptions = validateMeasureOptions(measureOptionsFrom(options));
  const { cells, source } = selectCells(options, measureOptions);
  const fingerprint = await hardwareFingerprint();
  logger.info(`hardware ${fingerprint.tag} [${fingerprint.hash}]`);
  const measurement = await logger.group(`measuring ${cells.length} cell(s) on ${fingerprint.tag}`, () =>
    measureCells(cells, measureOptions, {
      buildModel: buildNb201Model,
      logger,
      interactiveProgress: options.interactiveProgress,
    }),
  );
  return { fingerprint, cellSource: source, measurement };
}

// ---------------------------------------------------------------------------------------------
// The search job (stage 2 of the method): measure the sample cells, fit the latency model, search
// with the chosen strategy, verify the best candidates by measuring them, and recommend.

/** Where latencies come from: this machine, or a recorded table column (benchmarks, dry runs). */
export type DeviceSpec =
  | {
      readonly kind: 'live';
      readonly measure?: Partial<MeasureOptions>;
      /** Latencies measured earlier on this very hardware and runtime, by cell code (a warm cache). */
      readonly reuse?: ReadonlyMap<number, number>;
      /** The relative sd of those measurements, so a warm run certifies cells as the cold run did. */
      readonly reuseNoise?: ReadonlyMap<number, number>;
    }
  | { readonly kind: 'table'; readonly path: string; readonly column: string; readonly noise: number };

export interface SearchJobOptions {
  readonly dataset: Dataset;
  /** Latency budget in ms; without one, the knee of the predicted front is the target. */
  readonly budgetMs?: number;
  readonly samples: number;
  readonly verify: number;
  readonly strategy: StrategyChoice;
  readonly device: DeviceSpec;
  readonly seed: number;
  /** This machine's fingerprint when the caller has it already (live devices); else collected here. */
  readonly fingerprint?: HardwareFingerprint;
  /** Controller artifact; default: the bundled one for the dataset. */
  readonly controllerPath?: string;
  /** Distinct cells random search and evolution may evaluate. */
  readonly evaluations: number;
  /** Folder of calibration images for NASWOT (default: synthetic images). */
  readonly calibrationImages?: string;
  /** Writes measurements as soon as they exist, and the final report files. */
  readonly outDir?: string;
  /**
   * Compute the task score of cells the proxy table lacks (about 1 s each) instead of leaving them
   * out of the search. Default false: a partial table then restricts the search to the cells it
   * covers, with a warning, so a run never silently takes hours.
   */
  readonly computeMissingScores?: boolean;
  /** Reuse of a cached latency-model fit, and a hook that receives this run's. */
  readonly adaptation?: AdaptationReuse;
  /** Replaces the proxy provider (tests). */
  readonly taskScores?: (dataset: Dataset) => Promise<{ scores: Float64Array; id: string }>;
}

export const DEFAULT_SEARCH: Omit<SearchJobOptions, 'dataset' | 'device'> = {
  samples: DEFAULT_SAMPLE_COUNT,
  verify: 5,
  strategy: 'auto',
  seed: 0,
  evaluations: 500,
};

/**
 * The search treats a cell as fitting the budget when its predicted latency plus 1.28 predictive
 * standard deviations does (a one-sided 90% bound), so uncertain cells must earn their place;
 * verification by measurement has the final word.
 */
export const CONSERVATIVE_Z = 1.2816;

export interface MeasuredCell {
  readonly code: number;
  readonly cell: string;
  readonly measuredMs: number;
  readonly taskScore?: number;
  /** Relative sd of this measurement (live devices), which a warm cache must restore with it. */
  readonly relativeNoise?: number;
}

export interface FrontPoint {
  readonly code: number;
  readonly cell: string;
  readonly latencyMs: number;
  readonly latencySource: 'measured' | 'predicted';
  /** Predictive sd for predicted points. */
  readonly latencyStdMs?: number;
  readonly taskScore: number;
}

export interface SearchResult {
  readonly dataset: Dataset;
  readonly seed: number;
  readonly strategy: StrategyName;
  readonly device: {
    readonly kind: DeviceSpec['kind'];
    readonly name: string;
    /** For a recorded device: the table replayed and the noise added, so the run can be repeated. */
    readonly table?: string;
    readonly noise?: number;
  };
  readonly fingerprint?: HardwareFingerprint;
  /** The budget searched for, and whether the user gave it or it is the knee of the front. */
  readonly budget: { readonly ms: number; readonly source: 'given' | 'knee' };
  readonly samples: readonly MeasuredCell[];
  readonly verified: readonly (VerifiedCell & Pick<MeasuredCell, 'relativeNoise'>)[];
  readonly measurements: {
    readonly samples: number;
    readonly verification: number;
    readonly total: number;
    /** Cells answered from earlier measurements of this hardware (a warm cache), not measured again. */
    readonly reused: number;
  };
  /** Cells without a task score (not in the proxy table, not computed), left out of the search. */
  readonly cellsWithoutScore: number;
  readonly latencyModel: {
    readonly looMapePercent: number;
    readonly looRmseMs: number;
    readonly noiseSd: number;
    readonly modeWeights: Readonly<Record<string, number>>;
  };
  readonly taskScoreId: string;
  readonly controller?: {
    /**
     * The artifact, never as an absolute path (a report is published): for the bundled one
     * `controllers/<dataset>.json` in the simnas package, else relative to the working
     * directory, or only its file name when it lies outside it (a runner's cache folder).
     */
    readonly path: string;
    /** The controller shipped with simnas for the dataset. */
    readonly bundled: boolean;
    /** SHA-256 of the artifact file (first 16 hex digits): which controller, wherever it lay. */
    readonly sha256: string;
    readonly simnasVersion: string;
    readonly taskScoreId: string;
    readonly priorHash: string;
  };
  /** The settings the run was asked for, beyond those above: what a rerun must pass again. */
  readonly settings: {
    readonly samples: number;
    readonly verify: number;
    readonly evaluations: number;
    readonly computeMissingScores: boolean;
    readonly calibrationImages?: string;
  };
  readonly cellsEvaluated: number;
  readonly front: readonly FrontPoint[];
  readonly recommendation: Recommendation;
  readonly protocol?: MeasurementResult['protocol'];
  readonly wallMs: number;
}

/** The controller shipped with simnas for `dataset`. */
export function bundledControllerPath(dataset: Dataset): string {
  return fileURLToPath(new URL(`../controllers/${dataset}.json`, import.meta.url));
}

export function createDevice(spec: DeviceSpec, dataset: Dataset, seed: number, logger: Logger): Device {
  if (spec.kind === 'table')
    return RecordedDevice.fromCsv(spec.path, spec.column, { noise: spec.noise, seed });
  const live = new LiveDevice({ measure: { ...spec.measure, dataset, seed }, logger });
  return spec.reuse && spec.reuse.size > 0 ? new ReusingDevice(live, spec.reuse, spec.reuseNoise) : live;
}

/** A device after stage 2's first step: its samples measured and the latency model fitted. */
export interface AdaptedDevice {
  readonly samples: readonly MeasuredCell[];
  readonly measurementsSpent: number;
  readonly fit: LatencyFitSummary;
  readonly predicted: { readonly mean: Float64Array; readonly std: Float64Array };
}

/** What a report says about the fitted latency model. */
export type LatencyFitSummary = SearchResult['latencyModel'];

/**
 * A fitted latency model as a cache keeps it: the samples it was fitted to and its predictions.
 * Fitting builds the prior's weight bank (seconds); a warm run with the very same samples reuses it.
 */
export interface AdaptationRecord {
  readonly dataset: Dataset;
  /** [cell code, measured ms] in measurement order. */
  readonly samples: readonly (readonly [number, number])[];
  readonly fit: LatencyFitSummary;
  readonly predicted: { readonly mean: Float64Array; readonly std: Float64Array };
}

export interface AdaptationReuse {
  /** A record from an earlier run; used only if its samples equal this run's exactly. */
  readonly reuse?: AdaptationRecord;
  /** Receives the record of this run's fit (reused or new), e.g. to cache it. */
  readonly onAdapted?: (record: AdaptationRecord) => void;
}

/** Measures the designed sample cells on `device` and fits the latency model to them. */
export async function adaptToDevice(
  device: Device,
  options: {
    dataset: Dataset;
    samples: number;
    seed?: number;
    outDir?: string;
    adaptation?: AdaptationReuse;
  },
  logger: Logger,
): Promise<AdaptedDevice> {
  let sampleCells =
    options.samples === DEFAULT_SAMPLE_COUNT
      ? defaultSampleCells(options.dataset)
      : [...designSampleCells(options.samples, { dataset: options.dataset })];
  const hasData = device.hasData?.bind(device);
  if (device instanceof RecordedDevice) device.requireCells(options.samples);
  if (hasData && !sampleCells.every(hasData)) {
    logger.info(
      `${device.name} has no latency for some designed sample cells: designing among the cells it has`,
    );
    sampleCells = [
      ...designSampleCells(options.samples, {
        dataset: options.dataset,
        available: (code) => hasData(decodeCell(code)),
      }),
    ];
  }
  const measurement = await logger.group(`measuring ${sampleCells.length} sample cells`, () =>
    device.measure(sampleCells),
  );
  const samples = sampleCells.map((cell, i) => ({
    code: encodeCell(cell),
    cell: formatCell(cell),
    measuredMs: measurement.latenciesMs[i]!,
  }));
  // Written before anything else can fail, so the measurements are never lost.
  writePartial(options.outDir, 'samples.json', { dataset: options.dataset, seed: options.seed, samples });
  const pairs = samples.map((sample) => [sample.code, sample.measuredMs] as const);
  const earlier = options.adaptation?.reuse;
  const reused =
    earlier?.dataset === options.dataset &&
    earlier.samples.length === pairs.length &&
    earlier.samples.every(([code, ms], i) => code === pairs[i]![0] && ms === pairs[i]![1]);
  let record: AdaptationRecord;
  if (reused) {
    record = earlier;
    logger.info('latency model: the same samples as a cached fit, reusing it');
  } else {
    const model = fitLatencyModel(
      { cells: sampleCells, latenciesMs: measurement.latenciesMs },
      { dataset: options.dataset },
    );
    const fit: LatencyFitSummary = {
      looMapePercent: model.looError.mape,
      looRmseMs: model.looError.rmseMs,
      noiseSd: model.parameters.noiseSd,
      modeWeights: model.parameters.modeWeights,
    };
    record = {
      dataset: options.dataset,
      samples: pairs,
      fit,
      predicted: flooredPrediction(model.predictAll(), pairs),
    };
  }
  logger.info(
    `latency model: leave-one-out error ${record.fit.looMapePercent.toFixed(1)}% over ${samples.length} samples`,
  );
  options.adaptation?.onAdapted?.(record);
  return {
    samples,
    measurementsSpent: measurement.measurementsSpent,
    fit: record.fit,
    predicted: record.predicted,
  };
}

/**
 * A linear latency model can predict near or below zero for cells far from every sample when a fit
 * is poor (a loaded machine, an odd device). No network is cheaper than its fixed part, and the
 * design always measures some of the cheapest cells, so half the fastest measured sample is a safe
 * floor: without it a knee target or a budget check could be set by a prediction of 0.0002 ms.
 */
export const PREDICTION_FLOOR_FRACTION = 0.5;

function predictionFloor(measuredMs: Iterable<number>): number {
  return PREDICTION_FLOOR_FRACTION * Math.min(...measuredMs);
}

function flooredPrediction(
  predicted: { mean: Float64Array; std: Float64Array },
  samples: readonly (readonly [number, number])[],
): { mean: Float64Array; std: Float64Array } {
  const floor = predictionFloor(samples.map(([, ms]) => ms));
  return { mean: predicted.mean.map((m) => Math.max(m, floor)), std: predicted.std };
}

/** The task scores with NaN (never searched, verified or reported) where `device` has no latency. */
export function measurableScores(scores: Float64Array, device: Device): Float64Array {
  const hasData = device.hasData?.bind(device);
  if (!hasData) return scores;
  return Float64Array.from(scores, (score, code) => (hasData(decodeCell(code)) ? score : Number.NaN));
}

/**
 * How many predictive sds below its predicted latency a cell may still turn out to be before a
 * budget is refused as below every cell. Refusing on the predicted mean alone turned down budgets
 * that cells meet: on gold_6240 (HELP table) 3.5 ms was refused because the fastest cell was
 * predicted at 3.84 ms, though 31 cells run at 3.5 ms or less (that one at 3.41 ms). A budget the
 * model only doubts goes on to the search, whose verification measures the fastest candidates and
 * says plainly when none fits.
 */
const BUDGET_REFUSAL_SDS = 3;

/** Refuses a budget no cell can plausibly meet, naming the fastest cell and the fastest measurement. */
export function checkBudget(adapted: AdaptedDevice, budgetMs: number, outDir?: string): void {
  const { mean, std } = adapted.predicted;
  const optimistic = Float64Array.from(mean, (m, code) => m - BUDGET_REFUSAL_SDS * std[code]!);
  const optimisticFastestMs = fastestCell(optimistic).ms;
  const measuredFastest = adapted.samples.reduce((a, b) => (b.measuredMs < a.measuredMs ? b : a));
  if (budgetMs >= Math.min(optimisticFastestMs, measuredFastest.measuredMs)) return;
  const fastest = fastestCell(mean);
  throw new UsageError(
    `latency budget ${budgetMs} ms is below the fastest cell on this device: about ` +
      `${fastest.ms.toPrecision(3)} ms predicted for ${formatCell(decodeCell(fastest.code))} ` +
      `(no cell is predicted below ${optimisticFastestMs.toPrecision(3)} ms even ${BUDGET_REFUSAL_SDS} sd ` +
      `faster than expected; fastest measured sample: ${measuredFastest.measuredMs.toPrecision(3)} ms); ` +
      `measurements were written to ${outDir ?? 'no folder (pass --out)'}`,
  );
}

/** The search problem on the fitted model: conservative latencies, and the budget or the knee. */
export function searchProblem(
  adapted: AdaptedDevice,
  scores: Float64Array,
  budgetMs: number | undefined,
): { problem: SearchProblem; budget: SearchResult['budget'] } {
  const { mean, std } = adapted.predicted;
  const conservative = Float64Array.from(mean, (m, code) => m + CONSERVATIVE_Z * std[code]!);
  // Cells without a score rank last (0 is the lowest normalized score); `runSearch` also drops
  // them from what it verifies and reports.
  const ranked = Float64Array.from(scores, (s) => (Number.isNaN(s) ? 0 : s));
  const budget =
    budgetMs !== undefined
      ? { ms: budgetMs, source: 'given' as const }
      : {
          ms: kneeBudget(scores, mean, Math.min(...adapted.samples.map((sample) => sample.measuredMs))),
          source: 'knee' as const,
        };
  return { problem: { taskScore: ranked, latencyMs: conservative, budgetMs: budget.ms }, budget };
}

/**
 * Relative sd between two live measurements of the same cell on an otherwise unchanged machine:
 * independent 40-60-round measurements differed by a median 0.7-2% (`simnas bench measure`),
 * which is a per-measurement sd of about 0.7-2.1% (median |difference| = 0.95 sd).
 */
export const LIVE_REPEATABILITY = 0.015;

/**
 * Relative sd of one measurement of each cell: for a recorded device, the noise it adds; live,
 * the standard error of the median from the cell's own per-run spread (1.2533 CV / sqrt(runs))
 * combined with the between-measurement drift that interleaving cannot remove.
 */
export function measurementNoise(spec: DeviceSpec, device: Device): number | Map<number, number> {
  if (spec.kind === 'table') return spec.noise;
  const live = device instanceof ReusingDevice ? device.inner : device;
  const noise = new Map<number, number>(device instanceof ReusingDevice ? device.noise : []);
  if (!(live instanceof LiveDevice)) return noise;
  for (const result of live.measurements) {
    for (const cell of result.cells) {
      const standardError = (1.2533 * cell.cv) / Math.sqrt(Math.max(1, cell.runs));
      noise.set(cell.code, Math.hypot(standardError, LIVE_REPEATABILITY));
    }
  }
  return noise;
}

/** The measured cells with the relative sd of their measurement, where it is known per cell. */
function withNoise(
  samples: readonly MeasuredCell[],
  verified: readonly VerifiedCell[],
  noise: number | ReadonlyMap<number, number>,
): { samples: MeasuredCell[]; verified: (VerifiedCell & Pick<MeasuredCell, 'relativeNoise'>)[] } {
  const noiseOf = (code: number): { relativeNoise?: number } => {
    const value = typeof noise === 'number' ? undefined : noise.get(code);
    return value === undefined ? {} : { relativeNoise: value };
  };
  return {
    samples: samples.map((cell) => ({ ...cell, ...noiseOf(cell.code) })),
    verified: verified.map((cell) => ({ ...cell, ...noiseOf(cell.code) })),
  };
}

/** One noise level for cells not measured yet: the median of those seen so far, or the live floor. */
function typicalNoise(noise: number | ReadonlyMap<number, number>): number {
  if (typeof noise === 'number') return noise;
  return noise.size > 0 ? median([...noise.values()]) : LIVE_REPEATABILITY;
}

export interface VerifyOptions {
  readonly verify: number;
  readonly scores: Float64Array;
  readonly budgetMs: number;
  /** Relative sd of a measurement (a number, or per cell code; see `measurementNoise`). */
  readonly noise: number | (() => number | ReadonlyMap<number, number>);
  /** Margin in measurement sds that a verified cell must clear; default DEFAULT_MARGIN_Z. */
  readonly marginZ?: number;
  /**
   * Refit the latency model after each verification measurement (the dataset's prior), so the
   * next choice learns from the last; without it, the sample fit's predictions are used throughout.
   */
  readonly refitDataset?: Dataset;
}

/**
 * Chooses the candidates to measure among the evaluated cells (the set with the best expected
 * certified score, see src/search/verification.ts), measures them and applies the
 * recommendation rule. The best sample already certified competes without a new measurement.
 */
export async function verifyCandidates(
  device: Device,
  adapted: AdaptedDevice,
  evaluations: Evaluations,
  options: VerifyOptions,
  logger: Logger,
): Promise<{
  verified: VerifiedCell[];
  measurementsSpent: number;
  measured: Map<number, number>;
  recommendation: Recommendation;
}> {
  const marginZ = options.marginZ ?? DEFAULT_MARGIN_Z;
  const noiseNow = (): number | ReadonlyMap<number, number> =>
    typeof options.noise === 'number' ? options.noise : options.noise();
  const measured = new Map(adapted.samples.map((s) => [s.code, s.measuredMs]));
  // One at a time: each outcome tells the next choice whether to be bolder or safer, and the
  // search stops early once no unmeasured cell could beat the best certified one.
  const toMeasure: number[] = [];
  let measurementsSpent = 0;
  let predicted = adapted.predicted;
  // Cells worth re-predicting after a refit: plausible under the sample fit (the refit moves
  // predictions by a fraction of their sd, not by many sds), so a refit costs milliseconds.
  const plausible = [...evaluations.keys()].filter(
    (code) =>
      !Number.isNaN(options.scores[code]!) &&
      adapted.predicted.mean[code]! - 3 * adapted.predicted.std[code]! <= options.budgetMs,
  );
  while (toMeasure.length < options.verify) {
    const noise = noiseNow();
    // The last measurement with no candidate certified yet: a likely pass beats one more bold bet.
    const lastChance =
      toMeasure.length === options.verify - 1 &&
      !toMeasure.some(
        (code) => measured.get(code)! <= certifiedThresholdMs(options.budgetMs, code, { noise, marginZ }),
      );
    const [next] = chooseCandidates({
      pool: evaluations.keys(),
      scores: options.scores,
      predicted,
      budgetMs: options.budgetMs,
      count: 1,
      margin: { noise, marginZ },
      expectedNoise: typicalNoise(noise),
      measured,
      ...(lastChance ? { minPass: LAST_CHANCE_MIN_PASS } : {}),
    });
    if (next === undefined) break;
    const result = await logger.group(
      `verifying candidate ${toMeasure.length + 1} by measuring it: ${formatCell(decodeCell(next))}`,
      () => device.measure([decodeCell(next)]),
    );
    toMeasure.push(next);
    measured.set(next, result.latenciesMs[0]!);
    measurementsSpent += result.measurementsSpent;
    if (options.refitDataset && toMeasure.length < options.verify) {
      // Only cells that could still beat the best certified one are candidates from here on.
      const floor =
        bestCertified(measured, options.scores, options.budgetMs, { noise: noiseNow(), marginZ })?.score ??
        -Infinity;
      const contenders = plausible.filter((code) => options.scores[code]! > floor && !measured.has(code));
      predicted = refitPredictions(measured, contenders, adapted.predicted, options.refitDataset);
    }
  }
  const margin = { noise: noiseNow(), marginZ };
  // The best certified sample competes for free; with none, the fastest sample is the fallback
  // (among samples that compute something, unless none does).
  const scored = adapted.samples.filter((s) => !Number.isNaN(options.scores[s.code]!));
  const computing = scored.filter((s) => computesSomething(s.code, options.scores));
  const extra =
    bestCertified(
      new Map(scored.map((s) => [s.code, s.measuredMs])),
      options.scores,
      options.budgetMs,
      margin,
    )?.code ??
    (computing.length > 0 ? computing : scored).reduce<MeasuredCell | undefined>(
      (fastest, s) => (!fastest || s.measuredMs < fastest.measuredMs ? s : fastest),
      undefined,
    )?.code;
  const candidates = [
    ...toMeasure.map((code) => ({ code, source: 'verification' as const })),
    ...(extra !== undefined ? [{ code: extra, source: 'sample' as const }] : []),
  ];
  const verified: VerifiedCell[] = candidates.map(({ code, source }) => ({
    code,
    cell: formatCell(decodeCell(code)),
    measuredMs: measured.get(code)!,
    predictedMs: adapted.predicted.mean[code]!,
    predictedStdMs: adapted.predicted.std[code]!,
    taskScore: options.scores[code]!,
    source,
  }));
  return {
    verified,
    measurementsSpent,
    measured,
    recommendation: recommend(verified, options.budgetMs, margin),
  };
}

/** Predictions of a model refitted to every measurement so far, for `codes`; others keep `base`. */
function refitPredictions(
  measured: ReadonlyMap<number, number>,
  codes: readonly number[],
  base: AdaptedDevice['predicted'],
  dataset: Dataset,
): AdaptedDevice['predicted'] {
  const codesMeasured = [...measured.keys()];
  const model = fitLatencyModel(
    {
      cells: codesMeasured.map((code) => decodeCell(code)),
      latenciesMs: codesMeasured.map((c) => measured.get(c)!),
    },
    { dataset },
  );
  const mean = Float64Array.from(base.mean);
  const std = Float64Array.from(base.std);
  const floor = predictionFloor(measured.values());
  for (const code of codes) {
    const prediction = model.predict(decodeCell(code));
    mean[code] = Math.max(prediction.meanMs, floor);
    std[code] = prediction.stdMs;
  }
  return { mean, std };
}

export async function runSearch(options: SearchJobOptions, logger: Logger): Promise<SearchResult> {
  const started = performance.now();
  const device = createDevice(options.device, options.dataset, options.seed, logger);
  // Everything that can be refused is checked before the first measurement.
  if (options.outDir) ensureWritableFolder(options.outDir, '--out');
  if (options.calibrationImages) {
    await folderImages(
      options.calibrationImages,
      DATASET_SHAPES[options.dataset].inputSize,
      DEFAULT_BATCH_SIZE,
    );
  }
  const strategy = resolveStrategy(options, logger);
  const controller =
    strategy === 'controller' ? loadController(options.controllerPath, options.dataset) : undefined;
  try {
    const fingerprint =
      options.device.kind === 'live' ? (options.fingerprint ?? (await hardwareFingerprint())) : undefined;
    if (fingerprint) logger.info(`hardware ${fingerprint.tag} [${fingerprint.hash}]`);
    // Scores first: a search with no scored cell is refused before anything is measured.
    const { scores: allScores, id: taskScoreId } = await (
      options.taskScores ?? defaultTaskScores(options, logger)
    )(options.dataset);
    const adapted = await adaptToDevice(device, options, logger);
    if (options.budgetMs !== undefined) checkBudget(adapted, options.budgetMs, options.outDir);
    const scores = measurableScores(allScores, device);
    if (controller && controller.artifact.metadata.taskScoreId !== taskScoreId) {
      logger.warn(
        `the controller was pretrained on task scores ${controller.artifact.metadata.taskScoreId}, these are ` +
          `${taskScoreId}; it still searches them, but 'simnas pretrain' again would match them`,
      );
    }
    const { problem, budget } = searchProblem(adapted, scores, options.budgetMs);
    const evaluations = runStrategy(
      { strategy, evaluations: options.evaluations },
      problem,
      controller,
      new Random(options.seed).child('strategy'),
    );
    for (const code of evaluations.keys()) if (Number.isNaN(scores[code]!)) evaluations.delete(code);
    logger.info(`${strategy}: evaluated ${evaluations.size} cells on the latency model`);
    const check = await verifyCandidates(
      device,
      adapted,
      evaluations,
      {
        verify: options.verify,
        scores,
        budgetMs: budget.ms,
        noise: () => measurementNoise(options.device, device),
        refitDataset: options.dataset,
      },
      logger,
    );
    writePartial(options.outDir, 'verified.json', { budgetMs: budget.ms, verified: check.verified });
    return {
      dataset: options.dataset,
      seed: options.seed,
      strategy,
      device: {
        kind: options.device.kind,
        name: device.name,
        ...(options.device.kind === 'table'
          ? { table: options.device.path, noise: options.device.noise }
          : {}),
      },
      ...(fingerprint ? { fingerprint } : {}),
      budget,
      ...withNoise(
        adapted.samples.map((sample) => ({ ...sample, taskScore: scores[sample.code]! })),
        check.verified,
        measurementNoise(options.device, device),
      ),
      measurements: {
        samples: adapted.measurementsSpent,
        verification: check.measurementsSpent,
        total: adapted.measurementsSpent + check.measurementsSpent,
        reused: device instanceof ReusingDevice ? device.reusedCount : 0,
      },
      cellsWithoutScore: scores.filter((s) => Number.isNaN(s)).length,
      latencyModel: adapted.fit,
      taskScoreId,
      ...(controller
        ? {
            controller: {
              ...controllerLocation(controller.path, options.dataset),
              sha256: controller.sha256,
              simnasVersion: controller.artifact.metadata.simnasVersion,
              taskScoreId: controller.artifact.metadata.taskScoreId,
              priorHash: controller.artifact.metadata.priorHash,
            },
          }
        : {}),
      settings: {
        samples: options.samples,
        verify: options.verify,
        evaluations: options.evaluations,
        computeMissingScores: options.computeMissingScores ?? false,
        ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
      },
      cellsEvaluated: evaluations.size,
      front: tradeoffFront(evaluations, check.measured, adapted.predicted, scores),
      recommendation: check.recommendation,
      ...protocolOf(device),
      wallMs: performance.now() - started,
    };
  } finally {
    controller?.policy.dispose();
  }
}

/** `auto` is the controller when one is given or bundled for the dataset, else evolution. */
export function resolveStrategy(
  options: Pick<SearchJobOptions, 'strategy' | 'controllerPath' | 'dataset'>,
  logger: Logger,
): StrategyName {
  if (options.strategy !== 'auto') return options.strategy;
  if (options.controllerPath || existsSync(bundledControllerPath(options.dataset))) return 'controller';
  logger.warn(`no pretrained controller is bundled for ${options.dataset}: searching with evolution`);
  return 'evolution';
}

export interface LoadedController {
  readonly path: string;
  /** SHA-256 of the artifact file, first 16 hex digits. */
  readonly sha256: string;
  readonly artifact: ControllerArtifact;
  readonly policy: ActorCritic;
}

/** Where a controller lay, as a report may publish it (see `SearchResult.controller.path`). */
export function controllerLocation(
  file: string,
  dataset: Dataset,
  cwd: string = process.cwd(),
): { path: string; bundled: boolean } {
  const absolute = path.resolve(cwd, file);
  if (absolute === bundledControllerPath(dataset)) {
    return { path: `controllers/${dataset}.json`, bundled: true };
  }
  const relative = path.relative(cwd, absolute);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return { path: inside ? relative.split(path.sep).join('/') : path.basename(absolute), bundled: false };
}

export function loadController(path: string | undefined, dataset: Dataset): LoadedController {
  const file = path ?? bundledControllerPath(dataset);
  if (!path && !existsSync(file)) {
    throw new UsageError(
      `no bundled controller for ${dataset} (${file}); pretrain one with 'simnas pretrain --dataset ${dataset}' ` +
        `and pass --controller, or choose --strategy evolution|random|exhaustive`,
    );
  }
  const artifact = readArtifact(file);
  checkCompatible(
    artifact.metadata,
    { dataset, priorHash: PRIOR_HASH, policy: policyShapeFor(artifact.metadata.policy.hidden) },
    file,
  );
  const policy = new ActorCritic(policyShapeFor(artifact.metadata.policy.hidden), new Random(0));
  policy.setWeights(artifact.weights);
  return { path: file, sha256: artifact.sha256, artifact, policy };
}

export function runStrategy(
  options: { readonly strategy: StrategyName; readonly evaluations: number },
  problem: SearchProblem,
  controller: LoadedController | undefined,
  random: Random,
): Evaluations {
  switch (options.strategy) {
    case 'exhaustive':
      return exhaustiveSearch(problem);
    case 'random':
      return randomSearch(problem, options.evaluations, random);
    case 'evolution':
      return evolutionSearch(problem, { cells: options.evaluations }, random);
    case 'controller':
      return hillClimb(
        problem,
        proposeCells(
          problem,
          controller!.policy,
          { episodes: CONTROLLER_EPISODES, steps: controller!.artifact.metadata.reward.stepsPerEpisode },
          random,
        ),
        CONTROLLER_CLIMB_STARTS,
      );
  }
}

/**
 * Controller episodes at deployment and the proposals a hill climb then settles on their local
 * optimum. In `simnas bench search` (HELP and HW-NAS-Bench devices, p25/p50/p75 budgets, 10
 * seeds) 64 episodes plus 16 climbs reached 99.3% / 99.1% of the exhaustive optimum of the same
 * objective with about 770 cells, mean regret 1.04/0.62/0.47 and 0.86/0.62/0.40 points, and lost
 * to random search at equal cells at p50 on HW-NAS-Bench; 32 climbs reach 99.5% / 99.4% with about
 * 1,100 cells, 1.02/0.60/0.42 and 0.80/0.57/0.36, ahead of random at every budget on both tables
 * (48, on 3 seeds: 99.7%, 1,420 cells, no better regret). On exact latencies 32 episodes without
 * climbing reached 96%.
 */
const CONTROLLER_EPISODES = 64;
const CONTROLLER_CLIMB_STARTS = 32;

function defaultTaskScores(
  options: SearchJobOptions,
  logger: Logger,
): (dataset: Dataset) => Promise<{ scores: Float64Array; id: string }> {
  const provider = ProxyProvider.create({
    ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
    logger,
  });
  return async (dataset) => {
    const partial = await provider.allTaskScores(dataset, { computeMissing: false });
    const missing = partial.scores.filter((s) => Number.isNaN(s)).length;
    if (missing === 0) return partial;
    if (!options.computeMissingScores) {
      // The table holds NASWOT on simnas's synthetic images: with a user's images every cell needs
      // its own NASWOT (synflow and logsynflow, which never see images, still come from the table).
      const why = options.calibrationImages
        ? `NASWOT on the images of --calibration-images is not in the proxy table`
        : `the proxy table lacks them`;
      const remedy = options.calibrationImages
        ? `pass --compute-missing-scores to compute NASWOT on those images (about 0.5 s per distinct network, ` +
          `${effectiveCodes().length.toLocaleString('en-US')} networks in all), or leave out --calibration-images`
        : `pass --compute-missing-scores to compute them (about 1 s per distinct network), or run ` +
          `'npm run proxies:build' once to complete the table`;
      if (missing === partial.scores.length) {
        throw new UsageError(`no cell has a task score for ${dataset}: ${why}; ${remedy}`);
      }
      logger.warn(
        `${missing} of ${partial.scores.length} cells have no task score for ${dataset} (${why}); the search ` +
          `covers only the other ${partial.scores.length - missing}. To cover them, ${remedy}.`,
      );
      return partial;
    }
    logger.warn(
      `computing the ${missing} cells the proxy table lacks for ${dataset} (about 1 s per distinct network)`,
    );
    return provider.allTaskScores(dataset);
  };
}

function protocolOf(device: Device): { protocol?: MeasurementResult['protocol'] } {
  const live = device instanceof ReusingDevice ? device.inner : device;
  const first = live instanceof LiveDevice ? live.measurements[0] : undefined;
  return first ? { protocol: first.protocol } : {};
}

/** The fastest cell with an input-to-output path (a disconnected cell is never recommended). */
function fastestCell(latencies: Float64Array): { code: number; ms: number } {
  let code = -1;
  for (let c = 0; c < latencies.length; c++) {
    if ((code < 0 || latencies[c]! < latencies[code]!) && isConnected(decodeCell(c))) code = c;
  }
  return { code, ms: latencies[code]! };
}

/**
 * Whether a cell may stand on a reported front or set the knee: it has a task score, and a path
 * from input to output. A disconnected cell computes a constant (chance accuracy), no network
 * anyone would deploy; left in, the all-`none` cell anchored the front's cheap end and dragged the
 * knee down to a cell of skip connections only (`npm start` on this machine: 0.15 ms, score 0.45 of
 * a front reaching 0.93).
 */
function onFront(code: number, scores: Float64Array): boolean {
  return !Number.isNaN(scores[code]!) && isConnected(decodeCell(code));
}

/**
 * The knee of the front predicted over every cell that may stand on it. Cells predicted faster
 * than the fastest measured sample are extrapolations (the design measures the cheapest kinds of
 * cell), and a target below every measurement could not be verified: the knee is taken among the
 * others.
 */
function kneeBudget(scores: Float64Array, latencies: Float64Array, fastestMeasuredMs: number): number {
  const points = Array.from(latencies, (latencyMs, code) => ({ code, latencyMs, taskScore: scores[code]! }));
  const candidates = points.filter((p) => p.latencyMs >= fastestMeasuredMs && onFront(p.code, scores));
  return kneePoint(paretoFront(candidates))?.latencyMs ?? fastestMeasuredMs;
}

/** The front over every evaluated cell, measured latencies replacing predictions where known. */
function tradeoffFront(
  evaluations: Evaluations,
  measured: ReadonlyMap<number, number>,
  predicted: { mean: Float64Array; std: Float64Array },
  scores: Float64Array,
): FrontPoint[] {
  const codes = new Set([...evaluations.keys(), ...measured.keys()].filter((code) => onFront(code, scores)));
  const points: FrontPoint[] = [...codes].map((code) => {
    const cell = formatCell(decodeCell(code));
    const measuredMs = measured.get(code);
    return measuredMs !== undefined
      ? { code, cell, latencyMs: measuredMs, latencySource: 'measured', taskScore: scores[code]! }
      : {
          code,
          cell,
          latencyMs: predicted.mean[code]!,
          latencySource: 'predicted',
          latencyStdMs: predicted.std[code]!,
          taskScore: scores[code]!,
        };
  });
  return paretoFront(points);
}

/** Writes what a run has so far, so a later failure loses none of it. */
function writePartial(outDir: string | undefined, name: string, value: unknown): void {
  if (!outDir) return;
  ensureWritableFolder(outDir, '--out');
  writeFileSync(path.join(outDir, name), `${JSON.stringify(value, null, 2)}\n`);
}
