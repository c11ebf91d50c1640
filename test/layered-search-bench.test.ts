// `simnas bench search --space <layered space>`: a whole run on a small per-block additive table
// with the real task score (NAS-Bench-Macro networks, a two-network reference sample), and the
// errors for bad input (unknown column, a column with a hole, budgets, too few evaluations,
// strategies the space cannot run, a dataset of another space).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  formatLayeredSearchBench,
  runLayeredSearchBench,
  taskScoreBound,
} from '../src/bench/layered-search-bench.js';
import { layeredSpaceById } from '../src/bench/layered-spaces.js';
import { runCli } from '../src/cli/program.js';
import { createNetworkTaskScorer, type TaskScorer } from '../src/proxies/task-scorer.js';
import type { Architecture, SearchSpace } from '../src/spaces/space.js';
import { Random } from '../src/util/random.js';
import { capture } from './support/capture.js';

/** A table of `rows` random architectures whose columns are exactly per-block additive. */
function additiveTable(space: SearchSpace, rows: number, columns: readonly string[], hole = false): string {
  const random = new Random(11);
  const weights = columns.map(() => space.choices.map((names) => names.map(() => 0.1 + random.next())));
  const seen = new Set<string>();
  const lines = [`index,arch,op_idx,${columns.join(',')}`];
  while (seen.size < rows) {
    const a = space.sample(random);
    if (seen.has(space.key(a))) continue;
    seen.add(space.key(a));
    const latencies = weights.map((w, c) =>
      hole && c === 0 && seen.size === 3 ? '' : String(a.reduce((sum, choice, p) => sum + w[p]![choice]!, 0)),
    );
    lines.push(`${seen.size - 1},${space.format(a)},${a.join(' ')},${latencies.join(',')}`);
  }
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'simnas-layered-search-')), 'latency.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('layered search benchmark', () => {
  it('runs each strategy against the best-known with the real task score', async () => {
    const space = layeredSpaceById('macro');
    const table = additiveTable(space, 60, ['dev_a', 'dev_b']);
    const scorer = await createNetworkTaskScorer(space, { referenceSize: 2, cacheDir: null });
    const settings = {
      samples: 6,
      budgets: [0.5],
      seeds: 1,
      strategies: ['random', 'evolution'] as const,
      evaluations: 20,
      bestKnownFactor: 1,
    };
    const result = await runLayeredSearchBench({
      ...settings,
      space,
      table,
      devices: ['dev_b'],
      verify: 5,
      noise: 0.03,
      cacheDir: null,
      scorer,
    });
    expect(result.additive_fit[0]!.max_error).toBeLessThan(1e-6);
    expect(result.results.map((r) => r.strategy)).toEqual(['random', 'evolution']);
    const [known] = result.best_known;
    for (const row of result.results) {
      expect(row.evaluations).toBe(20);
      expect(row.measurements).toBeGreaterThanOrEqual(6);
      expect(row.measurements).toBeLessThanOrEqual(6 + 5);
      expect(row.objective_share).toBeCloseTo(row.task_score / known!.task_score, 12);
      expect(row.violation).toBe(row.latency_ms > row.budget_ms);
    }
    // Seed 0 draws what the best-known runs drew (the same streams; evolution's population is all
    // 20 evaluations here): no pick beats the best-known, and the runs compute no new score.
    expect(result.summary.random!.beat_best_known).toBe(0);
    expect(result.results[0]!.regret).toBeGreaterThanOrEqual(0);
    expect(result.task_scores_computed).toBeLessThanOrEqual(6 + 20 + 20);
    expect(taskScoreBound(settings, 1)).toBe(6 + 20 + (20 + 20));
    expect(formatLayeredSearchBench(result)).toMatch(/random\t[\d.]+\t[\d.]+%/);
  }, 120_000);

  it('deploys the bundled controller beside its untrained self, best-known from the others', async () => {
    const space = layeredSpaceById('fbnet');
    const table = additiveTable(space, 40, ['dev_a']);
    // A cheap task score with the real one's shape (a smooth function of per-layer values), so the
    // controllers' plumbing runs in seconds; the real score's cost is the benchmark's business.
    const random = new Random(21);
    const value = space.choices.map((names) => names.map(() => random.next()));
    const score = (a: Architecture): number =>
      1 / (1 + Math.exp(-(a.reduce((sum, c, p) => sum + value[p]![c]!, 0) - 11)));
    const scorer: TaskScorer = {
      space,
      dataset: 'cifar100',
      formula: 'synthetic',
      id: 'synthetic',
      values: (a) => Promise.resolve({ score: score(a) }),
      score: (a) => Promise.resolve(score(a)),
      computed: 0,
    };
    const result = await runLayeredSearchBench({
      space,
      table,
      devices: ['dev_a'],
      samples: 10,
      verify: 5,
      budgets: [0.5],
      seeds: 1,
      noise: 0.03,
      strategies: ['evolution', 'controller', 'controller-untrained'],
      bestKnownStrategies: ['evolution'],
      evaluations: 24,
      bestKnownFactor: 1,
      cacheDir: null,
      scorer,
    });
    expect(result.best_known_strategies).toEqual(['evolution']);
    expect(result.best_known.map((b) => b.strategy)).toEqual(['evolution']);
    expect(result.controller?.path).toMatch(/controllers[/\\]fbnet-cifar100\.json$/);
    expect(result.results.map((r) => r.strategy)).toEqual([
      'evolution',
      'controller',
      'controller-untrained',
    ]);
    for (const row of result.results) expect(row.evaluations).toBe(24);
    expect(formatLayeredSearchBench(result)).toMatch(
      /controller-untrained: the same policy with fresh weights/,
    );
  }, 120_000);

  describe('bad input exits 2 and says what is accepted', () => {
    const fbnet = layeredSpaceById('fbnet');
    const table = additiveTable(fbnet, 30, ['dev_x', 'dev_y']);
    const base = ['bench', 'search', '--space', 'fbnet', '--table', table];
    it.each([
      [['--devices', 'pixel3'], /no column 'pixel3'; the device columns are: dev_x, dev_y/],
      [['--strategies', 'evolution', '--evaluations', '10'], /--evaluations 10 is below .* population of 20/],
      [['--strategies', 'local', '--evaluations', '100'], /a cell and its 176 neighbours.*--evaluations 177/],
      [['--strategies', 'evolution,local', '--evaluations', '150'], /below what the local strategy needs/],
      [
        ['--strategies', 'exhaustive'],
        /'exhaustive' cannot run in the fbnet benchmark; expected auto or evolution, local, random, controller, controller-untrained/,
      ],
      [
        ['--strategies', 'controller', '--controller', 'controllers/cifar100.json'],
        /search space 'nas-bench-201-topology', the search runs in 'fbnet'/,
      ],
      [
        ['--strategies', 'controller-untrained', '--evaluations', '4'],
        /--evaluations 4 is below what the controller-untrained strategy needs to start \(its first batch of 8 proposals\)/,
      ],
      [
        ['--strategies', 'evolution', '--best-known-strategies', 'random'],
        /--best-known-strategies: random not among --strategies/,
      ],
      [['--budgets', 'p0'], /p1 to p99/],
      [
        ['--dataset', 'cifar10'],
        /--dataset: 'cifar10' is not a dataset of the fbnet space; expected one of cifar100, imagenet/,
      ],
      [['--best-known-factor', '0'], /--best-known-factor/],
    ])('%j', async (extra, says) => {
      const stderr = capture(process.stderr);
      expect(await runCli(['node', 'simnas', ...base, ...extra])).toBe(2);
      expect(stderr()).toMatch(says);
    });

    it('a column with a hole', async () => {
      const holed = additiveTable(fbnet, 30, ['dev_x'], true);
      const stderr = capture(process.stderr);
      expect(await runCli(['node', 'simnas', 'bench', 'search', '--space', 'fbnet', '--table', holed])).toBe(
        2,
      );
      expect(stderr()).toMatch(
        /column 'dev_x' has no latency in row 4; its per-block table is fitted to every row/,
      );
      // The latency benchmark refuses it by the same check, with its own reason.
      expect(await runCli(['node', 'simnas', 'bench', 'latency', '--space', 'fbnet', '--table', holed])).toBe(
        2,
      );
      expect(stderr()).toMatch(
        /column 'dev_x' has no latency in row 4; the fbnet benchmark needs every row measured/,
      );
    });

    it('NB201 still needs --accuracy', async () => {
      const stderr = capture(process.stderr);
      expect(await runCli(['node', 'simnas', 'bench', 'search', '--table', 't.csv'])).toBe(2);
      expect(stderr()).toMatch(/needs --accuracy <csv>/);
    });
  });
});
