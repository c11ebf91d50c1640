// The GitHub Action: inputs in, the pipeline's search on this runner, results out (report files,
// outputs, job summary, one sticky pull-request comment per hardware tag), with the controller and
// this hardware's measurements kept in @actions/cache between runs (cached-state.ts). The flow of
// the method itself is `runSearch` in src/pipeline.ts; this module only publishes around it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import * as core from '@actions/core';
import { context } from '@actions/github';

import { describeFingerprint, hardwareFingerprint } from '../hardware/fingerprint.js';
import { DEFAULT_SEARCH, runSearch, type SearchResult } from '../pipeline/index.js';
import { renderMarkdown } from '../report/markdown.js';
import type { Review } from '../review/review.js';
import { regressionMessage, renderReviewMarkdown } from '../review/verdict.js';
import { toReport, writeReport, type SearchReport } from '../report/report.js';
import type { Logger } from '../util/log.js';
import { chooseController, MeasurementCache, saveController, type CacheOutcomes } from './cached-state.js';
import { actionsLogger } from './logger.js';
import { commentOnPullRequest, commentRoom, pullRequestOf } from './comment.js';
import { readActionSettings } from './inputs.js';
import { reviewChange } from './review.js';

export async function runAction(logger: Logger = actionsLogger): Promise<void> {
  const settings = readActionSettings((name) => core.getInput(name));
  const fingerprint = await logger.group('simnas: hardware', async () => {
    const found = await hardwareFingerprint();
    logger.info(describeFingerprint(found));
    return found;
  });
  const hardwareTag = settings.hardwareTag || fingerprint.tag;
  const caches: CacheOutcomes = {};

  const controller = await chooseController(settings, logger, caches);
  const measurements = await MeasurementCache.open(settings, hardwareTag, fingerprint, logger, caches);
  let result: SearchResult;
  try {
    result = await runSearch(
      {
        ...DEFAULT_SEARCH,
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
        outDir: settings.reportDir,
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
  });
  const files = await writeReport(report, settings.reportDir);

  // The review of the pull request's model change, when the repository declares one.
  const pr = pullRequestOf();
  let review: Review | undefined;
  let reviewFailure: Error | undefined;
  if (pr) {
    try {
      review = await reviewChange(settings, pr.baseSha, result, logger);
    } catch (error) {
      reviewFailure = error instanceof Error ? error : new Error(String(error));
    }
  }
  const reviewSection = review
    ? renderReviewMarkdown(review)
    : reviewFailure
      ? `### This pull request\n\n⚠️ The review failed: ${reviewFailure.message}\n\n`
      : '';
  const markdown = `${reviewSection}${renderMarkdown(report, commentRoom(hardwareTag) - reviewSection.length)}`;
  if (review) {
    writeFileSync(path.join(settings.reportDir, 'review.json'), `${JSON.stringify(review, null, 2)}\n`);
    writeFileSync(files.markdown, markdown);
  }
  publishOutputs(report, settings.reportDir, hardwareTag);
  core.setOutput('verdict', review?.verdict ?? '');
  core.setOutput('latency-ratio', review?.latencyRatio?.value.toFixed(4) ?? '');
  core.setOutput('latency-ratio-low', review?.latencyRatio?.low.toFixed(4) ?? '');
  core.setOutput('latency-ratio-high', review?.latencyRatio?.high.toFixed(4) ?? '');
  core.setOutput('task-score-delta', review?.taskScoreDelta?.toFixed(6) ?? '');
  // Outside a runner (a local run without the variable) there is no summary file to write to.
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();

  const comment = await commentOnPullRequest(settings, pr, hardwareTag, markdown, logger);
  core.setOutput('comment-url', comment && comment.status !== 'forbidden' ? comment.url : '');

  await measurements.saveAfterSearch(result);
  await saveController(controller, settings, logger);
  logger.info(`report: ${files.markdown}`);
  // Failures of the review come last, after everything else is published and saved.
  if (reviewFailure) throw reviewFailure;
  const regression = review && settings.failOnRegression ? regressionMessage(review) : undefined;
  if (regression) core.setFailed(`simnas review: ${regression}`);
}

function publishOutputs(report: SearchReport, reportDir: string, hardwareTag: string): void {
  const rec = report.recommendation;
  core.setOutput('architecture', rec.cell);
  core.setOutput('latency-ms', rec.measuredMs.toFixed(4));
  core.setOutput('task-score', rec.taskScore.toFixed(6));
  core.setOutput('within-budget', String(rec.withinBudget));
  core.setOutput('budget-ms', report.budget.ms.toFixed(4));
  core.setOutput('hardware-tag', hardwareTag);
  core.setOutput('measurements', String(report.measurements.total));
  core.setOutput('report-path', reportDir);
}
