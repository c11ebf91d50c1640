// `simnas bench search`: every strategy, the naive baseline and the exact-latency references scored against the oracle on
// synthetic recorded devices, tables with holes, and the errors for bad input.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { EXACT_LATENCY_REFERENCES, formatSearchBench, runSearchBench } from '../src/bench/search-bench.js';
import { runCli } from '../src/cli/program.js';
import { defaultSampleCells } from '../src/hardware/sample-cells.js';
import { allCells, encodeCell, formatCell, opCounts, parseCell } from '../src/spaces/nb201/cell.js';
import { capture } from './support/capture.js';
import { syntheticDeviceTable } from './support/search-fixtures.js';

/** Two synthetic devices and a toy accuracy that the toy task score tracks imperfectly. */
function fixtures(): { table: string; accuracy: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'simnas-search-bench-'));
  const table = syntheticDeviceTable(dir, 'latency.csv', { dev_a: 1, dev_b: 2 }).file;
  const cells = allCells();
  const accuracy = path.join(dir, 'accuracy.csv');
  const acc = cells.map((c) => {
    const [, skip, c1, c3, pool] = opCounts(c);
    return 50 + 6 * c3! + 3 * c1! + pool! + 0.5 * skip! + (c[0]! % 2);
  });
  writeFileSync(
    accuracy,
    `index,arch_str,cifar10_test_acc\n${cells.map((c, i) => `${i},${formatCell(c)},${acc[i]}`).join('\n')}\n`,
  );
  return { table, accuracy };
}

const toyScores = (): Promise<{ scores: Float64Array; id: string }> => {
  const raw = allCells().map((c) => {
    const [, skip, c1, c3, pool] = opCounts(c);
    return 6 * c3! + 3 * c1! + pool! + 0.5 * skip!;
  });
  const max = Math.max(...raw);
  return Promise.resolve({ scores: Float64Array.from(raw, (r) => r / max), id: 'toy' });
};

