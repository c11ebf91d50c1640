// The pull request a run belongs to, one sticky comment on it per comment key, and an optional
// check run per hardware. The key (default: hardware tag, dataset, search space and config path)
// sits in a hidden marker on the comment's first line, so two runners, or two workflows on one
// runner, keep their own comments and a re-run updates its own instead of adding one. A second
// hidden line records what the comment said (recommendation and review verdict), which
// `comment: on-change` compares before writing. Commenting and checks are optional: a token that
// may not write (pull requests from forks), a missing token or a failing API is a warning, never a
// failure. Both the action and `simnas comment --report DIR` (the fork recipe's second workflow)
// publish through this module.
import { context } from '@actions/github';

import { COMMENT_LIMIT, renderMarkdown } from '../report/markdown.js';
import type { SearchReport } from '../report/report.js';
import type { Review } from '../review/review.js';
import { REGRESSION_VERDICTS, renderReviewMarkdown } from '../review/verdict.js';
import type { Logger } from '../util/log.js';
import type { GithubClient } from './github.js';

export interface CommentTarget {
  readonly owner: string;
  readonly repo: string;
  readonly issueNumber: number;
}

import type { CommentMode } from './comment-key.js';

export { COMMENT_MODES, defaultCommentKey, validCommentKey, type CommentMode } from './comment-key.js';

export function commentMarker(key: string): string {
  return `<!-- simnas:key=${key} -->`;
}

/** The marker of simnas 0.x comments (hardware tag only): such a comment is taken over, not duplicated. */
function legacyMarker(hardwareTag: string): string {
  return `<!-- simnas:hardware=${hardwareTag} -->`;
}

/** What a comment says, as `comment: on-change` compares it. */
export interface CommentState {
  readonly architecture: string;
  /** The review's verdict; empty without a review. */
  readonly verdict: string;
}

const STATE_PREFIX = '<!-- simnas-state ';

function stateLine(state: CommentState): string {
  // URI-encoded JSON: no '>' inside, so the HTML comment cannot end early.
  return `${STATE_PREFIX}${encodeURIComponent(JSON.stringify(state))} -->`;
}

export function parseCommentState(body: string): CommentState | undefined {
  const line = body.split('\n', 3).find((text) => text.startsWith(STATE_PREFIX));
  if (!line) return undefined;
  try {
    const parsed = JSON.parse(decodeURIComponent(line.slice(STATE_PREFIX.length, -' -->'.length))) as unknown;
    const { architecture, verdict } = parsed as Partial<CommentState>;
    return typeof architecture === 'string' && typeof verdict === 'string'
      ? { architecture, verdict }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The comment's full text: marker, state, then the Markdown. */
export function commentBody(key: string, state: CommentState, markdown: string): string {
  return `${commentMarker(key)}\n${stateLine(state)}\n${markdown}`;
}

/** Room left for the Markdown once the marker and state lines are in. */
export function commentRoom(key: string, state: CommentState): number {
  return COMMENT_LIMIT - commentBody(key, state, '').length;
}

/**
 * The comment's Markdown: the review's section (or why it failed) on top of the search report,
 * shortened to fit the room left by the hidden lines.
 */
export function pullRequestMarkdown(
  report: SearchReport,
  review: Review | undefined,
  reviewFailure: string | undefined,
  room: number,
): string {
  const reviewSection = review
    ? renderReviewMarkdown(review)
    : reviewFailure
      ? `### This pull request\n\n⚠️ The review failed: ${reviewFailure}\n\n`
      : '';
  return `${reviewSection}${renderMarkdown(report, room - reviewSection.length)}`;
}

export type CommentResult =
  | { readonly status: 'created' | 'updated' | 'unchanged'; readonly url: string; readonly id: number }
  | { readonly status: 'forbidden'; readonly message: string };

export interface UpsertOptions {
  /** Leave the previous comment alone when it says the same (recommendation and verdict). */
  readonly onChange?: boolean;
  /** Take over a simnas 0.x comment of this hardware tag (its marker held only the tag). */
  readonly legacyHardwareTag?: string;
}

/** Creates the key's comment, or updates the one that carries its marker. */
export async function upsertComment(
  octokit: GithubClient,
  target: CommentTarget,
  key: string,
  state: CommentState,
  markdown: string,
  options: UpsertOptions = {},
): Promise<CommentResult> {
  const body = commentBody(key, state, markdown);
  if (body.length > COMMENT_LIMIT) {
    throw new RangeError(`comment of ${body.length} characters exceeds GitHub's ${COMMENT_LIMIT}`);
  }
  const where = { owner: target.owner, repo: target.repo };
  const starts = [`${commentMarker(key)}\n`];
  if (options.legacyHardwareTag) starts.push(`${legacyMarker(options.legacyHardwareTag)}\n`);
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      ...where,
      issue_number: target.issueNumber,
      per_page: 100,
    });
    const existing =
      comments.find((comment) => comment.body?.startsWith(starts[0]!)) ??
      comments.find((comment) => starts.some((start) => comment.body?.startsWith(start)));
    if (existing) {
      const previous = parseCommentState(existing.body ?? '');
      if (options.onChange && previous && sameState(previous, state)) {
        return { status: 'unchanged', url: existing.html_url, id: existing.id };
      }
      const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body });
      return { status: 'updated', url: data.html_url, id: data.id };
    }
    const { data } = await octokit.rest.issues.createComment({
      ...where,
      issue_number: target.issueNumber,
      body,
    });
    return { status: 'created', url: data.html_url, id: data.id };
  } catch (error) {
    const forbidden = forbiddenMessage(error, `comment on #${target.issueNumber}`);
    if (forbidden) return { status: 'forbidden', message: forbidden };
    throw error;
  }
}

