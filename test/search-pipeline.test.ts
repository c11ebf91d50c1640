// The whole search (src/pipeline.ts) on a synthetic recorded device: the recommendation, its
// report and determinism, the knee budget, refusals, a pretrained controller, and the CLI's checks.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { runCli } from '../src/cli/program.js';
import { PRIOR_HASH } from '../src/controller/prior.js';
import { pretrain } from '../src/controller/pretrain.js';
import { samplePrior, syntheticLatencies } from '../src/devices/synthetic.js';
import { UsageError } from '../src/errors.js';
import { runSearch, type SearchJobOptions } from '../src/pipeline/index.js';
import { inDeployedForm } from '../src/pipeline/search.js';
import { toReport, writeReport } from '../src/report/report.js';
import { SPACE_SIZE } from '../src/spaces/nb201/cell.js';
import { silentLogger } from '../src/util/log.js';
import { quantile } from '../src/util/stats.js';
import { capture } from './support/capture.js';
import { syntheticDeviceTable, toyTaskScores } from './support/search-fixtures.js';
import { nb201Space } from '../src/spaces/nb201/space.js';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'simnas-search-'));

/** A recorded-device table of our own making: one synthetic device, in the wide CSV shape. */
function syntheticTable(): { file: string; latencies: Float64Array } {
  const { file, latencies } = syntheticDeviceTable(tempDir(), 'device.csv', { toy_device: 11 });
  return { file, latencies: latencies.toy_device! };
}

function options(file: string, overrides: Partial<SearchJobOptions> = {}): SearchJobOptions {
  return {
    space: nb201Space,
    dataset: 'cifar10',
    samples: 10,
    verify: 5,
    strategy: 'exhaustive',
    device: { kind: 'table', path: file, column: 'toy_device', noise: 0.03 },
    seed: 1,
    evaluations: 300,
    taskScores: toyTaskScores,
    ...overrides,
  };
}