describe('search benchmark', () => {
  it('scores every strategy and the naive baseline against the oracle, per budget', async () => {
    const { table, accuracy } = fixtures();
    const result = await runSearchBench({
      table,
      accuracy,
      dataset: 'cifar10',
      samples: 10,
      verify: 5,
      budgets: [0.25, 0.75],
      seeds: 2,
      noise: 0.03,
      strategies: ['exhaustive', 'evolution', 'random'],
      evaluations: 200,
      unseen: ['dev_b'],
      taskScores: toyScores,
    });
    // 2 devices x 2 seeds x 2 budgets x (3 strategies + naive), and per device and budget the two
    // exact-latency references, which do not depend on the seed.
    expect(result.results).toHaveLength(2 * 2 * 2 * 4 + 2 * 2 * 2);
    const references = new Set<string>(EXACT_LATENCY_REFERENCES);
    for (const row of result.results) {
      // A pick over budget (the unverified naive baseline's, say) earns no credit for it, and
      // counts as a failure in the strict regret.
      expect(row.regret).toBeGreaterThanOrEqual(0);
      if (row.violation) expect(row.regret_strict).toBeGreaterThan(0);
      else expect(row.regret_strict).toBe(row.regret);
      expect(row.measurements).toBeGreaterThanOrEqual(references.has(row.strategy) ? 0 : 10);
    }
    // With true latencies no pick within budget can score higher than the exact-latency one, and
    // the margin can only lower it.
    for (const device of ['dev_a', 'dev_b']) {
      for (const budget of ['p25', 'p75']) {
        const here = result.results.filter((r) => r.device === device && r.budget === budget);
        const exact = here.find((r) => r.strategy === 'exact-latency')!;
        const withMargin = here.find((r) => r.strategy === 'exact-latency-margin')!;
        expect(exact.violation || withMargin.violation).toBe(false);
        expect(withMargin.task_score).toBeLessThanOrEqual(exact.task_score);
        for (const row of here.filter((r) => !r.violation)) {
          expect(row.task_score).toBeLessThanOrEqual(exact.task_score);
        }
      }
    }
    const exhaustive = result.results.filter((r) => r.strategy === 'exhaustive');
    expect(exhaustive.every((r) => r.cells_evaluated === 15625 && r.measurements <= 15)).toBe(true);
    expect(Object.keys(result.summary).sort()).toEqual([
      'evolution',
      'exact-latency',
      'exact-latency-margin',
      'exhaustive',
      'naive',
      'random',
    ]);
    // The unseen summary is over the unseen device's picks only.
    const unseenPicks = result.results.filter(
      (r) => r.device === 'dev_b' && r.strategy === 'exhaustive' && r.budget === 'p25',
    );
    expect(unseenPicks).toHaveLength(2);
    expect(result.summary_unseen!.exhaustive!.mean_regret.p25).toBeCloseTo(
      (unseenPicks[0]!.regret + unseenPicks[1]!.regret) / 2,
      12,
    );
    expect(Object.keys(result.summary.exhaustive!.mean_regret)).toEqual(['p25', 'p75']);
    // The printed table has the per-pick cost beside the regrets: naive spends its 10 samples and
    // ranks every cell.
    const text = formatSearchBench(result).split('\n');
    expect(text.find((line) => line.startsWith('strategy'))).toMatch(/\tviolations\tmeasurements\tcells\t/);
    expect(text.find((line) => line.startsWith('naive\t'))).toMatch(/\t10\.0\t15625\t/);
    // Verified picks respect the budget far more often than the unverified naive baseline.
    expect(result.summary.exhaustive!.violation_rate).toBeLessThanOrEqual(
      result.summary.naive!.violation_rate,
    );
  });

  it('samples, searches and recommends only cells a table with holes has latencies for', async () => {
    const { table, accuracy } = fixtures();
    // Blank dev_a for every designed sample cell and a third of the space, as HW-NAS-Bench's Edge
    // TPU column lacks the cells it cannot compile.
    const blank = new Set(defaultSampleCells('cifar10').map((cell) => encodeCell(cell)));
    for (let code = 0; code < 15625; code += 3) blank.add(code);
    const lines = readFileSync(table, 'utf8').trimEnd().split('\n');
    const holed = lines.map((line, row) => {
      if (row === 0) return line;
      const fields = line.split(',');
      if (blank.has(encodeCell(parseCell(fields[1]!)))) fields[2] = '';
      return fields.join(',');
    });
    writeFileSync(table, `${holed.join('\n')}\n`);
    const result = await runSearchBench({
      table,
      accuracy,
      devices: ['dev_a'],
      dataset: 'cifar10',
      samples: 10,
      verify: 5,
      budgets: [0.25, 0.75],
      seeds: 1,
      noise: 0.03,
      strategies: ['exhaustive', 'random'],
      evaluations: 300,
      taskScores: toyScores,
    });
    expect(result.results).toHaveLength(2 * 3 + 2 * 2);
    for (const row of result.results) expect(blank.has(encodeCell(parseCell(row.cell)))).toBe(false);
  });

  it('names the columns that exist when asked for one that does not', async () => {
    const { table, accuracy } = fixtures();
    const bench = (devices: string[], unseen?: string[]) =>
      runSearchBench({
        table,
        accuracy,
        devices,
        dataset: 'cifar10',
        samples: 10,
        verify: 5,
        budgets: [0.5],
        seeds: 1,
        noise: 0,
        strategies: ['random'],
        ...(unseen ? { unseen } : {}),
        taskScores: toyScores,
      });
    await expect(bench(['nope'])).rejects.toThrow(/no column 'nope'; the columns are: dev_a, dev_b/);
    const unseen = (names: string[]) => bench(['dev_a'], names);
    await expect(unseen(['nope'])).rejects.toThrow(/no column 'nope'/);
    await expect(unseen(['dev_b'])).rejects.toThrow(
      /--unseen 'dev_b' is not among the devices benchmarked: dev_a/,
    );
  });
});

describe('simnas bench search options', () => {
  afterEach(() => vi.restoreAllMocks());

  it("resolves --strategies auto to the space's default, and refuses an unknown strategy", async () => {
    const { table, accuracy } = fixtures();
    const stdout = capture(process.stdout);
    const args = ['bench', 'search', '--table', table, '--accuracy', accuracy, '--devices', 'dev_a'];
    const code = await runCli([
      'node',
      'simnas',
      ...args,
      '--seeds',
      '1',
      '--budgets',
      'p50',
      '--strategies',
      'auto',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout()) as { summary: Record<string, unknown> };
    expect(Object.keys(result.summary)).toContain('exhaustive');
    expect(Object.keys(result.summary)).not.toContain('controller');
    const stderr = capture(process.stderr);
    expect(await runCli(['node', 'simnas', ...args, '--strategies', 'greedy'])).toBe(2);
    expect(stderr()).toMatch(
      /unknown strategy 'greedy'; expected one of auto, controller, controller-untrained, evolution, local, random, exhaustive/,
    );
  });

  it.each(['p0', 'p25,p100', 'p5x', ','])(
    'exits 2 for --budgets %j, saying p1 to p99 are accepted',
    async (budgets) => {
      const stderr = capture(process.stderr);
      const args = ['bench', 'search', '--table', 't.csv', '--accuracy', 'a.csv', '--budgets', budgets];
      expect(await runCli(['node', 'simnas', ...args])).toBe(2);
      expect(stderr()).toMatch(budgets === ',' ? /names nothing/ : /expected p1 to p99/);
    },
  );
});
