// `simnas comment --report DIR`: posts (or updates) the pull-request comment from a report folder
// the action wrote, for the second workflow of the fork recipe (README, "Pull requests from
// forks"). Options in, result out: the work is src/action/report-comment.ts.
import type { Command } from 'commander';

import { githubClient } from '../action/github.js';
import { commentFromReport } from '../action/report-comment.js';
import { UsageError } from '../errors.js';
import { stderrLogger } from '../util/log.js';
import { pathValue, positiveInteger, printJson } from './options.js';

interface CommentFlags {
  report: string;
  repo?: string;
  pr?: number;
  headSha?: string;
  commentKey?: string;
  onChange?: boolean;
  json?: boolean;
}

export async function runCommentCommand(flags: CommentFlags): Promise<void> {
  const token = process.env.GITHUB_TOKEN || process.env.GH_TOKEN;
  if (!token) throw new UsageError('no token: set GITHUB_TOKEN (it needs pull-requests: write)');
  const repository = flags.repo ?? process.env.GITHUB_REPOSITORY;
  if (!repository) throw new UsageError('no repository: pass --repo owner/name or set GITHUB_REPOSITORY');
  const baseUrl = process.env.GITHUB_API_URL;
  const octokit = githubClient(token, stderrLogger, baseUrl ? { baseUrl } : {});
  const result = await commentFromReport(
    octokit,
    {
      reportDir: flags.report,
      repository,
      ...(flags.pr !== undefined ? { pullRequest: flags.pr } : {}),
      ...(flags.headSha ? { headSha: flags.headSha } : {}),
      ...(flags.commentKey ? { commentKey: flags.commentKey } : {}),
      onChange: flags.onChange ?? false,
    },
    stderrLogger,
  );
  if (result.status === 'forbidden') throw new Error(`${result.message}; give the job pull-requests: write`);
  if (flags.json) return printJson(result);
  process.stdout.write(`${result.status} the comment on #${result.pullRequest}: ${result.url}\n`);
}

export function registerCommentCommands(program: Command): void {
  program
    .command('comment')
    .description(
      "post or update the pull-request comment from a report folder the action wrote (the fork recipe's " +
        'second workflow); the token is GITHUB_TOKEN',
    )
    .requiredOption('--report <dir>', 'the report folder (report.json, and review.json if any)', pathValue)
    .option('--repo <owner/name>', 'the repository (default: GITHUB_REPOSITORY)')
    .option('--pr <number>', 'the pull request', positiveInteger)
    .option(
      '--head-sha <sha>',
      "find the open pull request whose head is at this commit (the workflow_run event's head_sha); the report must be from it",
    )
    .option('--comment-key <key>', 'the comment key (default: the one the report records)')
    .option('--on-change', 'leave the comment alone when the recommendation and verdict are unchanged')
    .option('--json', 'print the result as JSON')
    .action(runCommentCommand);
}
