// What a pull request does to the model's latency/task-score tradeoff, as verdicts, and the
// "This pull request" Markdown section that heads the per-hardware comment. Pure: it judges
// figures measured elsewhere (src/review/ab-timing.ts) and renders them.
//
// Rule of evidence: a latency verdict needs the whole confidence interval of the ratio
// head/base beyond the threshold (a regression when its lower bound exceeds 1 + t, an
// improvement when its upper bound is below 1 - t), so measurement noise alone never cries wolf.
// `unchanged` needs the whole interval inside ±t; an interval that straddles 1 + t or 1 - t is
// `inconclusive`: the change may or may not cross the threshold, and more rounds would tell.
// Task scores are deterministic proxies, so their change is compared with the threshold directly.
import type { AbProtocol, Interval } from './ab-timing.js';
import type { Thresholds } from './config.js';

export type VerdictKind =
  | 'over-budget'
  | 'latency-regression'
  | 'task-score-regression'
  | 'dominated'
  | 'inconclusive'
  | 'improvement'
  | 'new'
  | 'unchanged';

/** Most severe first: the first verdict present is the review's primary `verdict`. */
export const VERDICT_SEVERITY: readonly VerdictKind[] = [
  'over-budget',
  'latency-regression',
  'task-score-regression',
  'dominated',
  'inconclusive',
  'improvement',
  'new',
  'unchanged',
];

/** Verdicts that `fail-on-regression` fails the job for. `dominated` is advice, not a failure. */
export const REGRESSION_VERDICTS: ReadonlySet<VerdictKind> = new Set([
  'over-budget',
  'latency-regression',
  'task-score-regression',
]);

export interface Verdict {
  readonly kind: VerdictKind;
  /** One line a reader can act on, with the figures behind it. */
  readonly reason: string;
}

/** One side (base or head) as measured on this runner. */
export interface SideFacts {
  /** Where it was read: a git ref, or "working tree". */
  readonly ref: string;
  /** The config's model key: an architecture under `cell` (NB201's key) or `arch`, or an ONNX file. */
  readonly modelKind: 'cell' | 'arch' | 'onnx';
  /** The architecture string or the ONNX path. */
  readonly model: string;
  readonly dataset: string;
  readonly latencyMs: number;
  readonly latencyInterval: Interval;
  /** Undefined for plain ONNX models (no task score exists for them). */
  readonly taskScore?: number;
}

/** The search's recommended cell on this hardware, as measured there. */
export interface RecommendedCell {
  readonly cell: string;
  readonly latencyMs: number;
  readonly taskScore: number;
}

export interface LatencyRatio extends Interval {
  /** median(head) / median(base). */
  readonly value: number;
}

export interface VerdictInput {
  readonly head: SideFacts;
  /** Undefined when the base has no usable config; `baseMissing` says why. */
  readonly base?: SideFacts;
  readonly baseMissing?: string;
  readonly ratio?: LatencyRatio;
  readonly budgetMs?: number;
  readonly thresholds: Thresholds;
  readonly recommended?: RecommendedCell;
}

export interface VerdictOutcome {
  /** In severity order. */
  readonly verdicts: readonly Verdict[];
  readonly verdict: VerdictKind;
  /** head - base, when both have a task score on the same dataset. */
  readonly taskScoreDelta?: number;
}

