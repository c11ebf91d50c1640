// The one interface every latency source implements (live hardware, a recorded table, a synthetic
// device), so the controller, the search and the latency model never care which they talk to.
import type { MeasurementCondition, MeasurementResult } from '../hardware/measure.js';
import type { Architecture } from '../spaces/space.js';

export type DeviceKind = 'live' | 'recorded' | 'synthetic';

/** Latencies in milliseconds, in the order of the cells asked for. */
export interface Measurement {
  readonly latenciesMs: Float64Array;
  /** How many real measurements this call cost (0 for a synthetic device). */
  readonly measurementsSpent: number;
}

export interface Device {
  readonly name: string;
  readonly kind: DeviceKind;
  measure(cells: readonly Architecture[]): Promise<Measurement>;
  /**
   * Whether `measure` can answer for `cell`; absent means every cell. A recorded table may have
   * holes (HW-NAS-Bench's Edge TPU column lacks 4,699 cells), and the search must neither sample
   * nor recommend what it could never verify.
   */
  hasData?(cell: Architecture): boolean;
  /**
   * The relative sd of a measurement: one number for every cell (a recorded table replayed with
   * noise), or per cell code for the cells measured so far (live hardware, from each cell's own
   * spread). Absent: unknown.
   */
  measurementNoise?(): number | ReadonlyMap<number, number>;
  /** Cells answered from earlier measurements of this hardware (a warm cache) instead of measured. */
  readonly reusedCount?: number;
  /** Per live measurement call so far (samples first, then each verification), for reports. */
  readonly conditions?: readonly MeasurementCondition[];
  /** How the first live measurement was made, for reports. */
  readonly protocol?: MeasurementResult['protocol'];
}