describe('search pipeline on a recorded device', () => {
  const table = syntheticTable();

  it('recommends a verified cell within the budget and reports every measurement', async () => {
    const budgetMs = quantile(table.latencies, 0.4);
    const outDir = tempDir();
    const result = await runSearch(options(table.file, { budgetMs, outDir }), silentLogger);
    expect(result.measurements.samples).toBe(10);
    expect(result.measurements.verification).toBeLessThanOrEqual(5);
    expect(result.measurements.total).toBe(result.measurements.samples + result.measurements.verification);
    expect(result.cellsEvaluated).toBe(SPACE_SIZE);
    expect(result.recommendation.withinBudget).toBe(true);
    // The certificate is the (noisy) measurement; the true latency is within noise of it.
    expect(result.recommendation.measuredMs).toBeLessThanOrEqual(budgetMs);
    expect(table.latencies[result.recommendation.code]!).toBeLessThan(budgetMs * 1.1);
    expect(result.front.length).toBeGreaterThan(3);
    expect(result.front.some((p) => p.latencySource === 'measured')).toBe(true);
    expect(existsSync(path.join(outDir, 'samples.json'))).toBe(true);
    // The best sample competes beside the verified cells, labelled, so the counts add up.
    const verifiedCells = result.verified.filter((v) => v.source === 'verification');
    const [sample, ...more] = result.verified.filter((v) => v.source === 'sample');
    expect(verifiedCells).toHaveLength(result.measurements.verification);
    expect(more).toEqual([]);
    expect(result.samples.map((s) => s.code)).toContain(sample!.code);
    expect(result.recommendation.reason).toContain(`${result.measurements.verification} verified cells`);
    expect(result.recommendation.reason).not.toContain(`${result.verified.length} verified cells`);

    // The ResNet cell measured beside it, counted apart, and the recommendation in NATS-Bench's form.
    expect(result.references).toHaveLength(1);
    const [resnet] = result.references!;
    expect(resnet!.name).toBe('ResNet-like cell');
    expect(
      resnet!.measuredMs / table.latencies[nb201Space.code(nb201Space.parse(resnet!.cell))]!,
    ).toBeCloseTo(1, 0);
    expect(result.measurements.references).toBe(1);
    expect(result.recommendation.publicForm!.config).toMatchObject({
      arch_str: result.recommendation.cell,
      num_classes: 10,
    });

    const files = await writeReport(toReport(result), outDir);
    const markdown = readFileSync(files.markdown, 'utf8');
    expect(markdown).toContain(result.recommendation.cell);
    expect(markdown).toContain('#### Beside well-known designs');
    expect(markdown).toContain(`| ResNet-like cell \`${resnet!.cell.replaceAll('|', '\\|')}\` |`);
    expect(markdown).toContain(`**Train it** with NATS-Bench's get_cell_based_tiny_net`);
    expect(markdown).toContain(`${sample!.cell.replaceAll('|', '\\|')}\` (sample)`);
    expect(markdown).toContain('```mermaid');
    expect(markdown.length).toBeLessThan(65_536);
    expect(readFileSync(files.svg, 'utf8')).toMatch(/^<svg/);
    // Everything needed to repeat the run: seed, and for a recorded device the table and its noise.
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toMatchObject({
      schema: 'simnas-report',
      seed: 1,
      device: { kind: 'table', name: 'toy_device', table: table.file, noise: 0.03 },
    });
  });

  it('is deterministic for a seed', async () => {
    const budgetMs = quantile(table.latencies, 0.5);
    const a = await runSearch(options(table.file, { budgetMs, strategy: 'evolution' }), silentLogger);
    const b = await runSearch(options(table.file, { budgetMs, strategy: 'evolution' }), silentLogger);
    expect(a.recommendation).toEqual(b.recommendation);
    expect(a.front).toEqual(b.front);
  });

  it('targets the knee of the front when no budget is given', async () => {
    const result = await runSearch(options(table.file, { strategy: 'random' }), silentLogger);
    expect(result.budget.source).toBe('knee');
    expect(result.cellsEvaluated).toBe(300);
    // The knee is measured first, and its number stays inside the job (the report has none).
    expect(Object.keys(result.budget).sort()).toEqual(['kneeMs', 'ms', 'source']);
    // (Seed 1: the knee measured inside its target, so it is the recommendation.)
    const knee = result.verified[0]!;
    expect(knee.measuredMs).toBeLessThanOrEqual(result.recommendation.certifiedBelowMs);
    expect(result.recommendation.code).toBe(knee.code);
    expect(result.recommendation.reason).toMatch(/^the knee of the predicted front/);
  });

  it('refuses a budget below the fastest cell, after writing the measurements', async () => {
    const outDir = tempDir();
    const fastest = Math.min(...table.latencies);
    const run = runSearch(options(table.file, { budgetMs: fastest / 10, outDir }), silentLogger);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/below the fastest cell/);
    expect(existsSync(path.join(outDir, 'samples.json'))).toBe(true);
  });

  it('searches a budget the model only doubts: one just above the fastest cell is not refused', async () => {
    const fastest = Math.min(...table.latencies);
    const result = await runSearch(options(table.file, { budgetMs: fastest * 1.02 }), silentLogger);
    expect(result.budget).toEqual({ ms: fastest * 1.02, source: 'given' });
    expect(result.recommendation.measuredMs).toBeGreaterThan(0);
  });

  it('refuses, before measuring, an --out it cannot write, too small a table and unscorable cells', async () => {
    const blocker = path.join(tempDir(), 'a-file');
    writeFileSync(blocker, 'not a folder');
    await expect(
      runSearch(options(table.file, { outDir: path.join(blocker, 'report') }), silentLogger),
    ).rejects.toThrow(/--out '.*a-file.report': cannot write there/);
    const small = path.join(tempDir(), 'small.csv');
    writeFileSync(small, readFileSync(table.file, 'utf8').split('\n').slice(0, 6).join('\n'));
    await expect(runSearch(options(small), silentLogger)).rejects.toThrow(
      /small\.csv: column 'toy_device' has data for 5 cells, fewer than the 10 samples requested/,
    );
    // The committed table holds NASWOT on synthetic images only: with a user's images no cell is
    // scored until it is computed, which is refused up front rather than searching nothing.
    const images = tempDir();
    const png = new PNG({ width: 8, height: 8 });
    for (let i = 0; i < 64; i++) {
      png.data.fill(i * 4);
      writeFileSync(path.join(images, `img${String(i).padStart(2, '0')}.png`), PNG.sync.write(png));
    }
    const outDir = tempDir();
    const { taskScores: _toy, ...real } = options(table.file, { outDir, calibrationImages: images });
    await expect(runSearch(real, silentLogger)).rejects.toThrow(
      /no cell has a task score for cifar10: NASWOT on the images of --calibration-images is not in the proxy table; pass --compute-missing-scores/,
    );
    expect(existsSync(path.join(outDir, 'samples.json'))).toBe(false);
    // An evaluation budget below what the strategy needs to start.
    await expect(
      runSearch(options(table.file, { strategy: 'evolution', evaluations: 5, outDir }), silentLogger),
    ).rejects.toThrow(
      /--evaluations 5 is below what the evolution strategy needs to start \(its population of 20 cells\); pass --evaluations 20 or more/,
    );
    await expect(
      runSearch(options(table.file, { strategy: 'local', evaluations: 20, outDir }), silentLogger),
    ).rejects.toThrow(/one climb step: a cell and its 24 neighbours\); pass --evaluations 25 or more/);
    expect(existsSync(path.join(outDir, 'samples.json'))).toBe(false);
  });

  it('runs a pretrained controller and refuses one that cannot be read', async () => {
    const dir = tempDir();
    const { artifactPath } = await pretrain(
      {
        dataset: 'cifar10',
        timesteps: 2 * 32 * 12,
        seed: 0,
        episodes: 32,
        stepsPerEpisode: 12,
        hidden: [16],
        learningRate: 1e-3,
        budgetQuantiles: [0.1, 0.9],
        checkpointEvery: 10,
        evaluateEvery: 10,
      },
      {
        space: nb201Space,
        taskScore: (await toyTaskScores()).scores,
        taskScoreId: 'toy',
        priorHash: PRIOR_HASH,
        sampleDeviceLatencies: (random) => syntheticLatencies(samplePrior(random, 'cifar10')),
      },
      { outDir: dir, logger: silentLogger },
    );
    const budgetMs = quantile(table.latencies, 0.6);
    const result = await runSearch(
      options(table.file, { budgetMs, strategy: 'controller', controllerPath: artifactPath }),
      silentLogger,
    );
    // Outside the working directory (a temp folder, as a runner's cache): its file name only, and
    // the hash that says which controller it was.
    expect(result.controller).toMatchObject({
      path: path.basename(artifactPath),
      bundled: false,
      sha256: createHash('sha256').update(readFileSync(artifactPath)).digest('hex').slice(0, 16),
      taskScoreId: 'toy',
      priorHash: PRIOR_HASH,
    });
    expect(result.cellsEvaluated).toBeGreaterThan(12);
    // The same deployment with a freshly initialised policy: no artifact, a recommendation all the same.
    const untrained = await runSearch(
      options(table.file, { budgetMs, strategy: 'controller-untrained' }),
      silentLogger,
    );
    expect(untrained.strategy).toBe('controller-untrained');
    expect(untrained.controller).toBeUndefined();
    expect(untrained.cellsEvaluated).toBeGreaterThan(12);
    expect(untrained.recommendation.measuredMs).toBeGreaterThan(0);
    await expect(
      runSearch(
        options(table.file, { strategy: 'controller', controllerPath: path.join(dir, 'nope.json') }),
        silentLogger,
      ),
    ).rejects.toThrow(/cannot read controller/);
  });
});