export function decideVerdicts(input: VerdictInput): VerdictOutcome {
  const { head, base, ratio, thresholds } = input;
  const found: Verdict[] = [];
  const latencyFraction = thresholds.latencyPercent / 100;
  const percent = `${formatNumber(thresholds.latencyPercent)}%`;
  const points = formatScore(thresholds.taskScorePoints);

  if (input.budgetMs !== undefined && head.latencyInterval.low > input.budgetMs) {
    const baseToo = base && base.latencyInterval.low > input.budgetMs ? ' (the base was over it too)' : '';
    found.push({
      kind: 'over-budget',
      reason:
        `head measured ${formatMs(head.latencyMs)} (${intervalText(head.latencyInterval, formatMs)}), ` +
        `over the ${formatMs(input.budgetMs)} budget${baseToo}`,
    });
  }

  const taskScoreDelta =
    base?.taskScore !== undefined && head.taskScore !== undefined && base.dataset === head.dataset
      ? head.taskScore - base.taskScore
      : undefined;

  if (!base) {
    found.push({
      kind: 'new',
      reason: input.baseMissing ?? 'the base has no config: nothing to compare with',
    });
  } else if (ratio) {
    const latencyRegression = ratio.low > 1 + latencyFraction;
    const latencyImprovement = ratio.high < 1 - latencyFraction;
    const scoreRegression = taskScoreDelta !== undefined && taskScoreDelta < -thresholds.taskScorePoints;
    const scoreImprovement = taskScoreDelta !== undefined && taskScoreDelta > thresholds.taskScorePoints;
    const change = `${formatRatioChange(ratio.value)} (${intervalText(ratio, formatRatioChange)})`;
    if (latencyRegression) {
      found.push({
        kind: 'latency-regression',
        reason: `latency ${change} vs base: the whole interval lies above the +${percent} threshold`,
      });
    }
    if (scoreRegression) {
      found.push({
        kind: 'task-score-regression',
        reason: `task score fell by ${formatScore(-taskScoreDelta)}, more than the ${points} threshold`,
      });
    }
    if (latencyImprovement || (scoreImprovement && !latencyRegression)) {
      const reasons: string[] = [];
      if (latencyImprovement)
        reasons.push(`latency ${change} vs base: the whole interval lies below −${percent}`);
      if (scoreImprovement)
        reasons.push(`task score rose by ${formatScore(taskScoreDelta)} (threshold ${points})`);
      found.push({ kind: 'improvement', reason: reasons.join('; ') });
    }
    // The interval reaches across a threshold: the latency change is neither proven nor ruled out.
    const latencyInconclusive =
      !latencyRegression &&
      !latencyImprovement &&
      (ratio.high > 1 + latencyFraction || ratio.low < 1 - latencyFraction);
    if (latencyInconclusive) {
      found.push({
        kind: 'inconclusive',
        reason:
          `latency ${change} vs base: the interval straddles the ±${percent} threshold, so this run ` +
          'can neither confirm nor rule out a change that large',
      });
    }
    if (
      !latencyRegression &&
      !latencyImprovement &&
      !latencyInconclusive &&
      !scoreRegression &&
      !scoreImprovement
    ) {
      const scorePart =
        taskScoreDelta === undefined
          ? ''
          : `; task score ${formatSignedScore(taskScoreDelta)} (threshold ${points})`;
      found.push({
        kind: 'unchanged',
        reason: `latency ${change}: the whole interval lies within ±${percent}${scorePart}`,
      });
    }
  }

  const recommended = input.recommended;
  if (
    recommended &&
    head.taskScore !== undefined &&
    recommended.latencyMs < head.latencyMs * (1 - latencyFraction) &&
    recommended.taskScore > head.taskScore + thresholds.taskScorePoints
  ) {
    found.push({
      kind: 'dominated',
      reason:
        `the recommended cell is faster (${formatMs(recommended.latencyMs)} vs ${formatMs(head.latencyMs)}) ` +
        `and scores higher (${formatScore(recommended.taskScore)} vs ${formatScore(head.taskScore)})`,
    });
  }

  const verdicts = [...found].sort(
    (a, b) => VERDICT_SEVERITY.indexOf(a.kind) - VERDICT_SEVERITY.indexOf(b.kind),
  );
  return {
    verdicts,
    verdict: verdicts[0]!.kind,
    ...(taskScoreDelta !== undefined ? { taskScoreDelta } : {}),
  };
}

/** The review as the action publishes it and `simnas review --json` prints it. */
export interface Review extends VerdictOutcome {
  readonly schema: 'simnas-review';
  readonly schemaVersion: 1;
  readonly configPath: string;
  readonly baseRef: string;
  readonly headRef: string;
  readonly head: SideFacts;
  readonly base?: SideFacts;
  readonly baseMissing?: string;
  readonly latencyRatio?: LatencyRatio;
  readonly budgetMs?: number;
  readonly thresholds: Thresholds;
  readonly recommended?: RecommendedCell;
  /** Things a reader should know that are not verdicts (unused inputShape keys, dataset changes). */
  readonly notes: readonly string[];
  readonly timing: { readonly protocol: AbProtocol; readonly wallMs: number };
}

/**
 * The message `fail-on-regression` fails the job with, or undefined when the primary verdict is
 * not a regression.
 */
export function regressionMessage(review: Pick<Review, 'verdict' | 'verdicts'>): string | undefined {
  if (!REGRESSION_VERDICTS.has(review.verdict)) return undefined;
  const primary = review.verdicts.find((verdict) => verdict.kind === review.verdict)!;
  return `${primary.kind}: ${primary.reason}`;
}

