// The recommendation rule: only a *measured* latency may certify a cell as within budget (HELP's
// predicted-only picks broke their own constraint in 5 of 15 cases). Among verified cells that
// fit, the best task score wins; if none fits, say so and recommend the fastest verified cell.

export interface VerifiedCell {
  readonly code: number;
  readonly cell: string;
  readonly measuredMs: number;
  readonly predictedMs: number;
  readonly predictedStdMs: number;
  readonly taskScore: number;
}

export interface Recommendation extends VerifiedCell {
  readonly withinBudget: boolean;
  readonly reason: string;
}

export function recommend(verified: readonly VerifiedCell[], budgetMs: number): Recommendation {
  if (verified.length === 0) throw new Error('no verified cells to recommend from');
  const fitting = verified.filter((v) => v.measuredMs <= budgetMs);
  if (fitting.length > 0) {
    const best = fitting.reduce((a, b) => (b.taskScore > a.taskScore ? b : a));
    return {
      ...best,
      withinBudget: true,
      reason: `best task score among ${fitting.length} of ${verified.length} verified cells measured within the budget`,
    };
  }
  const fastest = verified.reduce((a, b) => (b.measuredMs < a.measuredMs ? b : a));
  return {
    ...fastest,
    withinBudget: false,
    reason:
      `none of the ${verified.length} verified cells measured within ${budgetMs.toPrecision(3)} ms; ` +
      `this is the fastest of them (${fastest.measuredMs.toPrecision(3)} ms)`,
  };
}
