// The search job: the one place the whole method is written, stage by stage (measure, adapt,
// search, verify, recommend).
import { availableParallelism } from 'node:os';

import { UsageError } from '../errors.js';
import { hardwareFingerprint } from '../hardware/fingerprint.js';
import { tradeoffFront } from '../search/front.js';
import { objective, type SearchProblem } from '../search/objective.js';
import type { Device } from '../devices/device.js';
import { deviceModelOf } from '../devices/space-model.js';
import { createTaskScorer, readCalibrationImages, scoresInTable } from '../proxies/task-scorer.js';
import type { AnyArchitectureStrategy, ArchitecturePolicy } from '../search/architecture-search.js';
import type { Evaluations, StrategyName } from '../search/strategies.js';
import { numberingOf, type Numbering } from '../spaces/numbering.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { ensureWritableFolder } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import { Random } from '../util/random.js';
import { adaptToDevice, measurableScores, writePartial } from './adapt.js';
import { createDevice } from './device.js';
import { checkBudget, searchProblem, usableIn, type SearchBudget } from './problem.js';
import { measureReferences } from './references.js';
import { searchArchitectures } from './search-architectures.js';
import {
  architecturePolicyFor,
  architectureStrategyOf,
  checkEvaluations,
  controllerLocation,
  defaultEvaluations,
  defaultTaskScores,
  deployedPolicy,
  loadController,
  resolveStrategy,
  runStrategy,
  untrainedPolicy,
} from './strategy.js';
import type { AdaptedDevice, SearchJobOptions, SearchResult } from './types.js';
import { typicalNoise, verifyCandidates, withNoise } from './verify.js';

/** Threads a task score may use: 2 took a third off one FBNet score here (0.44 s to 0.32 s). */
const SCORING_THREADS_MAX = 4;

