// Deploying a controller where architectures cannot be enumerated (FBNet), under a budget of
// distinct real task-score evaluations. The policy's episodes cost no real evaluation: they run on
// the stand-in (stand-in.ts) and the search's latency (the fitted model's conservative prediction),
// and every architecture they visit is ranked by the stand-in's objective. Only then does the real
// score get spent: first on the best proposals, then on a hill climb from the best architecture
// found so far whose neighbours are tried in the stand-in's order, a batch at a time. The
// pretrained controller and its untrained twin are deployed exactly alike.
import { existsSync } from 'node:fs';

import { UsageError } from '../errors.js';
import {
  EvaluationBudget,
  type ArchitectureEvaluations,
  type ArchitecturePolicy,
  type ArchitectureProblem,
  type ArchitectureSearchOptions,
} from '../search/architecture-search.js';
import { penalizedScore } from '../search/objective.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { packageFile } from '../util/package-files.js';
import { Random } from '../util/random.js';
import { bundledControllerName, checkCompatible, readArtifact, type ControllerMetadata } from './artifact.js';
import {
  ArchitectureEnvironment,
  type PolicyProblem,
  type VisitedArchitecture,
} from './architecture-environment.js';
import { ActorCritic } from './policy.js';
import { policyShapeFor } from './pretrain.js';
import { priorHashFor } from './prior.js';
import { runEpisodes } from './rollout.js';
import { LinearStandIn } from './stand-in.js';

/** Episodes the policy runs per deployment (as NB201's controller: CONTROLLER_EPISODES). */
export const ARCHITECTURE_CONTROLLER_EPISODES = 64;
/**
 * Share of the evaluation budget spent on the policy's best proposals; the rest refines the best of
 * them. Half and half, chosen before any benchmark ran (not tuned).
 */
export const PROPOSAL_SHARE = 0.5;
/** Architectures sent to the scorer at once (as random search's batch). */
export const DEPLOYMENT_BATCH = 8;

/** A controller ready to deploy in a space that cannot be enumerated. */
export interface ArchitectureController {
  readonly policy: ActorCritic;
  readonly stepsPerEpisode: number;
  readonly standIn: LinearStandIn;
}

/** Every architecture the policy visits on `problem` in `episodes` episodes, with its objective. */
export function proposeArchitectures(
  problem: PolicyProblem,
  policy: ActorCritic,
  options: { readonly episodes: number; readonly steps: number },
  random: Random,
): Map<string, VisitedArchitecture> {
  const env = new ArchitectureEnvironment(
    problem.space,
    { episodes: options.episodes, steps: options.steps },
    () => problem,
    random.child('starts'),
  );
  runEpisodes(env, policy, options.steps, random.child('actions'));
  return env.visited;
}

/**
 * The policy's proposals, then a stand-in-guided hill climb, within `options.evaluations` distinct
 * real task scores (see the header).
 */
export async function deployArchitectureController(
  problem: ArchitectureProblem,
  controller: ArchitectureController,
  options: ArchitectureSearchOptions,
  random: Random,
): Promise<ArchitectureEvaluations> {
  const { space } = problem;
  const { standIn } = controller;
  const guess = (a: Architecture): number =>
    penalizedScore(standIn.score(a), problem.latencyMs(a), problem.budgetMs);
  const proposals = proposeArchitectures(
    {
      space,
      score: (a) => standIn.score(a),
      latencyMs: (a) => problem.latencyMs(a),
      budgetMs: problem.budgetMs,
    },
    controller.policy,
    { episodes: ARCHITECTURE_CONTROLLER_EPISODES, steps: controller.stepsPerEpisode },
    random,
  );
  const ranked = [...proposals.values()]
    .map((visit, order) => ({ visit, order }))
    .sort((a, b) => b.visit.objective - a.visit.objective || a.order - b.order)
    .map(({ visit }) => visit.architecture);
  const budget = new EvaluationBudget(problem, options.evaluations);
  const proposalCount = Math.min(
    ranked.length,
    Math.max(1, Math.round(options.evaluations * PROPOSAL_SHARE)),
  );
  for (let start = 0; start < proposalCount && budget.left > 0; start += DEPLOYMENT_BATCH) {
    await budget.evaluate(ranked.slice(start, Math.min(start + DEPLOYMENT_BATCH, proposalCount)));
  }
  // Refinement: the best architecture scored so far, its untried neighbours in the stand-in's order.
  const exhausted = new Set<string>();
  while (budget.left > 0) {
    let current: { key: string; architecture: Architecture; objective: number } | undefined;
    for (const [key, e] of budget.evaluations) {
      if (!exhausted.has(key) && (!current || e.objective > current.objective)) {
        current = { key, architecture: e.architecture, objective: e.objective };
      }
    }
    if (!current) break;
    const untried = space
      .neighbours(current.architecture)
      .filter((a) => !budget.evaluations.has(space.key(a)))
      .map((architecture, order) => ({ architecture, order, guess: guess(architecture) }))
      .sort((a, b) => b.guess - a.guess || a.order - b.order);
    if (untried.length === 0) {
      exhausted.add(current.key);
      continue;
    }
    await budget.evaluate(
      untried.slice(0, Math.min(DEPLOYMENT_BATCH, budget.left)).map((u) => u.architecture),
    );
  }
  return budget.evaluations;
}

