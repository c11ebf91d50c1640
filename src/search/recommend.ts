// The recommendation rule: only a *measured* latency may certify a cell as within budget (HELP's
// predicted-only picks broke their own constraint in 5 of 15 cases), and only when it clears the
// budget by a margin for the measurement's own noise (a cell measured 1% under the budget with 3%
// noise is as likely over as under). Among certified cells the best task score wins; if none is
// certified, say so and recommend the fastest verified cell. A sample cell may compete too (its
// measurement exists already); it is counted and named apart from the cells verified, since its
// model value is a fit to that very measurement, not a prediction.
import { certifiedThresholdMs, noiseOf, type MeasurementMargin } from './verification.js';

/**
 * Where a measured candidate came from: a verification measurement spent on it, or a sample cell
 * (measured to fit the latency model) that competes without one.
 */
export type CandidateSource = 'verification' | 'sample';

export interface VerifiedCell {
  readonly code: number;
  readonly cell: string;
  readonly measuredMs: number;
  /**
   * The latency model's mean before the cell was measured; for a sample, the fit to its own
   * measurement (in-sample, so no test of the model).
   */
  readonly predictedMs: number;
  readonly predictedStdMs: number;
  readonly taskScore: number;
  readonly source: CandidateSource;
}

export interface Recommendation extends VerifiedCell {
  /**
   * Certified within the budget (the same as `certified`): a measurement under the budget but
   * inside its noise margin does not count, and `reason` says so with the figures.
   */
  readonly withinBudget: boolean;
  /** Measured within the budget less the noise margin: the rule's guarantee holds. */
  readonly certified: boolean;
  /** The measured latency a cell had to stay under to be certified (the budget less the margin). */
  readonly certifiedBelowMs: number;
  readonly reason: string;
  /**
   * With no cell certified: the other verified cells measured within measurement noise of the
   * fastest, tied with it on latency (the pick among them is the best task score, then the lower code).
   */
  readonly tied?: readonly string[];
}

/** No margin: the measurement is taken as exact (a noise-free recorded device). */
export const EXACT_MEASUREMENT: MeasurementMargin = { noise: 0, marginZ: 0 };

/**
 * `knee`: without a budget, the knee of a front predicted over every architecture (by code), which
 * the target was drawn around; when it is certified it is the recommendation, whatever else was
 * certified: the cells certified beside it changed from run to run with the noise of what was
 * verified, and the best of them with it. In 10 replayed cold runs per device (six HELP columns, 3%
 * noise) the most frequent pick came up 4.5 times in 10 before, 8.2 with the knee; giving the knee
 * up to a certified cell that scores better and measured within noise of it or faster came up 6.3
 * times (mean task score 0.867 against 0.859; before: 0.842).
 */
export function recommend(
  verified: readonly VerifiedCell[],
  budgetMs: number,
  margin: MeasurementMargin = EXACT_MEASUREMENT,
  knee?: number,
): Recommendation {
  if (verified.length === 0) throw new Error('no verified cells to recommend from');
  const threshold = (v: VerifiedCell): number => certifiedThresholdMs(budgetMs, v.code, margin);
  const fitting = verified.filter((v) => v.measuredMs <= threshold(v));
  const marginNote =
    margin.marginZ > 0 && margin.noise !== 0
      ? ` (with a margin of ${margin.marginZ} sd of measurement noise)`
      : '';
  const verifiedCount = verified.filter((v) => v.source === 'verification').length;
  const sampleCount = verified.length - verifiedCount;
  if (fitting.length > 0) {
    // Ties (equal task scores) go to the lower code, whatever order the cells were verified in.
    const best =
      fitting.find((v) => v.code === knee) ??
      fitting.reduce((a, b) =>
        b.taskScore > a.taskScore || (b.taskScore === a.taskScore && b.code < a.code) ? b : a,
      );
    return {
      ...best,
      withinBudget: true,
      certified: true,
      certifiedBelowMs: threshold(best),
      reason:
        best.code === knee
          ? `the knee of the predicted front, measured within the target${marginNote}` +
            (fitting.length > 1 ? ` (${fitting.length - 1} other measured cells also were)` : '')
          : fittingReason(fitting, verifiedCount, marginNote),
    };
  }
  const quickest = verified.reduce((a, b) => (b.measuredMs < a.measuredMs ? b : a));
  // Cells measured within noise of the quickest are tied with it: which of them read fastest is
  // the noise's choice and changed from run to run, so the best task score among them is taken
  // (then the lower code), the same in every run that measures them alike.
  const tiedCells = verified.filter(
    (v) =>
      Math.log(v.measuredMs / quickest.measuredMs) <=
      Math.hypot(noiseOf(margin, v.code), noiseOf(margin, quickest.code)),
  );
  const fastest = tiedCells.reduce((a, b) =>
    b.taskScore > a.taskScore || (b.taskScore === a.taskScore && b.code < a.code) ? b : a,
  );
  const tied = tiedCells.filter((v) => v !== fastest).map((v) => v.cell);
  // With no sample certified, the pipeline's competing sample is its fastest one.
  const samples =
    sampleCount === 0
      ? ''
      : sampleCount === 1
        ? ' nor the fastest sample'
        : ` nor ${sampleCount} sample cells`;
  const which =
    tied.length > 0
      ? `the best task score among the ${tied.length + 1} measured within noise of the fastest`
      : 'the fastest of them';
  const noise = noiseOf(margin, fastest.code);
  const spread = noise > 0 ? ` ± ${(fastest.measuredMs * noise).toPrecision(2)} ms` : '';
  const against = `measured ${fastest.measuredMs.toPrecision(3)} ms${spread} against ${budgetMs.toPrecision(3)} ms`;
  // Nothing is certified on hope: a measurement under the budget but inside its own noise margin
  // is reported as not within budget, with the figures that say why.
  return {
    ...fastest,
    withinBudget: false,
    certified: false,
    certifiedBelowMs: threshold(fastest),
    ...(tied.length > 0 ? { tied } : {}),
    reason:
      fastest.measuredMs <= budgetMs
        ? `could not certify: ${against}${fastest.source === 'sample' ? ' (a sample cell)' : ''}, inside the ` +
          `noise margin (certified below ${threshold(fastest).toPrecision(3)} ms); none of the ${verifiedCount} ` +
          `verified cells${samples} measured clear of it, so this is ${which}`
        : `none of the ${verifiedCount} verified cells${samples} measured within ${budgetMs.toPrecision(3)} ms${marginNote}; ` +
          `this is ${which} (${against}${fastest.source === 'sample' ? ', a sample cell' : ''})`,
  };
}

/**
 * Which cells the certified winner was the best of, counting verified cells and samples apart
 * (a sample competes only when certified, so the pipeline's one is its best certified sample).
 */
function fittingReason(fitting: readonly VerifiedCell[], verifiedCount: number, marginNote: string): string {
  const fittingVerified = fitting.filter((v) => v.source === 'verification').length;
  const fittingSamples = fitting.length - fittingVerified;
  const samples = fittingSamples === 1 ? 'the best sample' : `${fittingSamples} sample cells`;
  if (fittingVerified > 0) {
    return (
      `best task score among ${fittingVerified} of ${verifiedCount} verified cells` +
      `${fittingSamples > 0 ? ` and ${samples}` : ''} measured within the budget${marginNote}`
    );
  }
  const lead = fittingSamples === 1 ? 'the best sample' : `best task score among ${samples}`;
  const none =
    verifiedCount === 0 ? 'no cell was verified' : `none of the ${verifiedCount} verified cells was`;
  return `${lead} measured within the budget${marginNote}; ${none}`;
}
