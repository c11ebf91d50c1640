// The search job's options and results (stage 2 of the method: measure the sample cells, fit the
// latency model, search with the chosen strategy, verify the best candidates by measuring them,
// recommend): what the front ends pass in and get back, and what the stages hand each other.
import { DEFAULT_SAMPLE_COUNT } from '../devices/design.js';
import type { HardwareFingerprint } from '../hardware/fingerprint.js';
import type { MeasureOptions, MeasurementCondition, MeasurementResult } from '../hardware/measure.js';
import type { FrontPoint } from '../search/front.js';
import type { Recommendation, VerifiedCell } from '../search/recommend.js';
import type { StrategyChoice, StrategyName } from '../search/strategies.js';
import type { Architecture, PublicForm, SearchSpace } from '../spaces/space.js';
import type { LatencyModel } from '../devices/latency-model.js';
import type { TaskScorer } from '../proxies/task-scorer.js';

export type { FrontPoint } from '../search/front.js';

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
  /** The search space: every architecture is parsed, coded, named and built through it. */
  readonly space: SearchSpace;
  readonly dataset: string;
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
  /**
   * Distinct architectures random search, evolution and local search may evaluate (default
   * `defaultEvaluations(space)`: task scores are free in a space with a proxy table, a network's
   * forward pass each elsewhere).
   */
  readonly evaluations?: number;
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
  readonly taskScores?: (dataset: string) => Promise<{ scores: Float64Array; id: string }>;
  /** Replaces the on-demand scorer of spaces without a proxy table (tests: a smaller reference sample). */
  readonly taskScorer?: TaskScorer;
}

export const DEFAULT_SEARCH: Omit<SearchJobOptions, 'space' | 'dataset' | 'device'> = {
  samples: DEFAULT_SAMPLE_COUNT,
  verify: 5,
  strategy: 'auto',
  seed: 0,
};

export interface MeasuredCell {
  readonly code: number;
  readonly cell: string;
  readonly measuredMs: number;
  readonly taskScore?: number;
  /** Relative sd of this measurement (live devices), which a warm cache must restore with it. */
  readonly relativeNoise?: number;
}

/** A well-known design of the space (SearchSpace.references), measured beside the recommendation. */
export interface MeasuredReference {
  readonly name: string;
  readonly cell: string;
  readonly source: string;
  readonly measuredMs: number;
  /** null where the design has no task score (not in the proxy table). */
  readonly taskScore: number | null;
}

export interface SearchResult {
  /** The search space's id (reports before spaces were pluggable lack it: NB201). */
  readonly space?: string;
  readonly dataset: string;
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
  readonly budget: {
    readonly ms: number;
    readonly source: 'given' | 'knee';
    /** Knee targets: the knee cell's predicted latency, before room for the margin and rounding. */
    readonly kneeMs?: number;
  };
  readonly samples: readonly MeasuredCell[];
  readonly verified: readonly (VerifiedCell & Pick<MeasuredCell, 'relativeNoise'>)[];
  readonly measurements: {
    readonly samples: number;
    readonly verification: number;
    readonly total: number;
    /** Cells answered from earlier measurements of this hardware (a warm cache), not measured again. */
    readonly reused: number;
    /** The well-known designs measured beside the recommendation: not part of the method's 10 + 5. */
    readonly references?: number;
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
  /** The recommended architecture in the form the space's public model definition takes. */
  readonly recommendation: Recommendation & { readonly publicForm?: PublicForm };
  /** The space's well-known designs, measured on the same device after verification. */
  readonly references?: readonly MeasuredReference[];
  readonly protocol?: MeasurementResult['protocol'];
  /** Live devices: the conditions of every measurement call (samples first, then verifications). */
  readonly conditions?: readonly MeasurementCondition[];
  readonly wallMs: number;
}

/** A device after stage 2's first step: its samples measured and the latency model fitted. */
export interface AdaptedDevice {
  readonly samples: readonly MeasuredCell[];
  readonly measurementsSpent: number;
  readonly fit: LatencyFitSummary;
  /** By architecture number (see src/spaces/numbering.ts): every code, or the architectures met so far. */
  readonly predicted: { readonly mean: Float64Array; readonly std: Float64Array };
  /** The model fitted this run (absent where a cached fit's predictions were reused). */
  readonly model?: LatencyModel;
}

/** What a report says about the fitted latency model. */
export type LatencyFitSummary = SearchResult['latencyModel'];

/**
 * A fitted latency model as a cache keeps it: the samples it was fitted to and its predictions.
 * Fitting builds the prior's weight bank (seconds); a warm run with the very same samples reuses it.
 */
export interface AdaptationRecord {
  readonly dataset: string;
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

export interface VerifyOptions {
  readonly space: SearchSpace;
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
  readonly refitDataset?: string;
  /**
   * The architecture behind a code; default `space.fromCode`. A space that cannot be enumerated
   * numbers the architectures its search scored (and its samples) and verifies those numbers.
   */
  readonly architectureOf?: (code: number) => Architecture;
  /** Fits the latency model the refits use; default NB201's model with `refitDataset`'s prior. */
  readonly fitModel?: (samples: { cells: Architecture[]; latenciesMs: number[] }) => LatencyModel;
  /**
   * Without a budget, the knee of a front predicted over every architecture (by number): measured
   * first, and recommended whenever it is certified within the target (see recommend.ts).
   */
  readonly knee?: number;
}
