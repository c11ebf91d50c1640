// Posting the pull-request comment from a report folder the action wrote (report.json, and
// review.json when there was a review), apart from the run that made it: `simnas comment --report
// DIR`, the second job of the fork recipe, which runs on `workflow_run` with a writable token after
// the fork's own run uploaded the folder. The folder is the fork's output and is not trusted to
// choose the pull request: the caller names it, or names the head commit that the pull request
// must have (the `workflow_run` event's head_sha), and the report must come from that commit.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { UsageError } from '../errors.js';
import { parseReport } from '../report/aggregate.js';
import type { SearchReport } from '../report/report.js';
import type { Review } from '../review/review.js';
import type { Logger } from '../util/log.js';
import {
  commentRoom,
  pullRequestMarkdown,
  upsertComment,
  validCommentKey,
  type CommentResult,
} from './comment.js';
import type { GithubClient } from './github.js';

export interface ReportCommentOptions {
  readonly reportDir: string;
  /** owner/name */
  readonly repository: string;
  readonly pullRequest?: number;
  /** The commit the pull request's head must be at, and the report must come from. */
  readonly headSha?: string;
  /** Overrides the key recorded in the report. */
  readonly commentKey?: string;
  readonly onChange: boolean;
}

export async function commentFromReport(
  octokit: GithubClient,
  options: ReportCommentOptions,
  logger: Logger,
): Promise<CommentResult & { readonly pullRequest: number }> {
  const [owner, repo, ...rest] = options.repository.split('/');
  if (!owner || !repo || rest.length > 0) {
    throw new UsageError(`--repo '${options.repository}': expected owner/name, e.g. octo/models`);
  }
  const reportFile = path.join(options.reportDir, 'report.json');
  if (!existsSync(reportFile)) {
    throw new UsageError(`--report '${options.reportDir}': no report.json in it (the action's report-dir)`);
  }
  const text = readFileSync(reportFile, 'utf8');
  parseReport({ source: reportFile, text }); // a clear error for anything that is not a simnas report
  const report = JSON.parse(text) as SearchReport;
  const review = readReview(options.reportDir);

  const key = options.commentKey ?? report.run?.commentKey;
  if (!key || !validCommentKey(key)) {
    throw new UsageError(
      `${reportFile} records ${key ? `an invalid comment key '${key}'` : 'no comment key'}; pass --comment-key`,
    );
  }
  const recorded = report.run?.pullRequest;
  if (options.headSha && recorded?.headSha && recorded.headSha !== options.headSha) {
    throw new UsageError(
      `${reportFile} is from commit ${recorded.headSha}, not ${options.headSha}: refusing to post it`,
    );
  }
  const number =
    options.pullRequest ??
    (options.headSha ? await pullRequestAt(octokit, owner, repo, options.headSha) : recorded?.number);
  if (number === undefined) {
    throw new UsageError('no pull request: pass --pr N or --head-sha SHA (the report records none)');
  }
  const state = { architecture: report.recommendation.cell, verdict: review?.verdict ?? '' };
  const markdown = pullRequestMarkdown(report, review, undefined, commentRoom(key, state));
  logger.info(`commenting on ${owner}/${repo}#${number} under key ${key}`);
  const result = await upsertComment(octokit, { owner, repo, issueNumber: number }, key, state, markdown, {
    onChange: options.onChange,
    legacyHardwareTag: report.run?.hardwareTag,
  });
  return { ...result, pullRequest: number };
}

function readReview(reportDir: string): Review | undefined {
  const file = path.join(reportDir, 'review.json');
  if (!existsSync(file)) return undefined;
  const review = JSON.parse(readFileSync(file, 'utf8')) as Partial<Review>;
  if (review.schema !== 'simnas-review')
    throw new UsageError(`${file} is not a simnas review (schema simnas-review)`);
  return review as Review;
}

/** The open pull request whose head is at `sha`. */
async function pullRequestAt(
  octokit: GithubClient,
  owner: string,
  repo: string,
  sha: string,
): Promise<number> {
  const pulls = await octokit.paginate(octokit.rest.pulls.list, {
    owner,
    repo,
    state: 'open',
    per_page: 100,
  });
  const matching = pulls.filter((pull) => pull.head.sha === sha);
  if (matching.length !== 1) {
    throw new UsageError(
      `${matching.length === 0 ? 'no' : matching.length} open pull request(s) of ${owner}/${repo} ` +
        `with head ${sha}; pass --pr N`,
    );
  }
  return matching[0]!.number;
}
