// The live device: this machine, measured with onnxruntime-node through the hardware module's
// protocol (interleaved rounds, medians, re-measures of noisy cells). Each measure() call is one
// protocol run over the requested cells; its protocol record is kept for reports.
import {
  conditionOf,
  DEFAULT_MEASURE_OPTIONS,
  measureCells,
  type MeasurementCondition,
  type MeasureOptions,
  type MeasurementResult,
} from '../hardware/measure.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import type { Device, Measurement } from './device.js';

export interface LiveDeviceOptions {
  readonly space: SearchSpace;
  /**
   * The number `measurementNoise` keys an architecture by (default the space's code; a space too
   * large for codes needs the job's numbering, src/spaces/numbering.ts).
   */
  readonly numberOf?: (architecture: Architecture) => number;
  readonly name?: string;
  readonly measure?: Partial<MeasureOptions>;
  readonly logger?: Logger;
  /** Anchors and window of measurements after the first (defaults FOLLOW_UP_*; anchors 0 turns them off). */
  readonly followUp?: { readonly anchors: number; readonly windowMs: number | undefined };
}

/**
 * Relative sd of a live measurement beyond what its own spread and the anchors show, added in
 * quadrature to each cell's noise. Set before measuring, not tuned; the check is `simnas bench
 * certify --trials 10` on this idle 2-core VM: the noise verifications claimed (median 3.0% at
 * load 0, 3.3% with one busy process) matched their real spread against a long reference
 * measurement (3.0% and 3.0%), and none read faster than the reference by 1.645 claimed sds.
 */
export const LIVE_REPEATABILITY = 0.01;

/**
 * What one verification's latency really scatters by on an idle machine, measured (the same
 * `bench certify` run: 3.0% against the reference at load 0 and at load 1; a later run with the
 * wall time capped, 1.6% and 1.5%): the replay noise `simnas bench search` defaults to, the larger
 * of the two, so that its figures are what the live protocol can be counted on to do.
 * Was 4.5%, measured with the protocol before anchors both ways.
 */
export const MEASURED_VERIFICATION_NOISE = 0.03;

/**
 * How unevenly the machine's drift hits different networks before any anchors were seen, as a
 * pseudo-observation with this many degrees of freedom: with three anchors a single verification's
 * own dispersion (2 degrees of freedom) is too rough to trust alone, and a calm-looking first
 * one would certify on it. Not tuned.
 */
const PRIOR_DISPERSION = 0.02;
const PRIOR_DISPERSION_DF = 4;

/**
 * How measurements after the first (the verification of candidates, one at a time) are made: with
 * this many sample cells re-measured alongside as drift anchors, over a window of this length.
 * 1.5 s keeps a verified candidate within the 2 s a certification may cost, and gives a
 * sub-millisecond network some 40 visits beside three anchors (a 1% standard error of its median on
 * a quiet machine). Three anchors rather than two: the drift's error falls as 1/sqrt(anchors), and
 * each verification adds one degree of freedom per anchor beyond the first to the dispersion the
 * noise is judged by (two anchors gave it one); a fourth would take a quarter of the candidate's
 * visits. Not tuned.
 */
export const FOLLOW_UP_ANCHORS = 3;
export const FOLLOW_UP_WINDOW_MS = 1500;

/**
 * The wall time a measurement after the first may take, build and warm-up included: the window is
 * a target the runs are sized for when the network is warm, and under load they run slower than
 * sized (`bench certify`: a median 2.7 s per verification with two busy processes). Past this, the
 * rounds stop (never before MIN_ROUNDS) and the fewer visits' standard error says how much less is
 * known. The issue's 2 s per verified candidate, less a round's overshoot; not tuned.
 */
export const FOLLOW_UP_TIME_BUDGET_MS = 1900;

export class LiveDevice implements Device {
  readonly kind = 'live' as const;
  readonly name: string;
  private readonly options: MeasureOptions;
  private readonly logger: Logger | undefined;
  private readonly followUp: NonNullable<LiveDeviceOptions['followUp']>;
  private readonly space: SearchSpace;
  private readonly numberOf: (architecture: Architecture) => number;
  private results: MeasurementResult[] = [];
  /** The architecture behind each result cell, in the order of `results` and their cells. */
  private readonly measured: Architecture[][] = [];

