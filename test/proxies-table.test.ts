// The committed proxy table cannot drift from the code: 20 random rows are recomputed and must
// match. Also: how the provider uses (or refuses) a table, and the benchmark against ../shared.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { runProxiesBench } from '../src/bench/proxies-bench.js';
import { DEFAULT_TABLE_SETTINGS, tableImages, tableRow } from '../src/spaces/nb201/proxies/build.js';
import { ProxyProvider } from '../src/spaces/nb201/proxies/provider.js';
import { defaultTablePath, readTable } from '../src/spaces/nb201/proxies/table.js';
import { decodeCell, encodeCell, isConnected, parseCell } from '../src/spaces/nb201/cell.js';
import { DATASETS } from '../src/spaces/nb201/datasets.js';
import type { Logger } from '../src/util/log.js';
import { Random } from '../src/util/random.js';

const TABLE = defaultTablePath();
const SHARED = fileURLToPath(new URL('../../shared/data/nb201/', import.meta.url));
/** A cheap cell: one skip from input to output. */
const SKIP_ONLY = parseCell('|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|');

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    info: () => {},
    debug: () => {},
    warn: (message) => warnings.push(message),
    group: async (_title, body) => body(),
  };
}

describe('committed proxy table', () => {
  it('exists, and its metadata records the settings and coverage', () => {
    expect(existsSync(TABLE)).toBe(true);
    const table = readTable(TABLE);
    expect(table.metadata.settings).toEqual(DEFAULT_TABLE_SETTINGS);
    expect(table.metadata.coverage.effectiveCellsTotal).toBe(9445);
    expect(table.size).toBeGreaterThan(20);
  });

  it('scores the disconnected cells 0 on every dataset, as an on-demand computation does', async () => {
    const table = readTable(TABLE);
    const provider = ProxyProvider.create({ logger: recordingLogger() });
    const allNone = parseCell('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    const deadEnd = parseCell('|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|');
    expect(isConnected(deadEnd)).toBe(false);
    for (const dataset of DATASETS) {
      expect(table.lookup(encodeCell(allNone), dataset)!.naswot).toBe(Number.NEGATIVE_INFINITY);
      const { scores } = await provider.allTaskScores(dataset, { computeMissing: false });
      expect(scores[encodeCell(allNone)]).toBe(0);
      expect(scores[encodeCell(deadEnd)]).toBe(0);
    }
  });

  it('20 random rows recompute to the same values', { timeout: 900_000 }, async () => {
    const table = readTable(TABLE);
    const connected = table.codes().filter((code) => isConnected(decodeCell(code)));
    const chosen = new Random(2026).sample(
      connected.sort((a, b) => a - b),
      Math.min(20, connected.length),
    );
    const images = tableImages(DEFAULT_TABLE_SETTINGS);
    for (const code of chosen) {
      const values = await tableRow(code, DEFAULT_TABLE_SETTINGS, images);
      DATASETS.forEach((dataset, d) => {
        const stored = table.lookup(code, dataset)!;
        const [naswot, synflow, logsynflow] = values.slice(d * 3, d * 3 + 3) as [number, number, number];
        // float32 NASWOT codes may flip for a unit sitting at 0 on another CPU's kernels; the
        // float64 synflow sums only differ by the table's 12 significant digits.
        expect(naswot, `naswot ${code} ${dataset}`).toBeCloseTo(stored.naswot, 3);
        expect(Math.abs(synflow / stored.synflow - 1), `synflow ${code} ${dataset}`).toBeLessThan(1e-9);
        expect(Math.abs(logsynflow / stored.logsynflow - 1), `logsynflow ${code} ${dataset}`).toBeLessThan(
          1e-9,
        );
      });
    }
  });
});

describe('ProxyProvider', () => {
  const table = readTable(TABLE);
  const covered = table.codes().find((code) => isConnected(decodeCell(code)))!;

  it('serves covered cells from the table (any cell with the same live edges) with a task score', async () => {
    const provider = ProxyProvider.create();
    const result = await provider.proxies(decodeCell(covered), 'cifar10');
    expect(result.source).toBe('table');
    expect(result.values.logsynflow).toBe(table.lookup(covered, 'cifar10')!.logsynflow);
    expect(result.taskScore).toBeGreaterThanOrEqual(0);
    expect(result.taskScore).toBeLessThanOrEqual(1);
  });

  it('computes on demand exactly what the table holds', async () => {
    const provider = ProxyProvider.create({ useTableValues: false });
    const result = await provider.proxies(decodeCell(covered), 'ImageNet16-120');
    const stored = table.lookup(covered, 'ImageNet16-120')!;
    expect(result.source).toBe('computed');
    expect(result.values.naswot).toBeCloseTo(stored.naswot, 3);
    expect(Math.abs(result.values.logsynflow / stored.logsynflow - 1)).toBeLessThan(1e-9);
    expect(Math.abs(result.values.synflow / stored.synflow - 1)).toBeLessThan(1e-9);
  });

  it('gives the task score of every covered cell code, NaN for the rest when asked not to compute', async () => {
    const provider = ProxyProvider.create();
    const { scores, id, computed } = await provider.allTaskScores('cifar10', { computeMissing: false });
    expect(computed).toBe(0);
    expect(scores).toHaveLength(15_625);
    const known = [...scores].filter((v) => !Number.isNaN(v));
    expect(known.length).toBe(
      Array.from({ length: 15_625 }, (_, code) => table.lookup(code, 'cifar10')).filter(Boolean).length,
    );
    expect(Math.min(...known)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...known)).toBeLessThanOrEqual(1);
    expect(id).toBe((await ProxyProvider.create().allTaskScores('cifar10', { computeMissing: false })).id);
    expect(id).not.toBe((await provider.allTaskScores('cifar100', { computeMissing: false })).id);
  });

  it('computes cells on demand when the table was written by another algorithm, and says so', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'simnas-table-'));
    const lines = readFileSync(TABLE, 'utf8').split('\n');
    const metadata = JSON.parse(lines[0]!) as Record<string, unknown>;
    const stale = join(folder, 'stale.jsonl');
    writeFileSync(
      stale,
      [JSON.stringify({ ...metadata, algorithm: 'simnas-proxies-0' }), ...lines.slice(1)].join('\n'),
    );
    const logger = recordingLogger();
    const provider = ProxyProvider.create({ tablePath: stale, logger });
    expect(logger.warnings.join('\n')).toMatch(/stale/);
    const result = await provider.proxies(SKIP_ONLY, 'ImageNet16-120');
    expect(result.source).toBe('computed');
    expect(Number.isFinite(result.values.naswot)).toBe(true);
  });

  it('rejects a malformed table with the file and line', () => {
    const folder = mkdtempSync(join(tmpdir(), 'simnas-table-'));
    const broken = join(folder, 'broken.jsonl');
    writeFileSync(broken, `${readFileSync(TABLE, 'utf8').split('\n')[0]}\n[1, 2\n`);
    expect(() => ProxyProvider.create({ tablePath: broken })).toThrow(/broken\.jsonl' line 2: not JSON/);
    writeFileSync(
      broken,
      `${readFileSync(TABLE, 'utf8').split('\n')[0]}\n[${encodeCell(parseCell('|none~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'))},1,2,3,4,5,6,7,8,9]\n`,
    );
    expect(() => ProxyProvider.create({ tablePath: broken })).toThrow(/is not an effective-cell code/);
  });
});

