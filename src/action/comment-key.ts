// The comment settings the action's inputs check (when to comment, and the comment's key), kept
// apart from the commenting itself (comment.ts, which renders reports and charts) so that the
// action's first bundle (bootstrap.ts -> inputs.ts) does not carry the report renderer and vega.

/** When the action comments (input `comment`); see commentOnPullRequest. */
export const COMMENT_MODES = ['auto', 'always', 'on-change', 'never'] as const;
export type CommentMode = (typeof COMMENT_MODES)[number];

/** Characters a comment key may hold: safe inside an HTML comment and in a check run's name. */
const KEY_PATTERN = /^[A-Za-z0-9._/:@+=-]{1,200}$/;

export function validCommentKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** The default key: one comment per hardware, dataset, search space and review config. */
export function defaultCommentKey(parts: {
  readonly hardwareTag: string;
  readonly dataset: string;
  readonly space: string;
  readonly configPath: string;
}): string {
  const key = [parts.hardwareTag, parts.dataset, parts.space, parts.configPath].join('/');
  return key.replace(/[^A-Za-z0-9._/:@+=-]/g, '_').slice(0, 200);
}
