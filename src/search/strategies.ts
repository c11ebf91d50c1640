// Search strategies over one device's problem. Each returns the cells it evaluated with their
// objective values; the caller ranks, verifies and reports. Random and evolution take an
// evaluation budget so they can be compared with the controller at an equal number of cells.
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Random } from '../util/random.js';
import { objective, type SearchProblem } from './objective.js';

/**
 * `controller-untrained` is the controller's policy with freshly initialised weights, deployed the
 * same way (episodes, then hill climbs): the ablation that shows what pretraining buys. `local` is
 * repeated steepest-ascent hill climbing from random starts.
 */
export const STRATEGIES = [
  'controller',
  'controller-untrained',
  'evolution',
  'local',
  'random',
  'exhaustive',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];
/** What a user may ask for: a strategy, or `auto` (the controller when one exists, else evolution). */
export const STRATEGY_CHOICES = ['auto', ...STRATEGIES] as const;
export type StrategyChoice = (typeof STRATEGY_CHOICES)[number];

/** Cell code -> objective value, for every distinct cell a strategy evaluated. */
export type Evaluations = Map<number, number>;

export function exhaustiveSearch(problem: SearchProblem): Evaluations {
  const out: Evaluations = new Map();
  for (let code = 0; code < problem.space.size; code++) out.set(code, objective(problem, code));
  return out;
}

export function randomSearch(problem: SearchProblem, cells: number, random: Random): Evaluations {
  const out: Evaluations = new Map();
  const count = Math.min(cells, problem.space.size);
  while (out.size < count) {
    const code = random.int(problem.space.size);
    if (!out.has(code)) out.set(code, objective(problem, code));
  }
  return out;
}

export interface EvolutionOptions {
  /** Distinct cells to evaluate. */
  readonly cells: number;
  readonly population?: number;
  readonly tournament?: number;
}

/**
 * Regularized evolution (Real et al., 2019): tournament selection, single-edge mutation, the
 * oldest member dies. Stops after `cells` distinct evaluations (or a hard cap on tries).
 */
export function evolutionSearch(
  problem: SearchProblem,
  options: EvolutionOptions,
  random: Random,
): Evaluations {
  const populationSize = options.population ?? 20;
  const tournament = options.tournament ?? 5;
  const { space } = problem;
  const limit = Math.min(options.cells, space.size);
  const out: Evaluations = new Map();
  const evaluate = recordingObjective(problem, out);
  const population: number[] = [];
  while (population.length < Math.min(populationSize, limit)) {
    const code = random.int(space.size);
    evaluate(code);
    population.push(code);
  }
  for (let tries = 0; out.size < limit && tries < limit * 50; tries++) {
    const contenders = Array.from({ length: tournament }, () => population[random.int(population.length)]!);
    const parent = contenders.reduce((best, code) => (evaluate(code) > evaluate(best) ? code : best));
    const child = space.code(mutate(space, space.fromCode(parent), () => random.next()));
    evaluate(child);
    population.push(child);
    population.shift();
  }
  return out;
}

/**
 * Local search: steepest-ascent hill climbs (every single-position neighbour evaluated, the best
 * improving one taken) from random starting cells, restarting at a local optimum, until `cells`
 * distinct cells have been evaluated.
 */
export function localSearch(problem: SearchProblem, cells: number, random: Random): Evaluations {
  const { space } = problem;
  const limit = Math.min(cells, space.size);
  const out: Evaluations = new Map();
  const evaluate = recordingObjective(problem, out);
  for (let tries = 0; out.size < limit && tries < limit * 50; tries++) {
    let current = random.int(space.size);
    evaluate(current);
    while (out.size < limit) {
      let best = current;
      for (const neighbour of space.neighbours(space.fromCode(current))) {
        if (out.size >= limit) break;
        const code = space.code(neighbour);
        if (evaluate(code) > evaluate(best)) best = code;
      }
      if (best === current) break;
      current = best;
    }
  }
  return out;
}

/**
 * Steepest-ascent hill climbing from the `starts` best cells evaluated so far: every single-edge
 * neighbour of the current cell is evaluated and the best improving one is taken, until none
 * improves. The controller proposes where to look; this settles each proposal on its local
 * optimum, which a sampled policy often passes one edit away from. Adds what it evaluates to
 * `evaluations` (so cell counts stay honest) and returns it.
 */
export function hillClimb(problem: SearchProblem, evaluations: Evaluations, starts: number): Evaluations {
  const evaluate = recordingObjective(problem, evaluations);
  for (let current of topCells(evaluations, starts)) {
    for (;;) {
      let best = current;
      for (const neighbour of problem.space.neighbours(problem.space.fromCode(current))) {
        const code = problem.space.code(neighbour);
        if (evaluate(code) > evaluate(best)) best = code;
      }
      if (best === current) break;
      current = best;
    }
  }
  return evaluations;
}

/**
 * A random single-position mutation: a uniform position, then one of its other choices, shifted
 * cyclically from the current one (NB201 drew its edge mutations exactly so, so seeded searches
 * there are unchanged); `random` returns uniform numbers in [0, 1).
 */
export function mutate(space: SearchSpace, architecture: Architecture, random: () => number): Architecture {
  const position = Math.floor(random() * space.positions);
  const choices = space.choices[position]!.length;
  const shift = 1 + Math.floor(random() * (choices - 1));
  const next = [...architecture];
  next[position] = (architecture[position]! + shift) % choices;
  return next;
}

/** The objective of a cell, computed once and recorded in `evaluations`. */
function recordingObjective(problem: SearchProblem, evaluations: Evaluations): (code: number) => number {
  return (code) => {
    let value = evaluations.get(code);
    if (value === undefined) {
      value = objective(problem, code);
      evaluations.set(code, value);
    }
    return value;
  };
}

/** The `count` best cells of an evaluation, best first. */
export function topCells(evaluations: Evaluations, count: number): number[] {
  return [...evaluations.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, count)
    .map(([code]) => code);
}