const VERDICT_LABELS: Readonly<Record<VerdictKind, string>> = {
  'over-budget': '🛑 over budget',
  'latency-regression': '🔺 latency regression',
  'task-score-regression': '🔻 task-score regression',
  dominated: '💡 dominated by the recommended cell',
  inconclusive: '❔ inconclusive',
  improvement: '✅ improvement',
  new: '🆕 new',
  unchanged: '➖ unchanged',
};

/** The "### This pull request" section, to go at the top of the per-hardware comment. */
export function renderReviewMarkdown(review: Review): string {
  const lines: string[] = ['### This pull request', ''];
  lines.push(`**Verdict: ${VERDICT_LABELS[review.verdict]}**`, '');
  lines.push('| | Model | Latency on this runner | Task score |', '|---|---|---|---|');
  const row = (title: string, side: SideFacts): string =>
    `| ${title} (${code(shortRef(side.ref))}) | ${modelCell(side)} | ${formatMs(side.latencyMs)} ` +
    `(${intervalText(side.latencyInterval, formatMs)}) | ${side.taskScore === undefined ? 'n/a (ONNX)' : formatScore(side.taskScore)} |`;
  if (review.base) lines.push(row('Base', review.base));
  else lines.push(`| Base (${code(shortRef(review.baseRef))}) | none | | |`);
  lines.push(row('Head', review.head));
  if (review.latencyRatio) {
    const delta = review.taskScoreDelta === undefined ? '' : formatSignedScore(review.taskScoreDelta);
    lines.push(
      `| Change | | ×${review.latencyRatio.value.toFixed(3)} (${intervalText(review.latencyRatio, (v) => `×${v.toFixed(3)}`)}) | ${delta} |`,
    );
  }
  if (review.recommended) {
    lines.push(
      `| Recommended | ${code(review.recommended.cell)} | ${formatMs(review.recommended.latencyMs)} (search, measured) | ` +
        `${formatScore(review.recommended.taskScore)} |`,
    );
  }
  lines.push('');
  for (const verdict of review.verdicts)
    lines.push(`- **${VERDICT_LABELS[verdict.kind]}**: ${verdict.reason}`);
  for (const note of review.notes) lines.push(`- note: ${note}`);
  lines.push('');
  const protocol = review.timing.protocol;
  lines.push(
    `<sub>Base and head measured on this runner in one run: ${protocol.rounds} interleaved rounds in seeded random ` +
      `order, runs timed one by one (onnxruntime ${protocol.onnxruntimeVersion}, ${protocol.provider}, ` +
      `${protocol.threads} thread${protocol.threads === 1 ? '' : 's'}); latency = median, ratio = median(head) / median(base), ` +
      `${protocol.interval}. Thresholds: latency ${formatNumber(review.thresholds.latencyPercent)}%, ` +
      `task score ${formatScore(review.thresholds.taskScorePoints)}` +
      `${review.budgetMs !== undefined ? `; budget ${formatMs(review.budgetMs)}` : ''}. ` +
      'Task score: training-free proxy mix in [0, 1] (a ranking, not an accuracy).</sub>',
    '',
  );
  return lines.join('\n');
}

function modelCell(side: SideFacts): string {
  const noun = { cell: 'cell', arch: 'architecture', onnx: 'ONNX' }[side.modelKind];
  return `${noun} ${code(side.model)}${side.modelKind === 'onnx' ? '' : `, ${side.dataset}`}`;
}

/** A full commit SHA as GitHub abbreviates it; branch names and the like unchanged. */
function shortRef(ref: string): string {
  return /^[0-9a-f]{40}$/i.test(ref) ? ref.slice(0, 7) : ref;
}

/** Inline code safe inside a GFM table: pipes escaped, backticks replaced. */
function code(text: string): string {
  return `\`${text.replaceAll('`', "'").replaceAll('|', '\\|')}\``;
}

function intervalText(interval: Interval, format: (value: number) => string): string {
  return `${Math.round(interval.confidence * 100)}% CI ${format(interval.low)} to ${format(interval.high)}`;
}

function formatMs(ms: number): string {
  return `${ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)} ms`;
}

/** A ratio as a signed percentage change: 1.123 -> "+12.3%". */
function formatRatioChange(ratio: number): string {
  const change = (ratio - 1) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(1)}%`;
}

function formatScore(score: number): string {
  return score.toFixed(3);
}

function formatSignedScore(delta: number): string {
  return `${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(3)}`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}
