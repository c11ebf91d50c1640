// The search job: the one place the whole method is written, stage by stage (measure, adapt,
// search, verify, recommend).
import { UsageError } from '../errors.js';
import { hardwareFingerprint } from '../hardware/fingerprint.js';
import { readCalibrationImages } from '../proxies/provider.js';
import { tradeoffFront } from '../search/front.js';
import { objective, type SearchProblem } from '../search/objective.js';
import type { Evaluations } from '../search/strategies.js';
import type { SearchSpace } from '../spaces/space.js';
import { ensureWritableFolder } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import { Random } from '../util/random.js';
import { adaptToDevice, measurableScores, writePartial } from './adapt.js';
import { createDevice } from './device.js';
import { checkBudget, searchProblem, usableIn } from './problem.js';
import { measureReferences } from './references.js';
import {
  checkEvaluations,
  controllerLocation,
  defaultTaskScores,
  deployedPolicy,
  loadController,
  resolveStrategy,
  runStrategy,
  untrainedPolicy,
} from './strategy.js';
import type { SearchJobOptions, SearchResult } from './types.js';
import { typicalNoise, verifyCandidates, withNoise } from './verify.js';

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
  checkEvaluations(strategy, options.evaluations, options.space);
  const controller =
    strategy === 'controller'
      ? loadController(options.controllerPath, options.space, options.dataset)
      : undefined;
  const policy = controller
    ? deployedPolicy(controller)
    : strategy === 'controller-untrained'
      ? untrainedPolicy(options.space, options.seed)
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
    const { problem, budget } = searchProblem(
      options.space,
      adapted,
      scores,
      options.budgetMs,
      typicalNoise(device.measurementNoise?.() ?? new Map()),
      options.seed,
    );
    const evaluations = runStrategy(
      { strategy, evaluations: options.evaluations },
      problem,
      policy,
      new Random(options.seed).child('strategy'),
    );
    for (const code of evaluations.keys()) if (Number.isNaN(scores[code]!)) evaluations.delete(code);
    inDeployedForm(evaluations, options.space, scores, problem);
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
    const references = await measureReferences(device, options.space, (code) => scores[code]!, logger);
    const recommended = options.space.fromCode(check.recommendation.code);
    return {
      space: options.space.id,
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
        references: references.measurementsSpent,
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
      recommendation: {
        ...check.recommendation,
        publicForm: options.space.publicForm(recommended, options.dataset),
      },
      references: references.references,
      ...(device.protocol ? { protocol: device.protocol } : {}),
      ...(device.conditions && device.conditions.length > 0 ? { conditions: device.conditions } : {}),
      wallMs: performance.now() - started,
    };
  } finally {
    policy?.policy.dispose();
  }
}

/**
 * Architectures that are the same network as their deployed form (NB201: a cell with dead edges
 * and its pruned form) become that form, in place: verification never measures one network twice
 * under two names, and runs that happened to evaluate different spellings of a network recommend
 * the same string (cold runs of `search --budget 2` here recommended four spellings of one
 * network, a team would have seen its comment change). Only where the deployed form has the same
 * task score, so nothing is recommended on a score it does not have.
 */
export function inDeployedForm(
  evaluations: Evaluations,
  space: SearchSpace,
  scores: Float64Array,
  problem: SearchProblem,
): void {
  if (!space.enumerable) return;
  for (const code of [...evaluations.keys()]) {
    const deployed = space.code(space.deployed(space.fromCode(code)));
    if (deployed === code || !(Math.abs(scores[deployed]! - scores[code]!) <= 1e-9)) continue;
    evaluations.delete(code);
    if (!evaluations.has(deployed)) evaluations.set(deployed, objective(problem, deployed));
  }
}
