// One sticky pull-request comment per hardware tag: a hidden marker identifies it, so two runners on
// the same pull request keep two comments and a re-run updates its own instead of adding one.
// Commenting is optional: a token that may not write (pull requests from forks) is a warning.
import type { getOctokit } from '@actions/github';

import { COMMENT_LIMIT } from '../report/markdown.js';

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
