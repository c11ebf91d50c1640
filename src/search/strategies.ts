// Search strategies over one device's problem. Each returns the cells it evaluated with their
// objective values; the caller ranks, verifies and reports. Random and evolution take an
// evaluation budget so they can be compared with the controller at an equal number of cells.
import { mutate, SPACE_SIZE, decodeCell, encodeCell } from '../space/cell.js';
import type { Random } from '../util/random.js';
import { objective, type SearchProblem } from './objective.js';

export const STRATEGIES = ['controller', 'evolution', 'random', 'exhaustive'] as const;
export type StrategyName = (typeof STRATEGIES)[number];
/** What a user may ask for: a strategy, or `auto` (the controller when one exists, else evolution). */
export const STRATEGY_CHOICES = ['auto', ...STRATEGIES] as const;
export type StrategyChoice = (typeof STRATEGY_CHOICES)[number];

/** Cell code -> objective value, for every distinct cell a strategy evaluated. */
export type Evaluations = Map<number, number>;

export function exhaustiveSearch(problem: SearchProblem): Evaluations {
  const out: Evaluations = new Map();
  for (let code = 0; code < SPACE_SIZE; code++) out.set(code, objective(problem, code));
  return out;
}

export function randomSearch(problem: SearchProblem, cells: number, random: Random): Evaluations {
  const out: Evaluations = new Map();
  const count = Math.min(cells, SPACE_SIZE);
  while (out.size < count) {
    const code = random.int(SPACE_SIZE);
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
  const limit = Math.min(options.cells, SPACE_SIZE);
  const out: Evaluations = new Map();
  const evaluate = (code: number): number => {
    let value = out.get(code);
    if (value === undefined) {
      value = objective(problem, code);
      out.set(code, value);
    }
    return value;
  };
  const population: number[] = [];
  while (population.length < Math.min(populationSize, limit)) {
    const code = random.int(SPACE_SIZE);
    evaluate(code);
    population.push(code);
  }
  for (let tries = 0; out.size < limit && tries < limit * 50; tries++) {
    const contenders = Array.from({ length: tournament }, () => population[random.int(population.length)]!);
    const parent = contenders.reduce((best, code) => (evaluate(code) > evaluate(best) ? code : best));
    const child = encodeCell(mutate(decodeCell(parent), () => random.next()));
    evaluate(child);
    population.push(child);
    population.shift();
  }
  return out;
}

/** The `count` best cells of an evaluation, best first. */
export function topCells(evaluations: Evaluations, count: number): number[] {
  return [...evaluations.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, count)
    .map(([code]) => code);
}
