// The search core over architectures (spaces that cannot be enumerated): distinct task-score
// evaluations counted against the budget, batches without repeats, determinism under a seed, and
// each strategy finding what it should on the real Macro and FBNet spaces with a known landscape.
import { describe, expect, it } from 'vitest';

import {
  EvaluationBudget,
  runArchitectureStrategy,
  topArchitectures,
  type ArchitectureProblem,
  type ArchitectureStrategy,
} from '../src/search/architecture-search.js';
import { penalizedScore } from '../src/search/objective.js';
import { spaceById } from '../src/spaces/index.js';
import type { Architecture, SearchSpace } from '../src/spaces/space.js';
import { Random } from '../src/util/random.js';

/**
 * A landscape with one known optimum: per-position choice values (seeded), the score their mean,
 * latency a separate seeded per-choice table; records every batch the scorer is asked for.
 */
function landscape(space: SearchSpace, budgetMs: number) {
  const random = new Random(7);
  const value = space.choices.map((names) => names.map(() => random.next()));
  const cost = space.choices.map((names) => names.map(() => 0.5 + random.next()));
  const batches: string[][] = [];
  const score = (a: Architecture): number => a.reduce((sum, c, p) => sum + value[p]![c]!, 0) / a.length;
  const latency = (a: Architecture): number => a.reduce((sum, c, p) => sum + cost[p]![c]!, 0);
  const problem: ArchitectureProblem = {
    space,
    budgetMs,
    latencyMs: latency,
    taskScores: (architectures) => {
      batches.push(architectures.map((a) => space.key(a)));
      return Promise.resolve(architectures.map(score));
    },
  };
  const best = space.choices.map((_, p) => value[p]!.indexOf(Math.max(...value[p]!)));
  return { problem, batches, score, latency, best };
}

const macro = spaceById('macro');
const fbnet = spaceById('fbnet');

describe('architecture search core', () => {
  it.each<ArchitectureStrategy>(['random', 'evolution', 'local'])(
    '%s spends exactly its budget of distinct task scores, never asking twice',
    async (strategy) => {
      const { problem, batches } = landscape(fbnet, 1e9);
      const evaluations = await runArchitectureStrategy(
        strategy,
        problem,
        { evaluations: 400 },
        new Random(1),
      );
      const asked = batches.flat();
      expect(evaluations.size).toBe(400);
      expect(asked).toHaveLength(400);
      expect(new Set(asked).size).toBe(400);
      for (const [key, e] of evaluations) {
        expect(fbnet.key(e.architecture)).toBe(key);
        expect(e.objective).toBe(penalizedScore(e.taskScore, e.latencyMs, problem.budgetMs));
      }
      // Local search scores a climb step's neighbours as one batch.
      if (strategy === 'local') expect(Math.max(...batches.map((b) => b.length))).toBe(176);
    },
  );

  it.each<ArchitectureStrategy>(['random', 'evolution', 'local'])(
    '%s is deterministic under a seed',
    async (s) => {
      const run = async (seed: number) => [
        ...(
          await runArchitectureStrategy(
            s,
            landscape(macro, 12).problem,
            { evaluations: 60 },
            new Random(seed),
          )
        ).keys(),
      ];
      expect(await run(3)).toEqual(await run(3));
      expect(await run(3)).not.toEqual(await run(4));
    },
  );

  it('local search climbs to the optimum of a separable landscape; evolution beats random there', async () => {
    const { problem, best } = landscape(macro, 1e9);
    const local = await runArchitectureStrategy('local', problem, { evaluations: 300 }, new Random(2));
    expect(topArchitectures(local, 1)[0]!.architecture).toEqual(best);
    const bestOf = async (strategy: ArchitectureStrategy, seed: number) =>
      topArchitectures(
        await runArchitectureStrategy(
          strategy,
          landscape(fbnet, 1e9).problem,
          { evaluations: 300 },
          new Random(seed),
        ),
        1,
      )[0]!.objective;
    for (const seed of [0, 1, 2])
      expect(await bestOf('evolution', seed)).toBeGreaterThan(await bestOf('random', seed));
  });

  it('ranks by the penalized objective, so picks respect the budget', async () => {
    const { problem, latency } = landscape(macro, 5.5);
    const evaluations = await runArchitectureStrategy(
      'evolution',
      problem,
      { evaluations: 200 },
      new Random(5),
    );
    const [top] = topArchitectures(evaluations, 1);
    expect(latency(top!.architecture)).toBeLessThanOrEqual(5.5);
    expect([...evaluations.values()].some((e) => e.latencyMs > 5.5)).toBe(true);
  });

  it('a budget scores what is new once, and past the limit answers undefined', async () => {
    const { problem, batches } = landscape(macro, 1e9);
    const budget = new EvaluationBudget(problem, 3);
    const a = macro.parse(macro.format([0, 0, 0, 0, 0, 0, 0, 0]));
    const b = [1, 0, 0, 0, 0, 0, 0, 0];
    const values = await budget.evaluate([a, b, a]);
    expect(values[0]).toBe(values[2]);
    expect(batches).toEqual([[macro.key(a), macro.key(b)]]);
    const more = await budget.evaluate([b, [2, 0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0]]);
    expect(more[0]).toBe(values[1]);
    expect(more[1]).toBeTypeOf('number');
    expect(more[2]).toBeUndefined();
    expect(budget.left).toBe(0);
    expect(batches).toHaveLength(2);
  });
});
