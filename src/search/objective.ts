// The objective every search strategy maximizes on one device: the task score of a cell, minus a
// steep penalty when its latency exceeds the budget. Strategies differ only in which cells they
// evaluate; they all rank by this one function, so their results are comparable.

import type { SearchSpace } from '../spaces/space.js';

/** What a search optimizes on one device: scores and latencies of every cell, by cell code. */
export interface SearchProblem {
  /** The (enumerable) space the codes index. */
  readonly space: SearchSpace;
  /** Task score per cell code, normalized to [0, 1]; higher is better. */
  readonly taskScore: Float64Array;
  /** Latency per cell code in ms (predicted, measured or synthetic). */
  readonly latencyMs: Float64Array;
  readonly budgetMs: number;
}

/**
 * Score lost per doubling of latency above the budget: 10% over costs about 0.7 of the [0, 1]
 * score, so no over-budget cell beats a feasible one of reasonable score. Capped at 4x over so
 * that far-off starting cells do not dominate the value targets.
 */
export const OVER_BUDGET_PENALTY = 5;

/** The objective every strategy maximizes: task score, minus a steep penalty above the budget. */
export function objective(problem: SearchProblem, code: number): number {
  return penalizedScore(problem.taskScore[code]!, problem.latencyMs[code]!, problem.budgetMs);
}

/** The objective of one architecture from its task score and latency (any space, dense or not). */
export function penalizedScore(taskScore: number, latencyMs: number, budgetMs: number): number {
  const ratio = latencyMs / budgetMs;
  return taskScore - (ratio > 1 ? OVER_BUDGET_PENALTY * Math.min(2, Math.log2(ratio)) : 0);
}
