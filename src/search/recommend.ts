// The recommendation rule: only a *measured* latency may certify a cell as within budget (HELP's
// predicted-only picks broke their own constraint in 5 of 15 cases), and only when it clears the
// budget by a margin for the measurement's own noise (a cell measured 1% under the budget with 3%
// noise is as likely over as under). Among certified cells the best task score wins; if none is
// certified, say so and recommend the fastest verified cell.
import { certifiedThresholdMs, type MeasurementMargin } from './verification.js';

export interface VerifiedCell {
  readonly code: number;
  readonly cell: string;
  readonly measuredMs: number;
  readonly predictedMs: number;
  readonly predictedStdMs: number;
  readonly taskScore: number;
}

export interface Recommendation extends VerifiedCell {
  /** Measured within the budget. */
  readonly withinBudget: boolean;
  /** Measured within the budget less the noise margin: the rule's guarantee holds. */
  readonly certified: boolean;
  /** The measured latency a cell had to stay under to be certified (the budget less the margin). */
  readonly certifiedBelowMs: number;
  readonly reason: string;
}

/** No margin: the measurement is taken as exact (a noise-free recorded device). */
export const EXACT_MEASUREMENT: MeasurementMargin = { noise: 0, marginZ: 0 };

export function recommend(
  verified: readonly VerifiedCell[],
  budgetMs: number,
  margin: MeasurementMargin = EXACT_MEASUREMENT,
): Recommendation {
  if (verified.length === 0) throw new Error('no verified cells to recommend from');
  const threshold = (v: VerifiedCell): number => certifiedThresholdMs(budgetMs, v.code, margin);
  const fitting = verified.filter((v) => v.measuredMs <= threshold(v));
  const marginNote =
    margin.marginZ > 0 && margin.noise !== 0
      ? ` (with a margin of ${margin.marginZ} sd of measurement noise)`
      : '';
  if (fitting.length > 0) {
    const best = fitting.reduce((a, b) => (b.taskScore > a.taskScore ? b : a));
    return {
      ...best,
      withinBudget: true,
      certified: true,
      certifiedBelowMs: threshold(best),
      reason: `best task score among ${fitting.length} of ${verified.length} verified cells measured within the budget${marginNote}`,
    };
  }
  const fastest = verified.reduce((a, b) => (b.measuredMs < a.measuredMs ? b : a));
  const borderline = fastest.measuredMs <= budgetMs;
  return {
    ...fastest,
    withinBudget: borderline,
    certified: false,
    certifiedBelowMs: threshold(fastest),
    reason:
      `none of the ${verified.length} verified cells measured within ${budgetMs.toPrecision(3)} ms${marginNote}; ` +
      `this is the fastest of them (${fastest.measuredMs.toPrecision(3)} ms${borderline ? ', within the budget but inside the noise margin' : ''})`,
  };
}