export async function runSearch(options: SearchJobOptions, logger: Logger): Promise<SearchResult> {
  const started = performance.now();
  const { space } = options;
  const numbering = numberingOf(space);
  // Task scores on demand (a network's forward pass each) wherever no proxy table holds them all.
  const onDemand = !scoresInTable(space);
  if (options.device.kind === 'table' && onDemand) {
    // Such a search meets architectures no table row may hold, and could not verify them.
    throw new UsageError(
      `--device table: the ${space.id} space is searched architecture by architecture, and a recorded table ` +
        `holds latencies for its rows only; search this machine (--device live), or replay a table with ` +
        `'simnas bench search --space ${space.id} --table CSV'`,
    );
  }
  const device = createDevice(options.device, numbering, options.dataset, options.seed, logger);
  // Everything that can be refused is checked before the first measurement.
  if (options.outDir) ensureWritableFolder(options.outDir, '--out');
  if (options.calibrationImages) {
    await readCalibrationImages(space, options.calibrationImages, options.dataset);
  }
  const strategy = resolveStrategy(options, logger);
  const evaluationsAllowed = options.evaluations ?? defaultEvaluations(space);
  checkEvaluations(strategy, evaluationsAllowed, space);
  const architectureStrategy = onDemand ? architectureStrategyOf(strategy, space) : undefined;
  const deployed = architectureStrategy
    ? architecturePolicyFor(architectureStrategy, options, evaluationsAllowed)
    : undefined;
  const controller =
    strategy === 'controller' && !architectureStrategy
      ? loadController(options.controllerPath, options.space, options.dataset)
      : undefined;
  const policy = controller
    ? deployedPolicy(controller)
    : strategy === 'controller-untrained' && !architectureStrategy
      ? untrainedPolicy(options.space, options.seed)
      : undefined;
  // What the report says of the controller used, in either kind of space.
  const used = controller
    ? { path: controller.path, sha256: controller.sha256, metadata: controller.artifact.metadata }
    : deployed?.controller;
  try {
    const fingerprint =
      options.device.kind === 'live' ? (options.fingerprint ?? (await hardwareFingerprint())) : undefined;
    if (fingerprint) logger.info(`hardware ${fingerprint.tag} [${fingerprint.hash}]`);
    const noiseNow = (): number | ReadonlyMap<number, number> => device.measurementNoise?.() ?? new Map();
    const searched = architectureStrategy
      ? await searchOnDemand(
          options,
          device,
          numbering,
          { strategy: architectureStrategy, policy: deployed?.policy },
          evaluationsAllowed,
          logger,
        )
      : await searchByCode(options, device, numbering, strategy, evaluationsAllowed, policy, logger);
    const { evaluations, scores, adapted, budget } = searched;
    if (used && used.metadata.taskScoreId !== searched.taskScoreId) {
      logger.warn(
        `the controller was pretrained on task scores ${used.metadata.taskScoreId}, these are ` +
          `${searched.taskScoreId}; it still searches them, but 'simnas pretrain' again would match them`,
      );
    }
    for (const code of evaluations.keys()) if (Number.isNaN(scores[code]!)) evaluations.delete(code);
    logger.info(`${strategy}: evaluated ${evaluations.size} architectures on the latency model`);
    const check = await verifyCandidates(
      device,
      adapted,
      evaluations,
      {
        space,
        verify: options.verify,
        scores,
        budgetMs: budget.ms,
        ...(budget.kneeNumber !== undefined
          ? { knee: deployedNumber(space, numbering, scores, budget.kneeNumber) }
          : {}),
        noise: noiseNow,
        refitDataset: options.dataset,
        architectureOf: (number) => numbering.architectureOf(number),
        fitModel: (samples) => deviceModelOf(space).fit(samples, options.dataset),
      },
      logger,
    );
    writePartial(options.outDir, 'verified.json', { budgetMs: budget.ms, verified: check.verified });
    const references = await measureReferences(device, space, searched.scoreOf, logger);
    const recommended = numbering.architectureOf(check.recommendation.code);
    return {
      space: space.id,
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
      budget: reportedBudget(budget),
      ...withNoise(
        adapted.samples.map((sample) => ({ ...sample, taskScore: scores[sample.code]! })),
        check.verified,
        noiseNow(),
      ),
      measurements: {
        samples: adapted.measurementsSpent,
        verification: check.measurementsSpent,
        total: adapted.measurementsSpent + check.measurementsSpent,
        reused: device.reusedCount ?? 0,
        references: references.measurementsSpent,
      },
      cellsWithoutScore: searched.cellsWithoutScore,
      latencyModel: adapted.fit,
      taskScoreId: searched.taskScoreId,
      ...(used
        ? {
            controller: {
              ...controllerLocation(used.path, options.space, options.dataset),
              sha256: used.sha256,
              simnasVersion: used.metadata.simnasVersion,
              taskScoreId: used.metadata.taskScoreId,
              priorHash: used.metadata.priorHash,
            },
          }
        : {}),
      settings: {
        samples: options.samples,
        verify: options.verify,
        evaluations: evaluationsAllowed,
        computeMissingScores: options.computeMissingScores ?? false,
        ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
      },
      cellsEvaluated: evaluations.size,
      front: tradeoffFront(evaluations, check.measured, adapted.predicted, scores, {
        usable: usableIn(numbering),
        format: (number) => space.format(numbering.architectureOf(number)),
      }),
      recommendation: {
        ...check.recommendation,
        publicForm: space.publicForm(recommended, options.dataset),
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

/** What the search stage hands verification: arrays by architecture number, and the budget. */
interface SearchedSpace {
  readonly evaluations: Evaluations;
  readonly scores: Float64Array;
  readonly adapted: AdaptedDevice;
  readonly budget: SearchBudget;
  readonly taskScoreId: string;
  readonly cellsWithoutScore: number;
  readonly scoreOf: (architecture: Architecture) => Promise<number>;
}

/**
 * The search of a space scored on demand: the scorer (and its reference sample) is ready before
 * anything is measured; then the samples, the fit, and a strategy over architectures.
 */
async function searchOnDemand(
  options: SearchJobOptions,
  device: Device,
  numbering: Numbering,
  search: { readonly strategy: AnyArchitectureStrategy; readonly policy: ArchitecturePolicy | undefined },
  evaluationsAllowed: number,
  logger: Logger,
): Promise<SearchedSpace> {
  const scorer =
    options.taskScorer ??
    (await createTaskScorer(options.space, {
      dataset: options.dataset,
      // Scores are computed between measurements, never beside them: every core may help. The
      // values do not depend on the thread count (NASWOT's sign patterns, checked on FBNet).
      threads: Math.min(SCORING_THREADS_MAX, availableParallelism()),
      ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
      logger,
    }));
  const adapted = await adaptToDevice(device, { ...options, numbering }, logger);
  if (!adapted.model) throw new Error('a search scored on demand always fits its latency model anew');
  const outcome = await searchArchitectures(
    {
      numbering,
      dataset: options.dataset,
      adapted: { ...adapted, model: adapted.model },
      budgetMs: options.budgetMs,
      noise: typicalNoise(device.measurementNoise?.() ?? new Map()),
      seed: options.seed,
      strategy: search.strategy,
      ...(search.policy ? { policy: search.policy } : {}),
      evaluations: evaluationsAllowed,
      scorer,
      ...(options.outDir ? { outDir: options.outDir } : {}),
      random: new Random(options.seed).child('strategy'),
    },
    logger,
  );
  return {
    ...outcome,
    taskScoreId: scorer.id,
    cellsWithoutScore: 0,
    scoreOf: (architecture) => scorer.score(architecture),
  };
}

/** The search of an enumerable space: every cell's score known, the fitted model predicted in full. */
async function searchByCode(
  options: SearchJobOptions,
  device: Device,
  numbering: Numbering,
  strategy: StrategyName,
  evaluationsAllowed: number,
  policy: ReturnType<typeof deployedPolicy> | undefined,
  logger: Logger,
): Promise<SearchedSpace> {
  // Scores first: a search with no scored cell is refused before anything is measured.
  const { scores: allScores, id: taskScoreId } = await (
    options.taskScores ?? defaultTaskScores(options, logger)
  )(options.dataset);
  const adapted = await adaptToDevice(device, { ...options, numbering }, logger);
  if (options.budgetMs !== undefined) checkBudget(numbering, adapted, options.budgetMs, options.outDir);
  const scores = measurableScores(allScores, device, options.space);
  const { problem, budget } = searchProblem(
    numbering,
    adapted,
    scores,
    options.budgetMs,
    typicalNoise(device.measurementNoise?.() ?? new Map()),
    options.seed,
  );
  const evaluations = runStrategy(
    { strategy, evaluations: evaluationsAllowed },
    problem,
    policy,
    new Random(options.seed).child('strategy'),
  );
  for (const code of evaluations.keys()) if (Number.isNaN(scores[code]!)) evaluations.delete(code);
  inDeployedForm(evaluations, options.space, scores, problem);
  return {
    evaluations,
    scores,
    adapted,
    budget,
    taskScoreId,
    cellsWithoutScore: scores.filter((s) => Number.isNaN(s)).length,
    scoreOf: (architecture) => Promise.resolve(scores[numbering.numberOf(architecture)]!),
  };
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
    if (deployed === code || !sameScore(scores, deployed, code)) continue;
    evaluations.delete(code);
    if (!evaluations.has(deployed)) evaluations.set(deployed, objective(problem, deployed));
  }
}

/** The number of an architecture's deployed form where that has the same task score, else its own. */
function deployedNumber(
  space: SearchSpace,
  numbering: Numbering,
  scores: Float64Array,
  number: number,
): number {
  const deployed = numbering.numberOf(space.deployed(numbering.architectureOf(number)));
  return sameScore(scores, deployed, number) ? deployed : number;
}

function sameScore(scores: Float64Array, a: number, b: number): boolean {
  return Math.abs(scores[a]! - scores[b]!) <= 1e-9;
}

/** The budget as a report gives it: without the knee's number, which means nothing outside the job. */
function reportedBudget({ kneeNumber: _number, ...budget }: SearchBudget): SearchResult['budget'] {
  return budget;
}
