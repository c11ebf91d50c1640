// The GitHub Action: inputs in, the pipeline's search on this runner, results out (report files,
// outputs, job summary, one sticky pull-request comment per comment key, an optional check run),
// with the controller and
// this hardware's measurements kept in @actions/cache between runs (cached-state.ts). The flow of
// the method itself is `runSearch` in src/pipeline.ts; this module only publishes around it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import * as core from '@actions/core';
import { context } from '@actions/github';

import { describeFingerprint, hardwareFingerprint } from '../hardware/fingerprint.js';
import { resolveExecutionProvider } from '../hardware/measure.js';
import { refusalNamed } from '../options.js';
import { DEFAULT_SEARCH, runSearch, type SearchResult } from '../pipeline/index.js';
import { spaceById } from '../spaces/index.js';
import type { Review } from '../review/review.js';
import { regressionMessage } from '../review/verdict.js';
import { reportFiles, toReport, writeReport, type SearchReport } from '../report/report.js';
import type { Logger } from '../util/log.js';
import { StagedFolder } from '../util/staged-folder.js';
import { runCacheService } from './caches.js';
import { chooseController, MeasurementCache, saveController, type CacheOutcomes } from './cached-state.js';
import { actionsLogger } from './logger.js';
import {
  checkConclusion,
  commentOnPullRequest,
  commentRoom,
  createCheckRun,
  defaultCommentKey,
  pullRequestMarkdown,
  pullRequestOf,
  type CommentState,
  type PullRequest,
} from './comment.js';
import { githubClient } from './github.js';
import { inputName, prepareActionSettings, type ActionSettings } from './inputs.js';
import { reviewChange } from './review.js';

/**
 * The action proper. `prepared`: the inputs as the bootstrap already parsed and checked them;
 * without it (a direct call) they are read and checked here, still before any work.
 */
