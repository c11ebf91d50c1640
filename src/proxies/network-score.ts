// The task score of spaces without a precomputed proxy table (FBNet, NAS-Bench-Macro): the same
// weighted mix of terms as NB201's (terms.ts), each term a proxy placed on the space's own
// reference distribution. The reference is a seeded random sample of the space whose proxies are
// computed once and cached (network-proxies.ts); with a few dozen networks an empirical percentile
// would move in steps of 1/N and tie many architectures, so each term is Φ((v − mean) / sd) over
// the reference (a smooth percentile). The terms (weights below, chosen on NAS-Bench-Macro):
// - naswot: log|det K| (naswot.ts) of the network at initialisation, BatchNorm on batch
//   statistics. Unlike NB201's per-unit form it is taken raw: on Macro the ReLU units D grow with
//   the blocks that add accuracy, and naswot - B ln D ranks accuracy at Spearman 0.01 (half A).
// - relus: ReLU layers in the network, its depth in nonlinearities (an identity or skip layer adds
//   none). Alone it ranks Macro at 0.83 but ties whole groups; beside NASWOT it decides between
//   networks that NASWOT puts close (one more inverted-residual block against wider ones).
// The moments of log params and log FLOPs are kept for the benchmark's ablations (both are products
// of layer widths, so their logs are nearer normal).
import type { NetworkProxyValues } from './network-proxies.js';
import { combineTerms } from './terms.js';

/** Mean and standard deviation of one quantity over the reference sample. */
export interface Moments {
  readonly mean: number;
  readonly sd: number;
}

export interface NetworkScoreNormaliser {
  /** Reference networks the moments were taken over. */
  readonly size: number;
  readonly naswot: Moments;
  readonly logFlops: Moments;
  readonly logParams: Moments;
  readonly relus: Moments;
}

/**
 * Weights of the terms. Chosen on NAS-Bench-Macro half A (the architectures whose key's sha256
 * starts with an even byte; 756 of the first 1,468 networks of the benchmark's seeded order whose
 * proxies were computed, 2026-12-07) from the grid {0, 1/4, 1/2, 1, 2, 3, 4} for naswot, FLOPs and
 * relus and {0, 1/4, 1/2, 1} for params, by NB201's criterion: the mean FLOPs-constrained regret over
 * 19 budgets (p5..p95) plus penalties for Spearman below 0.8 and a top-1 miss above 0.5 points.
 * Half B and the whole table are the checks (`simnas bench proxies --space macro`). The optimum is
 * flat: naswot : relus from 1 : 2 to 1 : 16 gives a mean regret of 0.233-0.234 points; the
 * smallest relus share was kept. FLOPs and params earn weight 0 (a quarter of NASWOT's weight
 * beside these two: 0.289 and 0.286), and NB201's ratio (naswot 1 : params 2, nb201RatioScore)
 * ranks half A at Spearman 0.59 with a mean regret of 3.9 points.
 * The terms were normalised over 64 reference networks then (16 since: the same picks, see
 * NETWORK_REFERENCE_SIZE). No FBNet architecture has a trained accuracy: FBNet uses these Macro weights.
 */
export const NETWORK_SCORE_WEIGHTS = {
  naswot: 1,
  relus: 2,
} as const;

export const NETWORK_SCORE_FORMULA =
  '(Φz(naswot) + 2 Φz(relus)) / 3; Φz(v) = Φ((v - mean) / sd) over a seeded random sample of the space; ' +
  'naswot: log|det K| at batch 32 with BatchNorm on batch statistics; relus: ReLU layers in the network';

function momentsOf(values: readonly number[]): Moments {
  const finite = values.filter(Number.isFinite);
  const mean = finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length);
  const variance = finite.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, finite.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

/** The normaliser of a reference sample (NASWOT −∞, a singular kernel, is left out of its moments). */
export function networkNormaliserOf(reference: readonly NetworkProxyValues[]): NetworkScoreNormaliser {
  if (reference.length < 2) throw new RangeError('the task score needs at least 2 reference networks');
  return {
    size: reference.length,
    naswot: momentsOf(reference.map((v) => v.naswot)),
    logFlops: momentsOf(reference.map((v) => Math.log(v.flopsM))),
    logParams: momentsOf(reference.map((v) => Math.log(v.paramsM))),
    relus: momentsOf(reference.map((v) => v.relus)),
  };
}

/** Φ((value − mean) / sd): where `value` falls on a normal fitted to the reference, in [0, 1]. */
export function smoothPercentile(value: number, { mean, sd }: Moments): number {
  if (value === Number.NEGATIVE_INFINITY) return 0;
  if (!(sd > 0)) return value > mean ? 1 : value < mean ? 0 : 0.5;
  return 0.5 * (1 + erf((value - mean) / sd / Math.SQRT2));
}

/** The task score of a network with proxy `values` (see the header and NETWORK_SCORE_FORMULA). */
export function networkTaskScore(values: NetworkProxyValues, normaliser: NetworkScoreNormaliser): number {
  const w = NETWORK_SCORE_WEIGHTS;
  return combineTerms([
    [w.naswot, smoothPercentile(values.naswot, normaliser.naswot)],
    [w.relus, smoothPercentile(values.relus, normaliser.relus)],
  ]);
}

/**
 * NB201's ratio of NASWOT to capacity (4 : 8) carried over to a layered space, params placed like
 * the other terms: the benchmark's ablation, not a rule simnas uses.
 */
export function nb201RatioScore(values: NetworkProxyValues, normaliser: NetworkScoreNormaliser): number {
  return combineTerms([
    [4, smoothPercentile(values.naswot, normaliser.naswot)],
    [8, smoothPercentile(Math.log(values.paramsM), normaliser.logParams)],
  ]);
}

/** Error function (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly =
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign * (1 - poly * Math.exp(-x * x));
}
