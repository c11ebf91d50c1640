// The one way every task score is put together, in every space: terms, each a value in [0, 1]
// (a percentile against a reference distribution of the space, or a structural fraction) with a
// weight, averaged by weight. NB201's rule (score.ts) and the layered spaces' rule
// (network-score.ts) are lists of such terms.

/** One term of a task score: [weight, value in 0..1]. */
export type ScoreTerm = readonly [weight: number, value: number];

/** The weighted mean of the terms' values, in [0, 1] (terms summed in the order given). */
export function combineTerms(terms: readonly ScoreTerm[]): number {
  let sum = 0;
  let total = 0;
  for (const [weight, value] of terms) {
    sum += weight * value;
    total += weight;
  }
  return sum / total;
}

/** A weighted empirical distribution: sorted values and the running total of their weights. */
export interface Distribution {
  readonly values: Float64Array;
  readonly cumulative: Float64Array;
}

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
