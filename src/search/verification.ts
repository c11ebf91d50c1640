// Which cells to spend the few verification measurements on, and when a measurement certifies a
// cell as within budget. Both rest on one rule: a measurement is itself noisy (relative sd
// `noise`), so a cell counts as fitting only when its measurement clears the budget by `marginZ`
// of that noise. The candidates are then the set whose expected best certified task score is
// highest under the latency model's predictive distribution, so the few measurements cover
// several risk levels (a bold cell near the budget, a safer one below it) instead of five near
// copies of the same bet. A cell that computes nothing (no input-to-output path, or a task score
// of 0) is never a bet and never certified: it would spend a measurement on a network nobody ships.
import type { Usable } from './front.js';

/** How far a measurement must clear the budget: `marginZ` sds of a measurement's relative noise. */
export interface MeasurementMargin {
  /** Relative sd of one verification measurement (0.03 = 3%), for every cell or per cell code. */
  readonly noise: number | ReadonlyMap<number, number>;
  readonly marginZ: number;
}

/**
 * One-sided z of the measurement margin: a cell whose true latency is exactly the budget passes
 * verification with probability 5%, one further over much less often. Chosen with
 * `simnas bench search` (violations against regret, z in 0..2).
 */
export const DEFAULT_MARGIN_Z = 1.645;

/** The relative noise of a measurement of `code` under `margin` (0 where it is not known). */
export function noiseOf(margin: MeasurementMargin, code: number): number {
  return typeof margin.noise === 'number' ? margin.noise : (margin.noise.get(code) ?? 0);
}

