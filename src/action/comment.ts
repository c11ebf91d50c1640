// The pull request a run belongs to, and one sticky comment on it per hardware tag: a hidden marker
// identifies it, so two runners on the same pull request keep two comments and a re-run updates its
// own instead of adding one. Commenting is optional: a token that may not write (pull requests from
// forks), a missing token or a failing API is a warning, never a failure.
import { context, getOctokit } from '@actions/github';

import { COMMENT_LIMIT } from '../report/markdown.js';
import type { Logger } from '../util/log.js';
import type { ActionSettings } from './inputs.js';

export type Octokit = ReturnType<typeof getOctokit>;

export interface CommentTarget {
  readonly owner: string;
  readonly repo: string;
  readonly issueNumber: number;
}

export function commentMarker(hardwareTag: string): string {
  return `<!-- simnas:hardware=${hardwareTag} -->`;
}

/** Room left for the Markdown once the marker line is in. */
export function commentRoom(hardwareTag: string): number {
  return COMMENT_LIMIT - commentMarker(hardwareTag).length - 1;
}

export type CommentResult =
  | { readonly status: 'created' | 'updated'; readonly url: string; readonly id: number }
  | { readonly status: 'forbidden'; readonly message: string };

/** Creates the hardware's comment or updates the one that carries its marker. */
export async function upsertComment(
  octokit: Octokit,
  target: CommentTarget,
  hardwareTag: string,
  markdown: string,
): Promise<CommentResult> {
  const marker = commentMarker(hardwareTag);
  const body = `${marker}\n${markdown}`;
  if (body.length > COMMENT_LIMIT) {
    throw new RangeError(`comment of ${body.length} characters exceeds GitHub's ${COMMENT_LIMIT}`);
  }
  const where = { owner: target.owner, repo: target.repo };
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      ...where,
      issue_number: target.issueNumber,
      per_page: 100,
    });
    const existing = comments.find((comment) => comment.body?.startsWith(marker));
    if (existing) {
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
    const status = (error as { status?: unknown }).status;
    if (status === 403 || status === 404) {
      return {
        status: 'forbidden',
        message: `the token may not comment on #${target.issueNumber} (HTTP ${status}: ${(error as Error).message})`,
      };
    }
    throw error;
  }
}

/** The pull request this run belongs to, and whether its head lives in a fork. */
export interface PullRequest {
  readonly number: number;
  readonly fromFork: boolean;
  readonly baseSha?: string;
}

export function pullRequestOf(): PullRequest | undefined {
  const pr = context.payload.pull_request as
    | {
        number: number;
        head?: { repo?: { full_name?: string } };
        base?: { sha?: string; repo?: { full_name?: string } };
      }
    | undefined;
  if (!pr || !context.eventName.startsWith('pull_request')) return undefined;
  const head = pr.head?.repo?.full_name;
  return {
    number: pr.number,
    fromFork: head !== undefined && head !== pr.base?.repo?.full_name,
    ...(pr.base?.sha ? { baseSha: pr.base.sha } : {}),
  };
}

/** Posts or updates this hardware's comment on `pr` when the settings and the token allow it. */
export async function commentOnPullRequest(
  settings: Pick<ActionSettings, 'comment' | 'token'>,
  pr: PullRequest | undefined,
  hardwareTag: string,
  markdown: string,
  logger: Logger,
): Promise<CommentResult | undefined> {
  if (settings.comment === 'never') return undefined;
  if (!pr) {
    logger.debug(`event '${context.eventName}' is not a pull request: no comment`);
    return undefined;
  }
  if (pr.fromFork && settings.comment === 'auto') {
    logger.warn(
      `pull request #${pr.number} comes from a fork, whose token is read-only: the report is in the job summary ` +
        `(set comment: always to try anyway)`,
    );
    return undefined;
  }
  if (!settings.token) {
    logger.warn('no github-token: the report is in the job summary only');
    return undefined;
  }
  try {
    const result = await upsertComment(
      getOctokit(settings.token),
      { ...context.repo, issueNumber: pr.number },
      hardwareTag,
      markdown,
    );
    if (result.status === 'forbidden') logger.warn(`${result.message}; the report is in the job summary`);
    else logger.info(`${result.status} the comment for ${hardwareTag}: ${result.url}`);
    return result;
  } catch (error) {
    // Commenting is optional: a failing API must not fail a search that succeeded.
    logger.warn(
      `could not comment on #${pr.number}: ${(error as Error).message}; the report is in the job summary`,
    );
    return undefined;
  }
}