const ACCURACY_CSV = join(SHARED, 'nb201_accuracy.csv');
const REFERENCE_CSV = join(SHARED, 'nb201_proxies_freerea.csv');
const missingBenchInputs = [ACCURACY_CSV, REFERENCE_CSV].filter((file) => !existsSync(file));
if (missingBenchInputs.length > 0) {
  console.warn(`skipping the bench proxies test: ${missingBenchInputs.join(', ')} not found`);
}

describe.skipIf(missingBenchInputs.length > 0)('bench proxies (reads ../shared/data/nb201)', () => {
  it('reports every figure over the covered cells, and our proxies track the published ones', async () => {
    const result = await runProxiesBench({
      accuracyCsv: ACCURACY_CSV,
      referenceCsv: REFERENCE_CSV,
      // cifar100: FreeREA's cifar10 run gives disconnected cells a nonzero logsynflow (its cifar100
      // and ImageNet16-120 runs give 0, as we do), which would make this figure depend on how many
      // disconnected cells a partial table happens to hold.
      datasets: ['cifar100'],
      tablePath: TABLE,
      timingCells: 0,
      logger: recordingLogger(),
    });
    const [figures] = result.datasets;
    expect(figures!.proxies.map((p) => p.name)).toEqual(['naswot', 'synflow', 'logsynflow', 'skip']);
    const logsynflow = figures!.proxies.find((p) => p.name === 'logsynflow')!;
    expect(logsynflow.spearman_vs_reference).toBeGreaterThan(0.8);
    expect(figures!.task_score.top1_acc).toBeLessThanOrEqual(figures!.task_score.optimum_acc);
    expect(figures!.task_score.constrained_regret.p50).toBeGreaterThanOrEqual(0);
    // The current rule against the two it replaced (about 0.90 against 0.79 and 0.66 on the
    // covered cells; the margin leaves room for a partial table's sampling noise).
    expect(figures!.task_score.spearman).toBeGreaterThan(0.85);
    expect(figures!.task_score.spearman).toBeGreaterThan(figures!.rank_task_score.spearman + 0.05);
    expect(figures!.rank_task_score.spearman).toBeGreaterThan(figures!.min_max_task_score.spearman);
    // The validation accuracy as a score: the same networks on other data rank test accuracy far
    // better than any proxy, yet its picks still miss, by the benchmark's own noise.
    const validation = figures!.validation_accuracy!;
    expect(validation.column).toBe('cifar100_valid_acc_derived');
    expect(validation.spearman).toBeGreaterThan(0.95);
    expect(validation.top1_acc).toBeLessThanOrEqual(validation.optimum_acc);
  });
});