describe('search and pretrain command lines', () => {
  afterEach(() => vi.restoreAllMocks());

  async function rejected(...args: string[]): Promise<string> {
    const stderr = capture(process.stderr);
    expect(await runCli(['node', 'simnas', ...args])).toBe(2);
    return stderr();
  }

  it('lists auto with the strategies when --strategy is unknown', async () => {
    expect(await rejected('search', '--strategy', 'foo')).toMatch(
      /--strategy: 'foo' is not accepted; expected one of auto, controller, controller-untrained, evolution, local, random, exhaustive/,
    );
  });

  it('refuses --steps 0, saying that any positive integer is rounded up to whole PPO iterations', async () => {
    expect(await rejected('pretrain', '--steps', '0')).toMatch(
      /--steps: '0' is out of range; expected a positive integer \(rounded up to whole PPO iterations of 3072 steps/,
    );
  });
});

describe('candidates in deployed form', () => {
  it('replaces a cell with dead edges by its pruned form when that scores the same, once', () => {
    const dead = nb201Space.parse(
      '|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|',
    );
    const pruned = nb201Space.parse(
      '|none~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|',
    );
    const other = nb201Space.parse(
      '|none~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|skip_connect~0|skip_connect~1|nor_conv_3x3~2|',
    );
    const [deadCode, prunedCode, otherCode] = [dead, pruned, other].map((cell) => nb201Space.code(cell));
    const scores = new Float64Array(SPACE_SIZE).fill(0.5);
    const problem = {
      space: nb201Space,
      taskScore: scores,
      latencyMs: new Float64Array(SPACE_SIZE).fill(1),
      budgetMs: 2,
    };
    const evaluations = new Map([
      [deadCode!, 0.5],
      [otherCode!, 0.5],
    ]);
    inDeployedForm(evaluations, nb201Space, scores, problem);
    expect([...evaluations.keys()]).toEqual([prunedCode]);
    // A pruned form scored differently is not what was evaluated: the cell stays as it is.
    scores[prunedCode!] = 0.4;
    const kept = new Map([[deadCode!, 0.5]]);
    inDeployedForm(kept, nb201Space, scores, problem);
    expect([...kept.keys()]).toEqual([deadCode]);
  });
});
