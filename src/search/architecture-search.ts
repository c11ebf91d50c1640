// Search strategies for spaces that cannot be enumerated (FBNet: 9^22 architectures, codes past
// 2^53). Instead of dense arrays by code, the problem gives an architecture's task score and
// latency on demand; the task score is the expensive part (a network's forward pass for NASWOT),
// so every strategy spends a budget of distinct task-score evaluations and asks for them in
// batches (a scorer may run a batch concurrently; its caches answer repeats). Random search,
// regularized evolution and steepest-ascent local search as in strategies.ts (the dense fast path
// NB201 keeps), on architectures keyed by `space.key`, ranked by the same objective.
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Random } from '../util/random.js';
import { penalizedScore } from './objective.js';
import { mutate } from './strategies.js';

/** What a search optimizes on one device when architectures cannot be enumerated. */
export interface ArchitectureProblem {
  readonly space: SearchSpace;
  /** Task scores in [0, 1] of distinct architectures, in their order; the expensive part. */
  taskScores(architectures: readonly Architecture[]): Promise<readonly number[]>;
  /** The latency in ms the search ranks by (predicted and conservative, or exact). */
  latencyMs(architecture: Architecture): number;
  readonly budgetMs: number;
}

export interface ArchitectureEvaluation {
  readonly architecture: Architecture;
  readonly taskScore: number;
  readonly latencyMs: number;
  /** `penalizedScore` of the two: what every strategy maximizes. */
  readonly objective: number;
}

/** `space.key` -> evaluation, for every distinct architecture a strategy scored, in scoring order. */
export type ArchitectureEvaluations = Map<string, ArchitectureEvaluation>;

/** The strategies that need no enumeration and no policy. */
export const ARCHITECTURE_STRATEGIES = ['evolution', 'local', 'random'] as const;
export type ArchitectureStrategy = (typeof ARCHITECTURE_STRATEGIES)[number];

export interface ArchitectureSearchOptions {
  /** Distinct architectures whose task score may be computed. */
  readonly evaluations: number;
  /** Evolution's population (default 20). */
  readonly population?: number;
  /** Evolution's tournament size (default 5). */
  readonly tournament?: number;
  /** Architectures random search and evolution send to the scorer at once (default 8 and 1). */
  readonly batch?: number;
}

/** Random search's batch: draws are independent, so any size ranks alike; 8 keeps a scorer busy. */
const RANDOM_BATCH = 8;
/** Gives up on a strategy that keeps drawing architectures it has scored (a tiny space). */
const TRIES_PER_EVALUATION = 50;

/**
 * The distinct task-score evaluations a strategy may spend: scores what is new (in one batch, as
 * far as the budget goes) and remembers everything it scored.
 */
export class EvaluationBudget {
  readonly evaluations: ArchitectureEvaluations = new Map();

  constructor(
    private readonly problem: ArchitectureProblem,
    readonly limit: number,
  ) {}

  get left(): number {
    return this.limit - this.evaluations.size;
  }

  /** The objective of each architecture; undefined for new ones past the budget. */
  async evaluate(architectures: readonly Architecture[]): Promise<(number | undefined)[]> {
    const { space } = this.problem;
    const fresh = new Map<string, Architecture>();
    for (const architecture of architectures) {
      const key = space.key(architecture);
      if (fresh.size < this.left && !this.evaluations.has(key)) fresh.set(key, architecture);
    }
    if (fresh.size > 0) {
      const batch = [...fresh.values()];
      const scores = await this.problem.taskScores(batch);
      batch.forEach((architecture, i) => {
        const taskScore = scores[i]!;
        const latencyMs = this.problem.latencyMs(architecture);
        this.evaluations.set(space.key(architecture), {
          architecture,
          taskScore,
          latencyMs,
          objective: penalizedScore(taskScore, latencyMs, this.problem.budgetMs),
        });
      });
    }
    return architectures.map((architecture) => this.evaluations.get(space.key(architecture))?.objective);
  }
}

/** Uniformly random architectures, `batch` at a time, until the budget is spent. */
export async function randomArchitectureSearch(
  problem: ArchitectureProblem,
  options: ArchitectureSearchOptions,
  random: Random,
): Promise<ArchitectureEvaluations> {
  const budget = new EvaluationBudget(problem, options.evaluations);
  const batch = options.batch ?? RANDOM_BATCH;
  for (let tries = 0; budget.left > 0 && tries < budget.limit * TRIES_PER_EVALUATION; tries += batch) {
    await budget.evaluate(
      Array.from({ length: Math.min(batch, budget.left) }, () => problem.space.sample(random)),
    );
  }
  return budget.evaluations;
}

/**
 * Regularized evolution (Real et al., 2019): a random population, then children of tournament
 * winners by one mutation each, the oldest member dying for each child. `batch` children are bred
 * from the same population before they are scored together (1: the sequential original).
 */
