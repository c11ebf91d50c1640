// Which search strategy runs, the pretrained controller it may need, and the task scores it
// searches.
import { existsSync } from 'node:fs';
import path from 'node:path';

import {
  bundledControllerName,
  checkCompatible,
  readArtifact,
  type ControllerArtifact,
} from '../controller/artifact.js';
import { ActorCritic } from '../controller/policy.js';
import { DEFAULT_PRETRAIN, policyShapeFor } from '../controller/pretrain.js';
import { PRIOR_HASH } from '../controller/prior.js';
import { deployController } from '../controller/rollout.js';
import { UsageError } from '../errors.js';
import { scoresInTable } from '../proxies/task-scorer.js';
import {
  architecturePolicy,
  bundledArchitectureControllerPath,
  loadArchitectureController,
  untrainedArchitectureController,
  type LoadedArchitectureController,
} from '../controller/architecture-rollout.js';
import {
  ARCHITECTURE_CONTROLLER_STRATEGIES,
  ARCHITECTURE_STRATEGIES,
  isArchitectureControllerStrategy,
  type AnyArchitectureStrategy,
  type ArchitecturePolicy,
} from '../search/architecture-search.js';
import type { SearchProblem } from '../search/objective.js';
import {
  evolutionSearch,
  exhaustiveSearch,
  localSearch,
  randomSearch,
  type Evaluations,
  type StrategyName,
} from '../search/strategies.js';
import type { SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import { packageFile } from '../util/package-files.js';
import { Random } from '../util/random.js';
import type { SearchJobOptions } from './types.js';

/** The controller shipped with simnas for a space and dataset. */
export function bundledControllerPath(space: SearchSpace, dataset: string): string {
  const name = bundledControllerName(space.id, dataset);
  return packageFile('controllers', name);
}

/**
 * `auto`: the controller when one is given (`--controller`); otherwise the strategy `simnas bench
 * search` shows best in such a space. In NB201 (HELP table, 20 devices, and HW-NAS-Bench's 5
 * devices, cifar10, 3 seeds, p25/p50/p75, 4.5% noise; README.md has the table) mean accuracy
 * regret over the six (table, budget) cells: exhaustive 0.619, controller-untrained 0.657 (with
 * twice the cells), evolution 0.671 (0.6% violations on HELP), local 0.701, the pretrained
 * controller 0.749, random 0.820: the pretrained controller loses to its untrained self and to
 * evolution at equal cells, so it is not the default. Exhaustive search of the fitted model is
 * best, has no violations and needs no policy: the default wherever a proxy table scores every cell.
 * Elsewhere (FBNet, NAS-Bench-Macro) every task score is a forward pass. In `simnas bench search
 * --space fbnet` (HELP's eyeriss, fpga, pixel3 columns, p25/p50/p75, 2 seeds, 64 task-score
 * evaluations, best-known from every strategy at 2x) the pretrained controller reached 95.6% of
 * the best-known task score, its untrained self 94.0% (behind at p25 and p75, level at p50),
 * evolution 76.9%, random 79.0%: the pretrained controller where one is bundled for the space and
 * dataset (FBNet CIFAR-100), else evolution.
 */
export function resolveStrategy(
  options: Pick<SearchJobOptions, 'strategy' | 'controllerPath' | 'space' | 'dataset'>,
  logger: Logger,
): StrategyName {
  if (options.strategy !== 'auto') return options.strategy;
  if (options.controllerPath) return 'controller';
  if (scoresInTable(options.space)) return 'exhaustive';
  if (existsSync(bundledArchitectureControllerPath(options.space, options.dataset))) {
    logger.info(`the ${options.space.id} space is scored on demand: searching with its bundled controller`);
    return 'controller';
  }
  logger.info(
    `the ${options.space.id} space is scored on demand and has no bundled controller for ${options.dataset}: ` +
      `searching with evolution`,
  );
  return 'evolution';
}

/**
 * Distinct architectures a strategy may evaluate by default. In a space with a proxy table a task
 * score is a lookup, so 500 costs nothing. Elsewhere each is a network's forward pass (FBNet
 * CIFAR-100: a median 0.3-0.45 s on this 2-core VM), and `simnas search` should finish in about a
 * minute here: 64 evaluations are about 25 s of it. Set by that time budget, not by the search
 * benchmark (whose figures at this budget the README gives).
 */
export function defaultEvaluations(space: SearchSpace): number {
  return scoresInTable(space) ? 500 : 64;
}

/** The strategy as one that runs over architectures, or a usage error naming those that do. */
export function architectureStrategyOf(strategy: StrategyName, space: SearchSpace): AnyArchitectureStrategy {
  if (strategy !== 'exhaustive') return strategy;
  const accepted = [...ARCHITECTURE_CONTROLLER_STRATEGIES, ...ARCHITECTURE_STRATEGIES];
  throw new UsageError(
    `--strategy ${strategy} cannot search the ${space.id} space: its task scores are computed on demand, a ` +
      `network's forward pass each, so no strategy can score every architecture; expected auto or one of ` +
      accepted.join(', '),
  );
}

/**
 * The deployed policy of a controller strategy over architectures (none for the others): the
 * bundled or given controller, or its untrained twin (same stand-in and episodes, seeded weights);
 * refused, with the evaluations it needs, before anything is measured.
 */
export function architecturePolicyFor(
  strategy: AnyArchitectureStrategy,
  options: Pick<SearchJobOptions, 'controllerPath' | 'space' | 'dataset' | 'seed'>,
  evaluations: number,
): { policy?: ArchitecturePolicy; controller?: LoadedArchitectureController } {
  if (!isArchitectureControllerStrategy(strategy)) return {};
  const controller = loadArchitectureController(options.controllerPath, options.space, options.dataset);
  const policy = architecturePolicy(
    strategy === 'controller' ? controller : untrainedArchitectureController(controller, options.seed),
  );
  checkControllerEvaluations(strategy, evaluations, policy);
  return { policy, ...(strategy === 'controller' ? { controller } : {}) };
}

/** Refuses an evaluation budget below what a controller strategy needs to start. */
export function checkControllerEvaluations(
  strategy: AnyArchitectureStrategy,
  evaluations: number,
  policy: ArchitecturePolicy,
): void {
  if (evaluations < policy.minimumEvaluations) {
    throw new UsageError(
      `--evaluations ${evaluations} is below what the ${strategy} strategy needs to start (its first batch ` +
        `of ${policy.minimumEvaluations} proposals); pass --evaluations ${policy.minimumEvaluations} or more`,
    );
  }
}

/** Evolution's population: the cells it draws before it can select and mutate. */
export const EVOLUTION_POPULATION = 20;

/**
 * Refuses an evaluation budget below what the strategy needs to start: evolution its population,
 * local search one full step of a climb (a cell and all its neighbours). Exhaustive search and the
 * controllers run their own number of cells.
 */
export function checkEvaluations(strategy: StrategyName, evaluations: number, space: SearchSpace): void {
  const neighbours = space.choices.reduce((sum, names) => sum + names.length - 1, 0);
  const needed = strategy === 'evolution' ? EVOLUTION_POPULATION : strategy === 'local' ? 1 + neighbours : 1;
  if (evaluations < needed) {
    throw new UsageError(
      `--evaluations ${evaluations} is below what the ${strategy} strategy needs to start ` +
        (strategy === 'evolution'
          ? `(its population of ${EVOLUTION_POPULATION} cells)`
          : `(one climb step: a cell and its ${neighbours} neighbours)`) +
        `; pass --evaluations ${needed} or more`,
    );
  }
}

export interface LoadedController {
  readonly path: string;
  /** SHA-256 of the artifact file, first 16 hex digits. */
  readonly sha256: string;
  readonly artifact: ControllerArtifact;
  readonly policy: ActorCritic;
}

/** Where a controller lay, as a report may publish it (see `SearchResult.controller.path`). */
export function controllerLocation(
  file: string,
  space: SearchSpace,
  dataset: string,
  cwd: string = process.cwd(),
): { path: string; bundled: boolean } {
  const absolute = path.resolve(cwd, file);
  if (absolute === bundledControllerPath(space, dataset)) {
    return { path: `controllers/${bundledControllerName(space.id, dataset)}`, bundled: true };
  }
  const relative = path.relative(cwd, absolute);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return { path: inside ? relative.split(path.sep).join('/') : path.basename(absolute), bundled: false };
}

export function loadController(
  path: string | undefined,
  space: SearchSpace,
  dataset: string,
): LoadedController {
  const file = path ?? bundledControllerPath(space, dataset);
  if (!path && !existsSync(file)) {
    throw new UsageError(
      `no bundled controller for ${dataset} in the ${space.id} space (${file}); pretrain one with 'simnas pretrain --dataset ${dataset}' ` +
        `and pass --controller, or choose --strategy controller-untrained|evolution|local|random|exhaustive`,
    );
  }
  const artifact = readArtifact(file);
  checkCompatible(
    artifact.metadata,
    {
      space: space.id,
      dataset,
      priorHash: PRIOR_HASH,
      policy: policyShapeFor(space, artifact.metadata.policy.hidden),
    },
    file,
  );
  const policy = new ActorCritic(policyShapeFor(space, artifact.metadata.policy.hidden), new Random(0));
  policy.setWeights(artifact.weights);
  return { path: file, sha256: artifact.sha256, artifact, policy };
}

/** What the controller strategies deploy: a policy and the episode length it runs. */
export interface DeployedPolicy {
  readonly policy: ActorCritic;
  readonly stepsPerEpisode: number;
}

export function deployedPolicy(controller: LoadedController): DeployedPolicy {
  return { policy: controller.policy, stepsPerEpisode: controller.artifact.metadata.reward.stepsPerEpisode };
}

/**
 * The controller's policy with freshly initialised (seeded) weights, of the shape and episode
 * length of `like` (a loaded controller) or of `simnas pretrain`'s defaults: deployed the same way
 * as the pretrained one, it shows what pretraining buys.
 */
export function untrainedPolicy(space: SearchSpace, seed: number, like?: LoadedController): DeployedPolicy {
  const hidden = like?.artifact.metadata.policy.hidden ?? DEFAULT_PRETRAIN.hidden;
  return {
    policy: new ActorCritic(policyShapeFor(space, hidden), new Random(seed).child('untrained policy')),
    stepsPerEpisode: like?.artifact.metadata.reward.stepsPerEpisode ?? DEFAULT_PRETRAIN.stepsPerEpisode,
  };
}

export function runStrategy(
  options: { readonly strategy: StrategyName; readonly evaluations: number },
  problem: SearchProblem,
  policy: DeployedPolicy | undefined,
  random: Random,
): Evaluations {
  switch (options.strategy) {
    case 'exhaustive':
      return exhaustiveSearch(problem);
    case 'random':
      return randomSearch(problem, options.evaluations, random);
    case 'evolution':
      return evolutionSearch(
        problem,
        { cells: options.evaluations, population: EVOLUTION_POPULATION },
        random,
      );
    case 'local':
      return localSearch(problem, options.evaluations, random);
    case 'controller':
    case 'controller-untrained':
      if (!policy) throw new Error(`the ${options.strategy} strategy needs a policy`);
      return deployController(problem, policy.policy, policy.stepsPerEpisode, random);
  }
}

export function defaultTaskScores(
  options: SearchJobOptions,
  logger: Logger,
): (dataset: string) => Promise<{ scores: Float64Array; id: string }> {
  const { space } = options;
  // runSearch scores every space without a score table on demand (scoresInTable): reaching this is a bug.
  if (!space.openScoreTable) {
    throw new Error(`the ${space.id} space has no score table to search by code`);
  }
  const opened = space.openScoreTable({
    ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
    logger,
  });
  return async (dataset) => {
    const table = await opened;
    const partial = await table.allScores(dataset, { computeMissing: false });
    const missing = partial.scores.filter((s) => Number.isNaN(s)).length;
    if (missing === 0) return partial;
    if (!options.computeMissingScores) {
      // The table holds NASWOT on simnas's synthetic images: with a user's images every cell needs
      // its own NASWOT (synflow and logsynflow, which never see images, still come from the table).
      const why = options.calibrationImages
        ? `NASWOT on the images of --calibration-images is not in the proxy table`
        : `the proxy table lacks them`;
      const remedy = options.calibrationImages
        ? `pass --compute-missing-scores to compute NASWOT on those images (about 0.5 s per distinct network, ` +
          `${table.networks.toLocaleString('en-US')} networks in all), or leave out --calibration-images`
        : `pass --compute-missing-scores to compute them (about 1 s per distinct network), or run ` +
          `'npm run proxies:build' once to complete the table`;
      if (missing === partial.scores.length) {
        throw new UsageError(`no cell has a task score for ${dataset}: ${why}; ${remedy}`);
      }
      logger.warn(
        `${missing} of ${partial.scores.length} cells have no task score for ${dataset} (${why}); the search ` +
          `covers only the other ${partial.scores.length - missing}. To cover them, ${remedy}.`,
      );
      return partial;
    }
    logger.warn(
      `computing the ${missing} cells the proxy table lacks for ${dataset} (about 1 s per distinct network)`,
    );
    return table.allScores(dataset, { computeMissing: true });
  };
}
