// The GitHub Action: inputs in, the pipeline's search on this runner, results out (report files,
// outputs, job summary, one sticky pull-request comment per hardware tag), with the controller and
// this hardware's measurements kept in @actions/cache between runs. The flow of the method itself
// is `runSearch` in src/pipeline.ts; this module only publishes around it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import * as core from '@actions/core';
import { context, getOctokit } from '@actions/github';

import { parseArtifact, checkCompatible } from '../controller/artifact.js';
import { policyShapeFor } from '../controller/pretrain.js';
import { PRIOR_HASH } from '../controller/prior.js';
import {
  describeFingerprint,
  hardwareFingerprint,
  type HardwareFingerprint,
} from '../hardware/fingerprint.js';
import { DEFAULT_MEASURE_OPTIONS } from '../hardware/measure.js';
import {
  bundledControllerPath,
  DEFAULT_SEARCH,
  runSearch,
  type AdaptationRecord,
  type SearchResult,
} from '../pipeline.js';
import { renderMarkdown } from '../report/markdown.js';
import type { Review } from '../review/review.js';
import { regressionMessage, renderReviewMarkdown } from '../review/verdict.js';
import { toReport, writeReport, type SearchReport } from '../report/report.js';
import type { StrategyChoice } from '../search/strategies.js';
import type { Dataset } from '../space/datasets.js';
import type { Logger } from '../util/log.js';
import {
  CacheSlot,
  controllerCacheKey,
  controllerEntrySchema,
  decodeAdaptation,
  encodeAdaptation,
  measurementsEntrySchema,
  measurementsKeyPrefix,
  reusable,
  type CacheOutcome,
  type MeasurementIdentity,
  type MeasurementsEntry,
} from './caches.js';
import { actionsLogger } from './logger.js';
import { commentRoom, upsertComment, type CommentResult } from './comment.js';
import { readActionSettings, type ActionSettings } from './inputs.js';
import { reviewChange } from './review.js';

export async function runAction(logger: Logger = actionsLogger): Promise<void> {
  const settings = readActionSettings((name) => core.getInput(name));
  const fingerprint = await logger.group('simnas: hardware', async () => {
    const found = await hardwareFingerprint();
    logger.info(describeFingerprint(found));
    return found;
  });
  const hardwareTag = settings.hardwareTag || fingerprint.tag;
  const caches: Record<string, CacheOutcome> = {};

  const controller = await chooseController(settings, logger, caches);
  const identity: MeasurementIdentity = {
    hardwareTag,
    fingerprint,
    dataset: settings.dataset,
    settings: {
      provider: settings.provider,
      threads: settings.threads,
      batchSize: DEFAULT_MEASURE_OPTIONS.batchSize,
    },
  };
  const measurementsSlot = new CacheSlot('measurements', measurementsEntrySchema, logger);
  const restored = settings.cache
    ? await restoreMeasurements(measurementsSlot, identity, logger, caches)
    : undefined;
  if (!settings.cache) caches.measurements = 'disabled';
  const reuse = restored ? new Map(restored.latencies) : undefined;
  const reuseNoise = restored?.noise ? new Map(restored.noise) : undefined;
  const restoredAdaptation = restored?.model ? decodeAdaptation(restored.model, settings.dataset) : undefined;
  let adaptation: AdaptationRecord | undefined;
  // A fit made in this run (not the restored one) is worth saving even when nothing was measured.
  const fittedNow = (): boolean =>
    adaptation !== undefined && adaptation.samples !== restoredAdaptation?.samples;
  const save = async (measured: readonly MeasuredLatency[], changed: boolean): Promise<void> => {
    if (!settings.cache || !changed) return;
    await saveMeasurements(
      measurementsSlot,
      identity,
      fingerprint,
      measured,
      reuse,
      reuseNoise,
      adaptation,
      logger,
    );
  };
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
          ...(reuse ? { reuse } : {}),
          ...(reuseNoise ? { reuseNoise } : {}),
        },
        adaptation: {
          ...(restoredAdaptation ? { reuse: restoredAdaptation } : {}),
          onAdapted: (record) => (adaptation = record),
        },
        seed: settings.seed,
        fingerprint,
        outDir: settings.reportDir,
      },
      logger,
    );
  } catch (error) {
    // Nothing is lost: samples measured before a failure (say, a budget below the fastest cell)
    // are cached, so the corrected rerun does not measure them again.
    if (adaptation) {
      await save(
        adaptation.samples.map(([code, measuredMs]) => ({ code, measuredMs })),
        fittedNow(),
      );
    }
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
  core.setOutput('task-score-delta', review?.taskScoreDelta?.toFixed(6) ?? '');
  // Outside a runner (a local run without the variable) there is no summary file to write to.
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();

  const comment = await commentOnPullRequest(settings, pr, hardwareTag, markdown, logger);
  core.setOutput('comment-url', comment && comment.status !== 'forbidden' ? comment.url : '');

  await save([...result.samples, ...result.verified], result.measurements.total > 0 || fittedNow());
  if (settings.cache && controller.saveToCache) {
    await saveController(controller.saveToCache, settings.dataset, logger);
  }
  logger.info(`report: ${files.markdown}`);
  // Failures of the review come last, after everything else is published and saved.
  if (reviewFailure) throw reviewFailure;
  const regression = review && settings.failOnRegression ? regressionMessage(review) : undefined;
  if (regression) core.setFailed(`simnas review: ${regression}`);
}