function sameState(a: CommentState, b: CommentState): boolean {
  return a.architecture === b.architecture && a.verdict === b.verdict;
}

/** The warning for GitHub's answer to a token that lacks a permission, or undefined for other errors. */
function forbiddenMessage(error: unknown, what: string): string | undefined {
  const status = (error as { status?: unknown }).status;
  if (status !== 403 && status !== 404) return undefined;
  // A rate limit not waited out answers 403 too, but says nothing about the permissions.
  if (/rate limit/i.test((error as Error).message)) return undefined;
  return `the token may not ${what} (HTTP ${status}: ${(error as Error).message})`;
}

/** The pull request this run belongs to, and whether its head lives in a fork. */
export interface PullRequest {
  readonly number: number;
  readonly fromFork: boolean;
  readonly baseSha?: string;
  readonly headSha?: string;
}

export function pullRequestOf(): PullRequest | undefined {
  const pr = context.payload.pull_request as
    | {
        number: number;
        head?: { sha?: string; repo?: { full_name?: string } };
        base?: { sha?: string; repo?: { full_name?: string } };
      }
    | undefined;
  if (!pr || !context.eventName.startsWith('pull_request')) return undefined;
  const head = pr.head?.repo?.full_name;
  return {
    number: pr.number,
    fromFork: head !== undefined && head !== pr.base?.repo?.full_name,
    ...(pr.base?.sha ? { baseSha: pr.base.sha } : {}),
    ...(pr.head?.sha ? { headSha: pr.head.sha } : {}),
  };
}

/** Posts or updates this key's comment on `pr` when the mode and the token allow it. */
export async function commentOnPullRequest(
  settings: { readonly comment: CommentMode; readonly token: string },
  pr: PullRequest | undefined,
  comment: {
    readonly key: string;
    readonly state: CommentState;
    readonly markdown: string;
    readonly hardwareTag: string;
  },
  octokit: (token: string) => GithubClient,
  logger: Logger,
): Promise<CommentResult | undefined> {
  if (settings.comment === 'never') return undefined;
  if (!pr) {
    logger.debug(`event '${context.eventName}' is not a pull request: no comment`);
    return undefined;
  }
  if (pr.fromFork && settings.comment !== 'always') {
    logger.warn(
      `pull request #${pr.number} comes from a fork, whose token is read-only: the report is in the job summary ` +
        `(see "Pull requests from forks" in the simnas README to comment from a second workflow)`,
    );
    return undefined;
  }
  if (!settings.token) {
    logger.warn('no github-token: the report is in the job summary only');
    return undefined;
  }
  try {
    const result = await upsertComment(
      octokit(settings.token),
      { ...context.repo, issueNumber: pr.number },
      comment.key,
      comment.state,
      comment.markdown,
      { onChange: settings.comment === 'on-change', legacyHardwareTag: comment.hardwareTag },
    );
    if (result.status === 'forbidden') logger.warn(`${result.message}; the report is in the job summary`);
    else if (result.status === 'unchanged') {
      logger.info(
        `the recommendation and verdict are as in the previous comment, left as it is: ${result.url}`,
      );
    } else logger.info(`${result.status} the comment for ${comment.key}: ${result.url}`);
    return result;
  } catch (error) {
    // Commenting is optional: a failing API must not fail a search that succeeded.
    logger.warn(
      `could not comment on #${pr.number}: ${(error as Error).message}; the report is in the job summary`,
    );
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The check run.

export type CheckConclusion = 'success' | 'neutral' | 'failure';

/**
 * The check's conclusion from the review: failure for a regression (over budget, latency or task
 * score) or a failed review, neutral for advice or an unproven change (dominated, inconclusive),
 * success otherwise (improvement, new, unchanged, or no review: the search itself succeeded).
 */
export function checkConclusion(
  review: Pick<Review, 'verdict'> | undefined,
  reviewFailed: boolean,
): CheckConclusion {
  if (reviewFailed) return 'failure';
  if (!review) return 'success';
  if (REGRESSION_VERDICTS.has(review.verdict)) return 'failure';
  if (review.verdict === 'dominated' || review.verdict === 'inconclusive') return 'neutral';
  return 'success';
}

export type CheckRunResult =
  | { readonly status: 'created'; readonly url: string }
  | { readonly status: 'forbidden'; readonly message: string };

/** Creates a completed check run on `headSha`; needs `checks: write`. */
export async function createCheckRun(
  octokit: GithubClient,
  target: { readonly owner: string; readonly repo: string; readonly headSha: string },
  check: {
    readonly name: string;
    readonly conclusion: CheckConclusion;
    readonly title: string;
    readonly summary: string;
  },
): Promise<CheckRunResult> {
  try {
    const { data } = await octokit.rest.checks.create({
      owner: target.owner,
      repo: target.repo,
      head_sha: target.headSha,
      name: check.name,
      status: 'completed',
      conclusion: check.conclusion,
      output: { title: check.title, summary: check.summary.slice(0, COMMENT_LIMIT - 1) },
    });
    return { status: 'created', url: data.html_url ?? data.url };
  } catch (error) {
    const forbidden = forbiddenMessage(error, 'create check runs (it needs permissions: checks: write)');
    if (forbidden) return { status: 'forbidden', message: forbidden };
    throw error;
  }
}
