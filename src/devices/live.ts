// The live device: this machine, measured with onnxruntime-node through the hardware module's
// protocol (interleaved rounds, medians, re-measures of noisy cells). Each measure() call is one
// protocol run over the requested cells; its protocol record is kept for reports.
import {
  DEFAULT_MEASURE_OPTIONS,
  measureCells,
  type MeasureOptions,
  type MeasurementResult,
} from '../hardware/measure.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import type { Device, Measurement } from './device.js';

export interface LiveDeviceOptions {
  /** The space of the architectures measured (an enumerable one: results are keyed by code). */
  readonly space: SearchSpace;
  readonly name?: string;
  readonly measure?: Partial<MeasureOptions>;
  readonly logger?: Logger;
}

/**
 * Relative sd between two live measurements of the same cell on an otherwise unchanged machine:
 * independent 40-60-round measurements differed by a median 0.7-2% (`simnas bench measure`),
 * which is a per-measurement sd of about 0.7-2.1% (median |difference| = 0.95 sd).
 */
export const LIVE_REPEATABILITY = 0.015;

export class LiveDevice implements Device {
  readonly kind = 'live' as const;
  readonly name: string;
  private readonly options: MeasureOptions;
  private readonly logger: Logger | undefined;
  private readonly space: SearchSpace;
  private results: MeasurementResult[] = [];

  constructor(options: LiveDeviceOptions) {
    this.space = options.space;
    this.name = options.name ?? 'this machine';
    this.options = { ...DEFAULT_MEASURE_OPTIONS, ...options.measure };
    this.logger = options.logger;
  }

  /** Protocol records of every measurement made so far, oldest first. */
  get measurements(): readonly MeasurementResult[] {
    return this.results;
  }

  get protocol(): MeasurementResult['protocol'] | undefined {
    return this.results[0]?.protocol;
  }

  /**
   * Per measured cell: the standard error of the median from the cell's own per-run spread
   * (1.2533 CV / sqrt(runs)) combined with the between-measurement drift that interleaving cannot
   * remove.
   */
  measurementNoise(): Map<number, number> {
    const noise = new Map<number, number>();
    for (const result of this.results) {
      for (const cell of result.cells) {
        const standardError = (1.2533 * cell.cv) / Math.sqrt(Math.max(1, cell.runs));
        noise.set(cell.code, Math.hypot(standardError, LIVE_REPEATABILITY));
      }
    }
    return noise;
  }

  async measure(cells: readonly Architecture[]): Promise<Measurement> {
    const result = await measureCells(cells, this.options, {
      space: this.space,
      ...(this.logger ? { logger: this.logger } : {}),
    });
    this.results.push(result);
    const byCode = new Map(result.cells.map((latency) => [latency.code, latency.medianMs]));
    const latenciesMs = Float64Array.from(cells, (cell) => {
      const value = byCode.get(this.space.code(cell));
      if (value === undefined)
        throw new Error(`live measurement returned no latency for cell code ${this.space.code(cell)}`);
      return value;
    });
    return { latenciesMs, measurementsSpent: cells.length };
  }
}