export async function evolutionArchitectureSearch(
  problem: ArchitectureProblem,
  options: ArchitectureSearchOptions,
  random: Random,
): Promise<ArchitectureEvaluations> {
  const { space } = problem;
  const budget = new EvaluationBudget(problem, options.evaluations);
  const size = Math.min(options.population ?? 20, budget.limit);
  const tournament = options.tournament ?? 5;
  const batch = options.batch ?? 1;
  const population: { architecture: Architecture; objective: number }[] = [];
  const cap = budget.limit * TRIES_PER_EVALUATION;
  let tries = 0;
  while (population.length < size && budget.left > 0 && tries++ < cap) {
    const drawn = Array.from({ length: size - population.length }, () => space.sample(random));
    const values = await budget.evaluate(drawn);
    const seen = new Set(population.map((member) => space.key(member.architecture)));
    drawn.forEach((architecture, i) => {
      const key = space.key(architecture);
      if (values[i] === undefined || seen.has(key) || population.length >= size) return;
      seen.add(key);
      population.push({ architecture, objective: values[i] });
    });
  }
  for (; population.length > 0 && budget.left > 0 && tries < cap; tries += batch) {
    const children = Array.from({ length: Math.min(batch, budget.left) }, () => {
      const contenders = Array.from({ length: tournament }, () => population[random.int(population.length)]!);
      const parent = contenders.reduce((best, member) => (member.objective > best.objective ? member : best));
      return mutate(space, parent.architecture, () => random.next());
    });
    const values = await budget.evaluate(children);
    children.forEach((architecture, i) => {
      if (values[i] === undefined) return;
      population.push({ architecture, objective: values[i] });
      population.shift();
    });
  }
  return budget.evaluations;
}

/**
 * Steepest-ascent hill climbs from random starts: all neighbours of the current architecture are
 * scored as one batch and the best improving one taken, restarting at a local optimum, until the
 * budget is spent (a step the budget cuts short ranks only the neighbours it could score).
 */
export async function localArchitectureSearch(
  problem: ArchitectureProblem,
  options: ArchitectureSearchOptions,
  random: Random,
): Promise<ArchitectureEvaluations> {
  const { space } = problem;
  const budget = new EvaluationBudget(problem, options.evaluations);
  for (let tries = 0; budget.left > 0 && tries < budget.limit * TRIES_PER_EVALUATION; tries++) {
    let current = space.sample(random);
    let [value] = await budget.evaluate([current]);
    while (value !== undefined && budget.left > 0) {
      const neighbours = space.neighbours(current);
      const values = await budget.evaluate(neighbours);
      let best = -1;
      values.forEach((v, i) => {
        if (v !== undefined && v > (best < 0 ? value! : values[best]!)) best = i;
      });
      if (best < 0) break;
      current = neighbours[best]!;
      value = values[best];
    }
  }
  return budget.evaluations;
}

/** The controller strategies: a policy (pretrained, or the same one untrained) proposes. */
export const ARCHITECTURE_CONTROLLER_STRATEGIES = ['controller', 'controller-untrained'] as const;
export type ArchitectureControllerStrategy = (typeof ARCHITECTURE_CONTROLLER_STRATEGIES)[number];
/** Every strategy over architectures. */
export type AnyArchitectureStrategy = ArchitectureStrategy | ArchitectureControllerStrategy;

/**
 * A deployed controller as the search core sees it (src/controller/architecture-rollout.ts builds
 * one): it spends the budget of task-score evaluations its own way.
 */
export interface ArchitecturePolicy {
  /** Evaluations it needs to start (its first batch of proposals), for a clear refusal below that. */
  readonly minimumEvaluations: number;
  search(
    problem: ArchitectureProblem,
    options: ArchitectureSearchOptions,
    random: Random,
  ): Promise<ArchitectureEvaluations>;
}

export function isArchitectureControllerStrategy(
  strategy: string,
): strategy is ArchitectureControllerStrategy {
  return (ARCHITECTURE_CONTROLLER_STRATEGIES as readonly string[]).includes(strategy);
}

/**
 * Runs any strategy over architectures; the controller strategies need `policy` (the pretrained
 * controller or its untrained twin, deployed alike).
 */
export function runArchitectureStrategy(
  strategy: AnyArchitectureStrategy,
  problem: ArchitectureProblem,
  options: ArchitectureSearchOptions,
  random: Random,
  policy?: ArchitecturePolicy,
): Promise<ArchitectureEvaluations> {
  switch (strategy) {
    case 'controller':
    case 'controller-untrained':
      if (!policy) return Promise.reject(new Error(`the ${strategy} strategy needs a policy`));
      return policy.search(problem, options, random);
    case 'random':
      return randomArchitectureSearch(problem, options, random);
    case 'evolution':
      return evolutionArchitectureSearch(problem, options, random);
    case 'local':
      return localArchitectureSearch(problem, options, random);
  }
}

/** The `count` best evaluations by objective, best first (ties: first scored first). */
export function topArchitectures(
  evaluations: ArchitectureEvaluations,
  count: number,
): ArchitectureEvaluation[] {
  return [...evaluations.values()]
    .map((evaluation, order) => ({ evaluation, order }))
    .sort((a, b) => b.evaluation.objective - a.evaluation.objective || a.order - b.order)
    .slice(0, count)
    .map(({ evaluation }) => evaluation);
}