/** The search core's view of a deployed controller (runArchitectureStrategy's `policy`). */
export function architecturePolicy(controller: ArchitectureController): ArchitecturePolicy {
  return {
    minimumEvaluations: DEPLOYMENT_BATCH,
    search: (problem, options, random) => deployArchitectureController(problem, controller, options, random),
  };
}

/** A controller artifact loaded for a space that cannot be enumerated. */
export interface LoadedArchitectureController extends ArchitectureController {
  readonly path: string;
  /** SHA-256 of the artifact file, first 16 hex digits. */
  readonly sha256: string;
  readonly metadata: ControllerMetadata;
}

/** The controller bundled for a space and dataset (controllers/<space>-<dataset>.json). */
export function bundledArchitectureControllerPath(space: SearchSpace, dataset: string): string {
  return packageFile('controllers', bundledControllerName(space.id, dataset));
}

/**
 * Loads a controller for `space` (default: the bundled one), refusing one pretrained for another
 * space, dataset, prior or policy shape, or one without the stand-in it acts on.
 */
export function loadArchitectureController(
  file: string | undefined,
  space: SearchSpace,
  dataset: string,
): LoadedArchitectureController {
  const where = file ?? bundledArchitectureControllerPath(space, dataset);
  if (!file && !existsSync(where)) {
    throw new UsageError(
      `no bundled controller for ${dataset} in the ${space.id} space (${where}); pretrain one with ` +
        `'simnas pretrain --space ${space.id} --dataset ${dataset}' and pass --controller, or choose ` +
        `evolution, local or random`,
    );
  }
  const artifact = readArtifact(where);
  const shape = policyShapeFor(space, artifact.metadata.policy.hidden);
  checkCompatible(
    artifact.metadata,
    { space: space.id, dataset, priorHash: priorHashFor(space), policy: shape },
    where,
  );
  const record = artifact.metadata.standIn;
  if (!record) {
    throw new UsageError(
      `controller ${where} has no stand-in of the task score, which a controller for the ${space.id} space acts on; ` +
        `pretrain one with 'simnas pretrain --space ${space.id} --dataset ${dataset}'`,
    );
  }
  const policy = new ActorCritic(shape, new Random(0));
  policy.setWeights(artifact.weights);
  return {
    path: where,
    sha256: artifact.sha256,
    metadata: artifact.metadata,
    policy,
    stepsPerEpisode: artifact.metadata.reward.stepsPerEpisode,
    standIn: new LinearStandIn(space, record),
  };
}

/**
 * The same controller with freshly initialised (seeded) weights, the same stand-in and episode
 * length: deployed alike, it shows what pretraining buys (the `controller-untrained` strategy).
 */
export function untrainedArchitectureController(
  like: ArchitectureController,
  seed: number,
): ArchitectureController {
  return {
    policy: new ActorCritic(like.policy.shape, new Random(seed).child('untrained policy')),
    stepsPerEpisode: like.stepsPerEpisode,
    standIn: like.standIn,
  };
}