/** The latency a measurement of `code` must not exceed to certify it within `budgetMs`. */
export function certifiedThresholdMs(budgetMs: number, code: number, margin: MeasurementMargin): number {
  const noise = noiseOf(margin, code);
  // Noise is multiplicative (log-normal), so the margin is a factor, not an offset.
  return budgetMs * Math.exp(-margin.marginZ * noise);
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 on erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export interface CandidateChoice {
  /** Cells a strategy evaluated (the pool to choose from). */
  readonly pool: Iterable<number>;
  /** Task score per cell code; NaN = unscored and 0 = computes nothing: never chosen. */
  readonly scores: Float64Array;
  /** Predictive latency per cell code (of a fresh measurement): mean and sd in ms. */
  readonly predicted: { readonly mean: Float64Array; readonly std: Float64Array };
  readonly budgetMs: number;
  /** New cells to measure. */
  readonly count: number;
  /** Certifies the cells measured already. */
  readonly margin: MeasurementMargin;
  /** Relative noise sd expected of a measurement of a cell not measured yet. */
  readonly expectedNoise: number;
  /** Cells measured already (the samples), by code: free candidates whose outcome is known. */
  readonly measured?: ReadonlyMap<number, number>;
  /** Only cells at least this likely to be certified (when any is); default: any chance at all. */
  readonly minPass?: number;
  /** Which cells compute something from their input (`SearchSpace.isUsable`, by code). */
  readonly usable: Usable;
  /** How many predictive sds slower than predicted a candidate is taken to be (SELECTION_BIAS_SDS). */
  readonly selectionBiasSds?: number;
}

/**
 * The optimizer's curse: the candidates are the cells with the highest scores that the model
 * predicts to fit, so they are disproportionately the cells whose latency the model underestimates.
 * Replaying the search on the HELP table (cifar10, 8 devices, 3 budgets, exhaustive, one seed, 117
 * verifications): bets the sample fit gave a 31% chance to pass passed 3% of the time, those given
 * 93% passed 60%, and their true latency sat 0.57 predictive sds above the prediction on average;
 * four or five bold bets measured at 0.98-1.08 of the budget failed together while the cell the
 * exact-latency-margin reference picks went unmeasured. Each candidate's chance to pass is
 * therefore judged as if it were this many sds slower than predicted.
 * Chosen looking at the HELP table, cifar10, 20 devices x 2 seeds, exhaustive strategy, 4.5% noise
 * (0, 0.25, 0.5 tried): mean accuracy regret p25/p50/p75 1.262/0.741/0.377 -> 1.113/0.612/0.391
 * (0.5: 1.163/0.613/0.388; the exact-latency-margin reference: 1.350/0.589/0.374). Checks it was
 * not chosen on: HW-NAS-Bench's 5 columns, 3 seeds: 0.872/0.366/0.307 -> 0.844/0.388/0.306;
 * HELP cifar100, 20 devices x 1 seed: 2.158/1.283/0.955 -> 2.437/1.164/0.773. Neutral on the
 * checks (means 0.515 -> 0.513 and 1.465 -> 1.458), better where it was chosen.
 */
export const SELECTION_BIAS_SDS = 0.25;

/**
 * The last verification measurement, when none before it certified a candidate, goes to a cell at
 * least this likely to pass. The greedy choice assumes the model's errors are independent, but a
 * model that is wrong about one bold cell is wrong about its neighbours too: on a device whose
 * intervals were 40-60% wide (this machine recorded under load with `simnas measure-table`) all
 * five bets failed together and the pick fell back to a sample 13 points worse. `simnas bench
 * search`, controller, 10 seeds, mean regret p25/p50/p75: that device 0.57/6.83/0.91 ->
 * 0.57/2.26/0.91; HELP unchanged (1.02/0.60/0.42, 0.83% violations); HW-NAS-Bench 0.80/0.57/0.36
 * -> 0.80/0.56/0.36, no violations. One value tried, not tuned.
 */
export const LAST_CHANCE_MIN_PASS = 0.7;

/**
 * Whether a cell is a network worth measuring or recommending: scored above 0 and with a path from
 * input to output. A disconnected cell outputs a constant (its task score is 0 in the proxy table);
 * as the one cell certain to fit a tiny budget, the last-chance rule once spent a verification
 * measurement on the all-`none` cell (`npm start -- --budget 0.125ms`).
 */
export function computesSomething(code: number, scores: Float64Array, usable: Usable): boolean {
  return scores[code]! > 0 && usable(code);
}

/**
 * The best-scoring cell among `measured` whose measurement certifies it within `budgetMs`
 * (cells that compute nothing, unscored ones included, never count); the first such cell on ties.
 */
export function bestCertified(
  measured: ReadonlyMap<number, number>,
  scores: Float64Array,
  budgetMs: number,
  margin: MeasurementMargin,
  usable: Usable,
): { code: number; score: number } | undefined {
  let best: { code: number; score: number } | undefined;
  for (const [code, ms] of measured) {
    const score = scores[code]!;
    if (!computesSomething(code, scores, usable) || ms > certifiedThresholdMs(budgetMs, code, margin))
      continue;
    if (!best || score > best.score) best = { code, score };
  }
  return best;
}

interface Bet {
  readonly code: number;
  readonly score: number;
  /** Probability that its measurement certifies it. */
  readonly pass: number;
}

/**
 * Expected task score of the best certified cell of a set of independent bets (0 when none
 * passes; scores are normalized to [0, 1], so that is the worst outcome).
 */
function expectedBest(bets: readonly Bet[]): number {
  let value = 0;
  let allFailedSoFar = 1;
  for (const bet of [...bets].sort((a, b) => b.score - a.score)) {
    value += allFailedSoFar * bet.pass * bet.score;
    allFailedSoFar *= 1 - bet.pass;
  }
  return value;
}

/**
 * The `count` unmeasured cells to verify, in the order chosen: greedily, each adds the most to the
 * expected best certified score given the ones before it and the best sample already certified.
 * Treating the bets as independent ignores that the model's errors are correlated across similar
 * cells; the greedy still spreads its picks over risk levels, since a second bet at the same level
 * adds little once the first is likely to pass.
 */
export function chooseCandidates(choice: CandidateChoice): number[] {
  const { scores, predicted, budgetMs, margin } = choice;
  const measured = choice.measured ?? new Map<number, number>();
  const chosen: Bet[] = [];
  const certified = bestCertified(measured, scores, budgetMs, margin, choice.usable);
  const bestSample: Bet | undefined = certified && { ...certified, pass: 1 };
  const bets: Bet[] = [];
  for (const code of new Set(choice.pool)) {
    const score = scores[code]!;
    if (measured.has(code) || !computesSomething(code, scores, choice.usable)) continue;
    if (bestSample && score <= bestSample.score) continue;
    const threshold = certifiedThresholdMs(budgetMs, code, {
      noise: choice.expectedNoise,
      marginZ: margin.marginZ,
    });
    const sd = predicted.std[code]!;
    const mean = predicted.mean[code]!;
    const biased = mean + (choice.selectionBiasSds ?? 0) * sd;
    const pass = sd > 0 ? normalCdf((threshold - biased) / sd) : mean <= threshold ? 1 : 0;
    if (pass > 1e-4) bets.push({ code, score, pass });
  }
  const likely = bets.filter((bet) => bet.pass >= (choice.minPass ?? 0));
  const eligible = likely.length > 0 ? likely : bets;
  const base = bestSample ? [bestSample] : [];
  const taken = new Set<number>();
  while (chosen.length < choice.count && taken.size < eligible.length) {
    let best: Bet | undefined;
    let bestValue = -Infinity;
    for (const bet of eligible) {
      if (taken.has(bet.code)) continue;
      const value = expectedBest([...base, ...chosen, bet]);
      if (value > bestValue || (value === bestValue && best && bet.code < best.code)) {
        bestValue = value;
        best = bet;
      }
    }
    if (!best) break;
    chosen.push(best);
    taken.add(best.code);
  }
  return chosen.map((bet) => bet.code);
}
