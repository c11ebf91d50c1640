// The task score: one number per cell that ranks architectures by expected accuracy, from the
// training-free proxies. Rule (FreeREA's reference mix, kept deliberately small and not fitted to
// any accuracy table): min-max normalise NASWOT, logsynflow and skip with fixed bounds and average
// them with equal weights. NASWOT measures how distinctly the untrained network separates inputs
// (expressivity), logsynflow how much signal flows through its parameters (trainability), and skip
// rewards the long residual paths that make deep cells easy to optimise; skip is the tie-breaker
// among cells the other two rate alike.
//
// Bounds: naswot and logsynflow use the min and max over the precomputed table for the dataset
// (stored in its metadata, so a cell computed on demand is normalised exactly like a table cell;
// it may land slightly outside [0, 1]); skip uses its analytic range [0, 2]. A disconnected cell
// (naswot -Infinity) scores 0.
import type { ProxyValues } from './compute.js';
import { SKIP_RANGE } from './skip.js';

export type Bounds = readonly [number, number];

export interface ScoreBounds {
  readonly naswot: Bounds;
  readonly logsynflow: Bounds;
}

export const TASK_SCORE_FORMULA =
  'mean(minmax(naswot), minmax(logsynflow), skip / 2), bounds from the proxy table of the dataset';

export function minMax(value: number, [low, high]: Bounds): number {
  if (value === Number.NEGATIVE_INFINITY) return 0;
  return high > low ? (value - low) / (high - low) : 0;
}

export function taskScore(values: ProxyValues, bounds: ScoreBounds): number {
  // A disconnected cell computes nothing (chance accuracy): the lowest score, exactly.
  if (values.naswot === Number.NEGATIVE_INFINITY) return 0;
  return (
    (minMax(values.naswot, bounds.naswot) +
      minMax(values.logsynflow, bounds.logsynflow) +
      minMax(values.skip, SKIP_RANGE)) /
    3
  );
}

/** Bounds over a set of values (finite ones only). */
export function boundsOf(values: Iterable<number>): Bounds {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return low <= high ? [low, high] : [0, 0];
}
