// The task score: one number per cell that ranks architectures by expected accuracy, from the
// training-free proxies. Rule (FreeREA's three-proxy equal-weight mix, with rank normalisation;
// small, and not fitted to any accuracy table):
//   score = ( P(naswot) + P(logsynflow) + skip / 2 ) / 3
// where P(v) is the fraction of the search space's cells whose value is below v (mid-rank for
// ties), read from the precomputed table for the dataset; skip / 2 uses skip's analytic range
// [0, 2]. A disconnected cell (naswot -Infinity: it computes nothing) scores 0.
//
// Why ranks rather than FreeREA's min-max: min-max makes each proxy's effective weight depend on
// its outliers (a few degenerate cells with very low NASWOT squeeze every other cell into a narrow
// band, so the coarse skip term decides almost everything); ranks give each proxy its nominal
// equal weight. NASWOT measures how distinctly the untrained network separates inputs
// (expressivity), logsynflow how much signal flows through its parameters (trainability), skip
// rewards the long residual paths that make deep cells easy to optimise.
// A cell outside a partial table is placed on the table's distribution (an unbiased sample of the
// space, see build.ts), so on-demand and table cells are scored alike. The min-max rule stays
// available (minMaxTaskScore) for comparison in the benchmark.
import type { ProxyValues } from './compute.js';
import { SKIP_RANGE } from './skip.js';

export type Bounds = readonly [number, number];

export interface ScoreBounds {
  readonly naswot: Bounds;
  readonly logsynflow: Bounds;
}

/** A weighted empirical distribution: sorted values and the running total of their weights. */
export interface Distribution {
  readonly values: Float64Array;
  readonly cumulative: Float64Array;
}

export interface ScoreNormaliser {
  readonly naswot: Distribution;
  readonly logsynflow: Distribution;
}

export const TASK_SCORE_FORMULA =
  'mean(P(naswot), P(logsynflow), skip / 2); P = fraction of the space below (mid-rank), from the proxy table';

export const MIN_MAX_TASK_SCORE_FORMULA = 'mean(minmax(naswot), minmax(logsynflow), skip / 2) (FreeREA)';

/** The distribution of the finite `values`, each counted `weights[i]` times (default once). */
export function distributionOf(values: readonly number[], weights?: readonly number[]): Distribution {
  const order = values
    .map((_, i) => i)
    .filter((i) => Number.isFinite(values[i]))
    .sort((a, b) => values[a]! - values[b]!);
  const sorted = Float64Array.from(order, (i) => values[i]!);
  const cumulative = new Float64Array(order.length);
  let total = 0;
  order.forEach((i, k) => {
    total += weights?.[i] ?? 1;
    cumulative[k] = total;
  });
  return { values: sorted, cumulative };
}

/** Fraction of the distribution's weight below `value`, ties counting half: in [0, 1]. */
export function percentile({ values, cumulative }: Distribution, value: number): number {
  const n = values.length;
  if (n === 0) return 0;
  const firstAtLeast = lowerBound(values, value, false);
  const firstAbove = lowerBound(values, value, true);
  const below = firstAtLeast > 0 ? cumulative[firstAtLeast - 1]! : 0;
  const upTo = firstAbove > 0 ? cumulative[firstAbove - 1]! : 0;
  return (below + upTo) / 2 / cumulative[n - 1]!;
}

/** First index whose value is >= target (or > target when `strictly`). */
function lowerBound(values: Float64Array, target: number, strictly: boolean): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (values[mid]! < target || (strictly && values[mid]! === target)) low = mid + 1;
    else high = mid;
  }
  return low;
}

export function taskScore(values: ProxyValues, normaliser: ScoreNormaliser): number {
  // A disconnected cell computes nothing (chance accuracy): the lowest score, exactly.
  if (values.naswot === Number.NEGATIVE_INFINITY) return 0;
  return (
    (percentile(normaliser.naswot, values.naswot) +
      percentile(normaliser.logsynflow, values.logsynflow) +
      minMax(values.skip, SKIP_RANGE)) /
    3
  );
}

export function minMax(value: number, [low, high]: Bounds): number {
  if (value === Number.NEGATIVE_INFINITY) return 0;
  return high > low ? (value - low) / (high - low) : 0;
}

/** FreeREA's reference rule: min-max normalised equal-weight mix (for comparison). */
export function minMaxTaskScore(values: ProxyValues, bounds: ScoreBounds): number {
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
