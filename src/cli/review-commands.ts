// `simnas review`: the pull-request review run locally (by default, the working tree against
// HEAD). Options in, the "This pull request" section (or the review as JSON) out; the review
// itself is src/review/review.ts.
import type { Command } from 'commander';

import { existingFolder } from '../options.js';
import { DEFAULT_CONFIG_PATH } from '../review/config.js';
import { WORKING_TREE, proxyTaskScore, reviewPullRequest } from '../review/review.js';
import { renderReviewMarkdown } from '../review/verdict.js';
import { stderrLogger } from '../util/log.js';
import { positiveInteger, printJson, seedValue } from './options.js';

interface ReviewFlags {
  base: string;
  head: string;
  config: string;
  repo: string;
  seed: number;
  threads: number;
  provider: string;
  taskScore: boolean;
  json?: boolean;
}

export async function runReviewCommand(flags: ReviewFlags): Promise<void> {
  const taskScore = flags.taskScore ? proxyTaskScore(stderrLogger) : undefined;
  const review = await reviewPullRequest(
    {
      repoDir: flags.repo,
      baseRef: flags.base,
      headRef: flags.head,
      configPath: flags.config,
      seed: flags.seed,
      threads: flags.threads,
      provider: flags.provider,
      ...(taskScore ? { taskScore } : {}),
    },
    stderrLogger,
  );
  if (flags.json) printJson(review);
  else process.stdout.write(renderReviewMarkdown(review));
}

export function registerReviewCommands(program: Command): void {
  program
    .command('review')
    .description(
      'review a change to the model: measure base and head interleaved on this machine and judge the latency ratio, task score, budget',
    )
    .option('--base <ref>', 'git ref of the base (its config and model are read from git)', 'HEAD')
    .option(
      '--head <ref>',
      `git ref of the head, or '${WORKING_TREE}' for the checked-out files`,
      WORKING_TREE,
    )
    .option('--config <path>', 'config file, relative to --repo', DEFAULT_CONFIG_PATH)
    .option(
      '--repo <dir>',
      'repository folder that the config and model paths are relative to',
      existingFolder.parse,
      '.',
    )
    .option('--seed <n>', 'seed of weights, inputs, visiting order and bootstrap', seedValue, 0)
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInteger, 1)
    .option('--provider <name>', 'onnxruntime execution provider', 'cpu')
    .option('--no-task-score', 'skip task scores of cells (latency only)')
    .option('--json', 'print the review as JSON (schema simnas-review)')
    .action(runReviewCommand);
}