  constructor(options: LiveDeviceOptions) {
    this.space = options.space;
    this.numberOf = options.numberOf ?? ((architecture) => options.space.code(architecture));
    this.name = options.name ?? 'this machine';
    this.options = { ...DEFAULT_MEASURE_OPTIONS, ...options.measure };
    this.logger = options.logger;
    this.followUp = options.followUp ?? { anchors: FOLLOW_UP_ANCHORS, windowMs: FOLLOW_UP_WINDOW_MS };
  }

  /** Protocol records of every measurement made so far, oldest first. */
  get measurements(): readonly MeasurementResult[] {
    return this.results;
  }

  get conditions(): MeasurementCondition[] {
    return this.results.map(conditionOf);
  }

  get protocol(): MeasurementResult['protocol'] | undefined {
    return this.results[0]?.protocol;
  }

  /**
   * How unevenly the machine's drift hit different networks over this job's measurements: the
   * anchors' dispersion, pooled over every measurement with anchors so far and the prior (alone
   * before the first: what a verification not made yet is expected to suffer).
   */
  dispersion(): number {
    let squares = PRIOR_DISPERSION_DF * PRIOR_DISPERSION ** 2;
    let df = PRIOR_DISPERSION_DF;
    for (const result of this.results) {
      const anchoring = result.protocol.anchoring;
      if (!anchoring || anchoring.anchors.length < 2) continue;
      squares += (anchoring.anchors.length - 1) * anchoring.dispersion ** 2;
      df += anchoring.anchors.length - 1;
    }
    return Math.sqrt(squares / df);
  }

  /**
   * Per measured cell, the relative sd of its latency on the job's scale: the standard error of its
   * median (from its own spread over visits, and the anchors' drift where there were anchors), the
   * anchors' dispersion (a network's own response to the machine's drift differs from the anchors'
   * median by about as much as the anchors differ from each other: measured under load, noise
   * claimed without it was 1.5-2.7 times too small, with it 1.1-1.2) and the floor.
   */
  measurementNoise(): Map<number, number> {
    const dispersion = this.dispersion();
    const noise = new Map<number, number>();
    this.results.forEach((result, r) =>
      result.cells.forEach((cell, i) =>
        noise.set(
          this.numberOf(this.measured[r]![i]!),
          Math.hypot(cell.standardError, dispersion, LIVE_REPEATABILITY),
        ),
      ),
    );
    return noise;
  }

  async measure(cells: readonly Architecture[]): Promise<Measurement> {
    // Every cell measured so far, with its latency: the pool anchors are drawn from.
    const earlier = this.results.flatMap((result, r) =>
      result.cells.map((latency, i) => ({ architecture: this.measured[r]![i]!, medianMs: latency.medianMs })),
    );
    const followingUp = earlier.length > 0;
    const result = await measureCells(
      cells,
      // A verification does not re-measure: its standard error (and the floor) already say how
      // well it is known, and re-measuring under load doubled its wall time (4.3 s at load 2).
      followingUp
        ? {
            ...this.options,
            windowMs: this.followUp.windowMs,
            maxRemeasures: 0,
            timeBudgetMs: Math.min(this.options.timeBudgetMs ?? Infinity, FOLLOW_UP_TIME_BUDGET_MS),
          }
        : this.options,
      {
        space: this.space,
        ...(this.logger ? { logger: this.logger } : {}),
        ...(followingUp && this.followUp.anchors > 0
          ? { anchors: { cells: earlier, count: this.followUp.anchors } }
          : {}),
      },
    );
    if (result.cells.length !== cells.length) {
      throw new Error(
        `live measurement returned ${result.cells.length} latencies for ${cells.length} networks`,
      );
    }
    this.results.push(result);
    this.measured.push([...cells]);
    return {
      latenciesMs: Float64Array.from(result.cells, (latency) => latency.medianMs),
      measurementsSpent: cells.length,
    };
  }
}