interface MeasuredLatency {
  readonly code: number;
  readonly measuredMs: number;
  readonly relativeNoise?: number;
}

interface ControllerChoice {
  readonly strategy: StrategyChoice;
  readonly path?: string;
  /** The controller to store in the cache after the run (the bundled one, after a miss). */
  readonly saveToCache?: string;
}

/**
 * The controller the search runs: the repository's own (input `controller`), else the cached one,
 * else the bundled one (the pipeline's default; `auto` falls back to evolution without one).
 */
async function chooseController(
  settings: ActionSettings,
  logger: Logger,
  caches: Record<string, CacheOutcome>,
): Promise<ControllerChoice> {
  const { strategy } = settings;
  if (strategy !== 'controller' && strategy !== 'auto') return { strategy };
  if (settings.controllerPath) return { strategy, path: settings.controllerPath };
  if (!settings.cache) {
    caches.controller = 'disabled';
    return { strategy };
  }
  const slot = new CacheSlot('controller', controllerEntrySchema, logger);
  const restored = await slot.restore(controllerCacheKey(settings.dataset));
  caches.controller = restored.outcome;
  const cached =
    restored.value && usableController(restored.value.artifact, settings.dataset, slot.folder, logger);
  if (cached) return { strategy, path: cached };
  if (restored.value) caches.controller = 'ignored';
  const bundled = bundledControllerPath(settings.dataset);
  return { strategy, ...(existsSync(bundled) ? { saveToCache: bundled } : {}) };
}

/** Writes a restored controller to a file if it is one this simnas can load; else warns. */
function usableController(
  text: string,
  dataset: Dataset,
  folder: string,
  logger: Logger,
): string | undefined {
  const file = path.join(folder, `${dataset}.json`);
  try {
    const artifact = parseArtifact(text, 'the cached controller');
    checkCompatible(
      artifact.metadata,
      { dataset, priorHash: PRIOR_HASH, policy: policyShapeFor(artifact.metadata.policy.hidden) },
      'the cached controller',
    );
    writeFileSync(file, text);
    return file;
  } catch (error) {
    logger.warn(`cache 'controller': ignoring the restored entry (${(error as Error).message})`);
    return undefined;
  }
}

async function saveController(file: string, dataset: Dataset, logger: Logger): Promise<void> {
  const slot = new CacheSlot('controller', controllerEntrySchema, logger);
  await slot.save(controllerCacheKey(dataset), { dataset, artifact: readFileSync(file, 'utf8') });
}

async function restoreMeasurements(
  slot: CacheSlot<MeasurementsEntry>,
  identity: MeasurementIdentity,
  logger: Logger,
  caches: Record<string, CacheOutcome>,
): Promise<MeasurementsEntry | undefined> {
  const prefix = measurementsKeyPrefix(identity);
  const restored = await slot.restore(prefix, [prefix]);
  caches.measurements = restored.outcome;
  if (!restored.value) return undefined;
  const mismatch = reusable(restored.value, identity);
  if (mismatch) {
    logger.info(`cached measurements are from ${mismatch}: measuring again`);
    caches.measurements = 'ignored';
    return undefined;
  }
  logger.info(
    `reusing ${restored.value.latencies.length} cached measurements of this hardware (${restored.key})`,
  );
  return restored.value;
}

async function saveMeasurements(
  slot: CacheSlot<MeasurementsEntry>,
  identity: MeasurementIdentity,
  fingerprint: HardwareFingerprint,
  measured: readonly MeasuredLatency[],
  reused: ReadonlyMap<number, number> | undefined,
  reusedNoise: ReadonlyMap<number, number> | undefined,
  adaptation: AdaptationRecord | undefined,
  logger: Logger,
): Promise<void> {
  const latencies = new Map(reused);
  const noise = new Map(reusedNoise);
  for (const cell of measured) {
    latencies.set(cell.code, cell.measuredMs);
    if (cell.relativeNoise !== undefined) noise.set(cell.code, cell.relativeNoise);
  }
  // Entries are immutable per key; the run id makes this run's key new, the prefix finds the newest.
  const run = `${process.env.GITHUB_RUN_ID ?? Date.now()}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  const saved = await slot.save(`${measurementsKeyPrefix(identity)}${run}`, {
    fingerprintHash: fingerprint.hash,
    onnxruntimeVersion: fingerprint.onnxruntimeVersion,
    nodeVersion: fingerprint.nodeVersion,
    dataset: identity.dataset,
    settings: { ...identity.settings },
    latencies: [...latencies.entries()].sort((a, b) => a[0] - b[0]),
    noise: [...noise.entries()].sort((a, b) => a[0] - b[0]),
    ...(adaptation ? { model: encodeAdaptation(adaptation) } : {}),
  });
  if (saved) logger.info(`saved ${latencies.size} measurements of this hardware to the cache`);
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

/** The pull request this run belongs to, and whether its head lives in a fork. */
interface PullRequest {
  readonly number: number;
  readonly fromFork: boolean;
  readonly baseSha?: string;
}

function pullRequestOf(): PullRequest | undefined {
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

async function commentOnPullRequest(
  settings: ActionSettings,
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
