// The search job: the one place the whole method is written, stage by stage (measure, adapt,
// search, verify, recommend).
import { UsageError } from '../errors.js';
import { hardwareFingerprint } from '../hardware/fingerprint.js';
import { readCalibrationImages } from '../proxies/provider.js';
import { tradeoffFront } from '../search/front.js';
import { ensureWritableFolder } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import { Random } from '../util/random.js';
import { adaptToDevice, measurableScores, writePartial } from './adapt.js';
import { createDevice } from './device.js';
import { checkBudget, searchProblem, usableIn } from './problem.js';
import {
  controllerLocation,
  defaultTaskScores,
  loadController,
  resolveStrategy,
  runStrategy,
} from './strategy.js';
import type { SearchJobOptions, SearchResult } from './types.js';
import { verifyCandidates, withNoise } from './verify.js';

export async function runSearch(options: SearchJobOptions, logger: Logger): Promise<SearchResult> {
  const started = performance.now();
  if (!options.space.enumerable) {
    throw new UsageError(
      `the ${options.space.id} space (about ${options.space.size.toPrecision(2)} architectures) cannot be ` +
        `enumerated, and simnas searches only spaces whose fitted model it can score in full for now`,
    );
  }
  const device = createDevice(options.device, options.space, options.dataset, options.seed, logger);
  // Everything that can be refused is checked before the first measurement.
  if (options.outDir) ensureWritableFolder(options.outDir, '--out');
  if (options.calibrationImages) {
    await readCalibrationImages(options.calibrationImages, options.dataset);
  }
  const strategy = resolveStrategy(options, logger);
  const controller =
    strategy === 'controller'
      ? loadController(options.controllerPath, options.space, options.dataset)
      : undefined;
  try {
    const fingerprint =
      options.device.kind === 'live' ? (options.fingerprint ?? (await hardwareFingerprint())) : undefined;
    if (fingerprint) logger.info(`hardware ${fingerprint.tag} [${fingerprint.hash}]`);
    // Scores first: a search with no scored cell is refused before anything is measured.
    const { scores: allScores, id: taskScoreId } = await (
      options.taskScores ?? defaultTaskScores(options, logger)
    )(options.dataset);
    const adapted = await adaptToDevice(device, options, logger);
    if (options.budgetMs !== undefined) checkBudget(options.space, adapted, options.budgetMs, options.outDir);
    const scores = measurableScores(allScores, device, options.space);
    if (controller && controller.artifact.metadata.taskScoreId !== taskScoreId) {
      logger.warn(
        `the controller was pretrained on task scores ${controller.artifact.metadata.taskScoreId}, these are ` +
          `${taskScoreId}; it still searches them, but 'simnas pretrain' again would match them`,
      );
    }
    const { problem, budget } = searchProblem(options.space, adapted, scores, options.budgetMs);
    const evaluations = runStrategy(
      { strategy, evaluations: options.evaluations },
      problem,
      controller,
      new Random(options.seed).child('strategy'),
    );
    for (const code of evaluations.keys()) if (Number.isNaN(scores[code]!)) evaluations.delete(code);
    logger.info(`${strategy}: evaluated ${evaluations.size} cells on the latency model`);
    const check = await verifyCandidates(
      device,
      adapted,
      evaluations,
      {
        space: options.space,
        verify: options.verify,
        scores,
        budgetMs: budget.ms,
        noise: () => device.measurementNoise?.() ?? new Map<number, number>(),
        refitDataset: options.dataset,
      },
      logger,
    );
    writePartial(options.outDir, 'verified.json', { budgetMs: budget.ms, verified: check.verified });
    return {
      dataset: options.dataset,
      seed: options.seed,
      strategy,
      device: {
        kind: options.device.kind,
        name: device.name,
        ...(options.device.kind === 'table'
          ? { table: options.device.path, noise: options.device.noise }
          : {}),
      },
      ...(fingerprint ? { fingerprint } : {}),
      budget,
      ...withNoise(
        adapted.samples.map((sample) => ({ ...sample, taskScore: scores[sample.code]! })),
        check.verified,
        device.measurementNoise?.() ?? new Map<number, number>(),
      ),
      measurements: {
        samples: adapted.measurementsSpent,
        verification: check.measurementsSpent,
        total: adapted.measurementsSpent + check.measurementsSpent,
        reused: device.reusedCount ?? 0,
      },
      cellsWithoutScore: scores.filter((s) => Number.isNaN(s)).length,
      latencyModel: adapted.fit,
      taskScoreId,
      ...(controller
        ? {
            controller: {
              ...controllerLocation(controller.path, options.space, options.dataset),
              sha256: controller.sha256,
              simnasVersion: controller.artifact.metadata.simnasVersion,
              taskScoreId: controller.artifact.metadata.taskScoreId,
              priorHash: controller.artifact.metadata.priorHash,
            },
          }
        : {}),
      settings: {
        samples: options.samples,
        verify: options.verify,
        evaluations: options.evaluations,
        computeMissingScores: options.computeMissingScores ?? false,
        ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
      },
      cellsEvaluated: evaluations.size,
      front: tradeoffFront(evaluations, check.measured, adapted.predicted, scores, {
        usable: usableIn(options.space),
        format: (code) => options.space.format(options.space.fromCode(code)),
      }),
      recommendation: check.recommendation,
      ...(device.protocol ? { protocol: device.protocol } : {}),
      wallMs: performance.now() - started,
    };
  } finally {
    controller?.policy.dispose();
  }
}
