// The pull-request review inside the action: when the repository declares a config (`simnas.json`
// by default) and the event is a pull request, compare the checked-out head with the pull request's
// base on this runner (src/review/review.ts) and place both against the search's recommendation.
// The base is read from git; a shallow checkout that lacks the base commit gets it fetched.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import type { SearchResult } from '../pipeline/index.js';
import { proxyTaskScore, reviewPullRequest, WORKING_TREE, type Review } from '../review/review.js';
import type { Logger } from '../util/log.js';
import type { ActionSettings } from './inputs.js';

const run = promisify(execFile);

/** Whether `sha` is a commit in the repository at `repoDir`, fetching it once if it is not. */
export async function ensureCommit(repoDir: string, sha: string, logger: Logger): Promise<boolean> {
  const has = async (): Promise<boolean> =>
    run('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd: repoDir }).then(
      () => true,
      () => false,
    );
  if (await has()) return true;
  logger.info(`fetching the base commit ${sha.slice(0, 12)} (the checkout is shallow)`);
  await run('git', ['fetch', '--no-tags', '--depth=1', 'origin', sha], { cwd: repoDir }).catch(
    () => undefined,
  );
  return has();
}

/** Runs the review when a config exists; undefined when there is nothing to review. */
export async function reviewChange(
  settings: ActionSettings,
  baseSha: string | undefined,
  search: SearchResult,
  logger: Logger,
): Promise<Review | undefined> {
  const repoDir = settings.workingDirectory;
  if (!existsSync(path.join(repoDir, settings.configPath))) {
    logger.debug(`no ${settings.configPath}: no review of the model`);
    return undefined;
  }
  let baseRef = baseSha;
  if (baseRef && !(await ensureCommit(repoDir, baseRef, logger))) {
    logger.warn(
      `the base commit ${baseRef.slice(0, 12)} is not in the checkout and could not be fetched; ` +
        `reviewing the head alone (use actions/checkout with fetch-depth: 0)`,
    );
    baseRef = undefined;
  }
  const rec = search.recommendation;
  const review = await logger.group('simnas: review of this pull request', () =>
    reviewPullRequest(
      {
        repoDir,
        baseRef,
        headRef: WORKING_TREE,
        configPath: settings.configPath,
        seed: settings.seed,
        threads: settings.threads,
        provider: settings.provider,
        taskScore: proxyTaskScore(logger),
        recommended: { cell: rec.cell, latencyMs: rec.measuredMs, taskScore: rec.taskScore },
        ...(settings.budgetMs !== undefined ? { budgetMs: settings.budgetMs } : {}),
      },
      logger,
    ),
  );
  return { ...review, notes: [...review.notes, ...frontNotes(review, search)] };
}

/**
 * Where base and head stand against this hardware's Pareto front from the search: how many front
 * cells are both faster (by more than the latency threshold) and better (by more than the
 * task-score threshold). Different timing protocols, so only clear margins count.
 */
export function frontNotes(review: Review, search: SearchResult): string[] {
  const { latencyPercent, taskScorePoints } = review.thresholds;
  const sides = [
    ['head', review.head],
    ['base', review.base],
  ] as const;
  return sides.flatMap(([name, side]) => {
    if (!side || side.taskScore === undefined) return [];
    const better = search.front.filter(
      (p) =>
        p.latencyMs * (1 + latencyPercent / 100) < side.latencyMs &&
        p.taskScore > side.taskScore! + taskScorePoints,
    );
    if (better.length === 0) return [`the ${name} is on or near this hardware's Pareto front`];
    const best = better.reduce((a, b) => (b.taskScore > a.taskScore ? b : a));
    return [
      `${better.length} of the ${search.front.length} cells on this hardware's Pareto front are faster and score higher ` +
        `than the ${name}, e.g. ${best.cell} (${best.latencyMs.toPrecision(3)} ms ${best.latencySource}, task score ${best.taskScore.toFixed(4)})`,
    ];
  });
}