export async function runAction(logger: Logger = actionsLogger, prepared?: ActionSettings): Promise<void> {
  const settings = prepared ?? prepareActionSettings((name) => core.getInput(name));
  // The one input that needs onnxruntime-node to check: still before the fingerprint.
  refusalNamed(inputName('provider'), () => resolveExecutionProvider(settings.provider));
  const fingerprint = await logger.group('simnas: hardware', async () => {
    const found = await hardwareFingerprint();
    logger.info(describeFingerprint(found));
    return found;
  });
  const hardwareTag = settings.hardwareTag || fingerprint.tag;
  const caches: CacheOutcomes = {};

  const controller = await chooseController(settings, logger, caches);
  const measurements = await MeasurementCache.open(settings, hardwareTag, fingerprint, logger, caches);
  const pr = pullRequestOf();
  const commentKey =
    settings.commentKey ||
    defaultCommentKey({
      hardwareTag,
      dataset: settings.dataset,
      space: settings.space,
      configPath: settings.configPath,
    });
  // The report folder is written whole (search, report, review) or left as it was.
  const staged = StagedFolder.open(settings.reportDir, inputName('report-dir'));
  const { result, report, review, reviewFailure, state, markdown } = await staged.run(async (folder) => {
    let result: SearchResult;
    try {
      result = await runSearch(
        {
          ...DEFAULT_SEARCH,
          space: spaceById(settings.space),
          dataset: settings.dataset,
          ...(settings.budgetMs !== undefined ? { budgetMs: settings.budgetMs } : {}),
          samples: settings.samples,
          verify: settings.verify,
          strategy: controller.strategy,
          ...(controller.path ? { controllerPath: controller.path } : {}),
          device: {
            kind: 'live',
            measure: { provider: settings.provider, threads: settings.threads },
            ...measurements.deviceReuse,
          },
          adaptation: measurements.adaptationOptions,
          seed: settings.seed,
          fingerprint,
          outDir: folder,
        },
        logger,
      );
    } catch (error) {
      await measurements.saveAfterFailure();
      throw error;
    }
    const report = toReport(result, {
      hardwareTag,
      caches,
      event: context.eventName,
      ...(context.sha ? { sha: context.sha } : {}),
      commentKey,
      ...(pr ? { pullRequest: { number: pr.number, ...(pr.headSha ? { headSha: pr.headSha } : {}) } } : {}),
    });
    const files = await writeReport(report, folder);

    // The review of the pull request's model change, when the repository declares one.
    let review: Review | undefined;
    let reviewFailure: Error | undefined;
    if (pr) {
      try {
        review = await reviewChange(settings, pr.baseSha, result, logger);
      } catch (error) {
        reviewFailure = error instanceof Error ? error : new Error(String(error));
      }
    }
    const state: CommentState = { architecture: report.recommendation.cell, verdict: review?.verdict ?? '' };
    const markdown = pullRequestMarkdown(
      report,
      review,
      reviewFailure?.message,
      commentRoom(commentKey, state),
    );
    if (review) {
      writeFileSync(path.join(folder, 'review.json'), `${JSON.stringify(review, null, 2)}\n`);
      writeFileSync(files.markdown, markdown);
    }
    return { result, report, review, reviewFailure, state, markdown };
  });
  const files = reportFiles(settings.reportDir);
  publishOutputs(report, settings.reportDir, hardwareTag);
  core.setOutput('verdict', review?.verdict ?? '');
  core.setOutput('latency-ratio', review?.latencyRatio?.value.toFixed(4) ?? '');
  core.setOutput('latency-ratio-low', review?.latencyRatio?.low.toFixed(4) ?? '');
  core.setOutput('latency-ratio-high', review?.latencyRatio?.high.toFixed(4) ?? '');
  core.setOutput('task-score-delta', review?.taskScoreDelta?.toFixed(6) ?? '');
  // Outside a runner (a local run without the variable) there is no summary file to write to.
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();

  const octokit = (token: string) => githubClient(token, logger);
  const comment = await commentOnPullRequest(
    settings,
    pr,
    { key: commentKey, state, markdown, hardwareTag },
    octokit,
    logger,
  );
  core.setOutput('comment-url', comment && comment.status !== 'forbidden' ? comment.url : '');
  const check = settings.checkRun
    ? await publishCheckRun(
        settings.token,
        pr,
        octokit,
        {
          name: `simnas (${settings.commentKey || hardwareTag})`,
          conclusion: checkConclusion(review, reviewFailure !== undefined),
          title: review
            ? `${review.verdict}: ${review.verdicts[0]!.reason}`.slice(0, 200)
            : `recommended ${report.recommendation.cell} at ${report.recommendation.measuredMs.toPrecision(3)} ms`,
          summary: markdown,
        },
        logger,
      )
    : undefined;
  core.setOutput('check-run-url', check ?? '');

  await measurements.saveAfterSearch(result);
  await saveController(controller, settings, logger);
  if (settings.cache) logger.info(runCacheService.summary());
  logger.info(`report: ${files.markdown}`);
  // Failures of the review come last, after everything else is published and saved.
  if (reviewFailure) throw reviewFailure;
  const regression = review && settings.failOnRegression ? regressionMessage(review) : undefined;
  if (regression) core.setFailed(`simnas review: ${regression}`);
}

/** The check run on the pull request's head (or the pushed commit); its URL, or undefined with a warning. */
async function publishCheckRun(
  token: string,
  pr: PullRequest | undefined,
  octokit: (token: string) => ReturnType<typeof githubClient>,
  check: Parameters<typeof createCheckRun>[2],
  logger: Logger,
): Promise<string | undefined> {
  const headSha = pr ? pr.headSha : context.sha;
  if (!token || !headSha) {
    logger.warn(`no ${token ? 'commit to attach a check run to' : 'github-token'}: no check run`);
    return undefined;
  }
  try {
    const result = await createCheckRun(octokit(token), { ...context.repo, headSha }, check);
    if (result.status === 'forbidden') {
      logger.warn(`${result.message}; the verdict is in the outputs and the job summary`);
      return undefined;
    }
    logger.info(`check run '${check.name}' (${check.conclusion}): ${result.url}`);
    return result.url;
  } catch (error) {
    logger.warn(`could not create the check run: ${(error as Error).message}`);
    return undefined;
  }
}

function publishOutputs(report: SearchReport, reportDir: string, hardwareTag: string): void {
  const rec = report.recommendation;
  core.setOutput('architecture', rec.cell);
  core.setOutput('latency-ms', rec.measuredMs.toFixed(4));
  core.setOutput('task-score', rec.taskScore.toFixed(6));
  core.setOutput('within-budget', String(rec.withinBudget));
  core.setOutput('budget-reason', rec.reason);
  core.setOutput('budget-ms', report.budget.ms.toFixed(4));
  core.setOutput('hardware-tag', hardwareTag);
  core.setOutput('measurements', String(report.measurements.total));
  core.setOutput('report-path', reportDir);
}
