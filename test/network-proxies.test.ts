// On-demand proxies and the task score of layered spaces (NAS-Bench-Macro, FBNet): finite and
// deterministic values, the kernel's unit count against the operator list, the memory and disk
// caches, `bench proxies --space macro` on a few rows of the shared table (skipped without it),
// clear errors for a bad accuracy table, and the written-out reference normalisers against a fresh
// computation.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';

import { serializeModel } from '../src/onnx/graph.js';
import { addGraphNaswotKernel, naswotOfGraph } from '../src/proxies/graph-naswot.js';
import { NASWOT_KERNEL_OUTPUT } from '../src/proxies/naswot-kernel.js';
import { syntheticImages } from '../src/proxies/images.js';
import { PROXY_CACHE_FILE } from '../src/proxies/network-proxies.js';
import { networkTaskScore, smoothPercentile } from '../src/proxies/network-score.js';
import { ProxyProvider } from '../src/spaces/nb201/proxies/provider.js';
import { TASK_SCORE_FORMULA } from '../src/spaces/nb201/proxies/score.js';
import { BUNDLED_REFERENCE_NORMALISERS } from '../src/proxies/network-references.js';
import {
  NETWORK_NASWOT_BATCH,
  NETWORK_REFERENCE_SIZE,
  createNetworkTaskScorer,
  createTaskScorer,
  readCalibrationImages,
  scoresInTable,
} from '../src/proxies/task-scorer.js';
import { combineTerms } from '../src/proxies/terms.js';
import { FBNET_SETTINGS } from '../src/spaces/fbnet/definition.js';
import { buildFbnetGraph } from '../src/spaces/fbnet/network.js';
import { SPACE_IDS, spaceById } from '../src/spaces/index.js';
import { silentLogger } from '../src/util/log.js';
import { Random } from '../src/util/random.js';
import { runCliCaptured } from './support/cli.js';

const MACRO_CSV = fileURLToPath(new URL('../../shared/data/macro/macro_accuracy.csv', import.meta.url));
const haveMacro = existsSync(MACRO_CSV);
if (!haveMacro) console.warn(`skipping bench proxies --space macro: ${MACRO_CSV} not found`);

const folders: string[] = [];
const tempFolder = (): string => {
  const folder = mkdtempSync(path.join(tmpdir(), 'simnas-proxies-'));
  folders.push(folder);
  return folder;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('NASWOT on any network graph', () => {
  it('counts D as the ReLU units of the operator list, and gives the same value twice', async () => {
    const space = spaceById('macro');
    const arch = space.parse('ir_3x3_t3-id-ir_5x5_t6-id-id-ir_3x3_t3-id-id');
    const images = syntheticImages(8, 32, 0);
    const build = () =>
      space.networkGraph(arch, { dataset: 'cifar10', batchSize: 8, seed: 0, unfoldedBatchNorm: true });
    const first = await naswotOfGraph(build(), images);
    const second = await naswotOfGraph(build(), images);
    expect(first).toEqual(second);
    expect(Number.isFinite(first.naswot)).toBe(true);
    // Stem, body and head operators that end in a ReLU: channels x side^2 each.
    const { macroNetworkOperators } = await import('../src/spaces/macro/definition.js');
    const units = macroNetworkOperators(arch)
      .filter((op) => op.relu)
      .reduce((sum, op) => sum + op.outChannels * op.outSize * op.outSize, 0);
    expect(first.reluUnits).toBe(units);
    // log|det K| <= B ln D (Hadamard: K's diagonal is D), and it is a real kernel, not all-equal codes.
    expect(first.naswot).toBeLessThanOrEqual(8 * Math.log(units) + 1e-9);
    expect(first.naswot).toBeGreaterThan(8 * Math.log(units) - 8);
  });

  it('the in-graph kernel equals the kernel of the ReLU codes read back (FBNet: grouped convs, shuffles)', async () => {
    const space = spaceById('fbnet');
    const arch = space.sample(new Random(3));
    const n = 6;
    // The space's builder with its operator list, so every ReLU output's shape is known.
    const network = buildFbnetGraph(arch, FBNET_SETTINGS.cifar100, { batchSize: n, seed: 1 });
    const taps = network.built
      .filter((step) => step.operator.relu)
      .map((step) => ({
        tensor: step.output,
        dims: [n, step.operator.outChannels, step.operator.outSize, step.operator.outSize],
      }));
    expect(taps).toHaveLength(network.graph.nodes.filter((node) => node.opType === 'Relu').length);
    addGraphNaswotKernel(network);
    for (const tap of taps) network.graph.addOutput(tap.tensor, tap.dims);
    const session = await ort.InferenceSession.create(serializeModel(network.graph), {
      intraOpNumThreads: 1,
    });
    const images = syntheticImages(n, 32, 2);
    const result = await session.run({
      [network.input.name]: new ort.Tensor('float32', images.data, [...network.input.dims]),
    });
    await session.release();
    const expected = new Float64Array(n * n);
    let units = 0;
    for (const tap of taps) {
      const x = result[tap.tensor]!.data as Float32Array;
      const per = x.length / n;
      units += per;
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++) {
          let agree = 0;
          for (let u = 0; u < per; u++) if (x[a * per + u]! > 0 === x[b * per + u]! > 0) agree++;
          expected[a * n + b]! += agree;
        }
    }
    const kernel = result[NASWOT_KERNEL_OUTPUT]!.data as Float64Array;
    expect(Array.from(kernel)).toEqual(Array.from(expected));
    expect(kernel[0]).toBe(units);
  }, 30_000);

  it('refuses a network whose BatchNorm is not at initialisation', async () => {
    const space = spaceById('macro');
    const network = space.networkGraph(space.fromCode(0), {
      dataset: 'cifar10',
      batchSize: 4,
      seed: 0,
      unfoldedBatchNorm: true,
    });
    const bn = network.graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
    network.graph.initializers.get(bn.inputs[1]!)!.data[0] = 2;
    await expect(naswotOfGraph(network, syntheticImages(4, 32, 0))).rejects.toThrow(
      /not at its initial scale/,
    );
  });
});

describe('task scorer for layered spaces', () => {
  for (const id of ['macro', 'fbnet']) {
    it(`${id}: finite deterministic values, memory cache hits, disk cache round-trip`, async () => {
      const space = spaceById(id);
      const cacheDir = tempFolder();
      const scorer = await createTaskScorer(space, { cacheDir, referenceSize: 2 });
      expect(scorer.computed).toBe(2);
      const arch = space.sample(new Random(5));
      const values = await scorer.values(arch);
      for (const v of Object.values(values)) expect(Number.isFinite(v)).toBe(true);
      expect(values.flopsM).toBe(space.counts(arch, scorer.dataset).flopsM);
      const score = await scorer.score(arch);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
      expect(scorer.computed).toBe(3);
      // A memory hit: the same object, nothing computed.
      expect(await scorer.values(arch)).toBe(values);
      expect(scorer.computed).toBe(3);
      // The disk cache: a new scorer reads every value back and computes nothing.
      const lines = readFileSync(path.join(cacheDir, PROXY_CACHE_FILE), 'utf8').trim().split('\n');
      expect(lines).toHaveLength(3);
      const again = await createTaskScorer(space, { cacheDir, referenceSize: 2 });
      expect(await again.values(arch)).toEqual(values);
      expect(await again.score(arch)).toBe(score);
      expect(again.computed).toBe(0);
      expect(again.id).toBe(scorer.id);
      // Computed afresh without a cache: the same value (deterministic under the seeds).
      const fresh = await createTaskScorer(space, { cacheDir: null, referenceSize: 2 });
      expect(await fresh.values(arch)).toEqual(values);
    }, 60_000);
  }

  it('scores NB201 through the same API with its table rule (the figures ProxyProvider gives)', async () => {
    const space = spaceById('nb201');
    const scorer = await createTaskScorer(space, { dataset: 'cifar10' });
    const cell = space.parse(
      '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|',
    );
    const expected = await ProxyProvider.create().proxies(cell, 'cifar10');
    expect(await scorer.score(cell)).toBe(expected.taskScore);
    expect(await scorer.values(cell)).toEqual(expected.values);
    expect(scorer.formula).toBe(TASK_SCORE_FORMULA);
  });

  it("checks a --calibration-images folder at the size and minibatch of the space's own scorer", async () => {
    // 40 images: enough for on-demand scoring's minibatch (32), not for NB201's table (64).
    const folder = tempFolder();
    const png = new PNG({ width: 8, height: 8 });
    png.data.fill(90);
    for (let n = 0; n < 40; n++) writeFileSync(path.join(folder, `i${n}.png`), PNG.sync.write(png));
    const imagenet = await readCalibrationImages(spaceById('fbnet'), folder, 'imagenet');
    expect(imagenet.batch.size).toBe(224);
    expect(imagenet.files).toHaveLength(NETWORK_NASWOT_BATCH);
    expect((await readCalibrationImages(spaceById('macro'), folder, 'cifar10')).batch.size).toBe(32);
    await expect(readCalibrationImages(spaceById('nb201'), folder, 'ImageNet16-120')).rejects.toThrow(
      /found 40 PNG\/JPEG image\(s\), need at least 64/,
    );
    await expect(readCalibrationImages(spaceById('fbnet'), folder, 'cifar10')).rejects.toThrow(
      /unknown dataset 'cifar10' for the fbnet space; expected one of cifar100, imagenet/,
    );
  });

  it('uses another cache entry for other settings (a truncated line is skipped with a warning)', async () => {
    const space = spaceById('macro');
    const cacheDir = tempFolder();
    writeFileSync(
      path.join(cacheDir, PROXY_CACHE_FILE),
      '{"id":"other","key":"00000000","values":{"naswot"\n',
    );
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    const scorer = await createTaskScorer(space, { cacheDir, referenceSize: 2, logger });
    expect(scorer.computed).toBe(2);
    expect(warnings.join('\n')).toMatch(/skipped 1 unreadable line/);
    expect(NETWORK_NASWOT_BATCH).toBe(32);
  }, 30_000);

  it('mixes terms by weight, and places values on the reference smoothly', () => {
    expect(
      combineTerms([
        [1, 0],
        [3, 1],
      ]),
    ).toBe(0.75);
    expect(smoothPercentile(0, { mean: 0, sd: 1 })).toBeCloseTo(0.5, 7);
    expect(smoothPercentile(1.959964, { mean: 0, sd: 1 })).toBeCloseTo(0.975, 6);
    expect(smoothPercentile(Number.NEGATIVE_INFINITY, { mean: 0, sd: 1 })).toBe(0);
    const normaliser = {
      size: 2,
      naswot: { mean: 100, sd: 10 },
      logFlops: { mean: 3, sd: 1 },
      logParams: { mean: 0, sd: 1 },
      relus: { mean: 10, sd: 2 },
    };
    const base = { naswot: 100, reluUnits: 1000, relus: 10, paramsM: 1, flopsM: Math.exp(3) };
    const higher = networkTaskScore({ ...base, naswot: 120 }, normaliser);
    expect(higher).toBeGreaterThan(networkTaskScore(base, normaliser));
  });
});

describe.skipIf(!haveMacro)('bench proxies --space macro (reads ../shared/data/macro)', () => {
  it('prints the NB201 benchmark figures over a sample of rows', async () => {
    const cacheDir = tempFolder();
    const args = [
      'bench',
      'proxies',
      '--space',
      'macro',
      '--accuracy',
      MACRO_CSV,
      '--limit',
      '10',
      '--reference-networks',
      '2',
      '--timing-cells',
      '1',
      '--cache-dir',
      cacheDir,
      '--json',
    ];
    const { code, stdout, stderr } = await runCliCaptured(...args);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      scored: number;
      rows: number;
      proxies: { name: string; spearman: number }[];
      task_score: {
        spearman: number;
        top1_acc: number;
        optimum_acc: number;
        constrained_regret: { p50: number };
      };
      halves: { sizes: [number, number] };
      on_demand_ms: { median: number };
    };
    expect(result.rows).toBe(6561);
    expect(result.scored).toBe(10);
    expect(result.halves.sizes[0] + result.halves.sizes[1]).toBe(10);
    expect(result.proxies.map((p) => p.name)).toContain('naswot');
    expect(result.task_score.top1_acc).toBeLessThanOrEqual(result.task_score.optimum_acc);
    expect(result.task_score.constrained_regret.p50).toBeGreaterThanOrEqual(0);
    expect(result.on_demand_ms.median).toBeGreaterThan(0);
    // A rerun reads every value from the disk cache.
    const rerun = await runCliCaptured(...args.filter((a) => a !== '--json'));
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(/0 computed now/);
    expect(rerun.stdout).toMatch(/task score, half B/);
  }, 60_000);
});

describe('proxies show in a layered space', () => {
  it('names a dataset the space lacks, before computing anything', async () => {
    const arch = 'ir_5x5_t6-id-ir_3x3_t3-id-ir_3x3_t3-id-ir_5x5_t6-id';
    const bad = await runCliCaptured('proxies', 'show', '--space', 'macro', arch, '--dataset', 'mnist');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown dataset 'mnist' for the macro space; expected one of cifar10/);
  });
});

describe('bench proxies --space macro: bad input', () => {
  const write = (text: string): string => {
    const file = path.join(tempFolder(), 'macro.csv');
    writeFileSync(file, text);
    return file;
  };
  const bench = (file: string) =>
    runCliCaptured('bench', 'proxies', '--space', 'macro', '--accuracy', file, '--timing-cells', '0');

  it('names the row and column of a bad architecture string', async () => {
    const file = write(
      'code,arch,mean_acc\n00000000,id-id-id-id-id-id-id-id,45.3\n00000001,id-id-id-id-id-id-id-ir_9x9,64.2\n',
    );
    const { code, stderr } = await bench(file);
    expect(code).toBe(2);
    expect(stderr).toMatch(/row 3, column 'arch'.*layer 8 is 'ir_9x9'/);
  });

  it('names a missing column and a bad accuracy', async () => {
    const noColumn = await bench(write('code,arch,acc\n00000000,id-id-id-id-id-id-id-id,45.3\n'));
    expect(noColumn.code).toBe(2);
    expect(noColumn.stderr).toMatch(/no 'mean_acc' column \(found: code, arch, acc\)/);
    const badValue = await bench(write('arch,mean_acc\nid-id-id-id-id-id-id-id,n/a\n'));
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/row 2, column 'mean_acc': 'n\/a' is not a number/);
  });

  it('asks NB201 for its published reference values', async () => {
    const { code, stderr } = await runCliCaptured('bench', 'proxies', '--accuracy', 'x.csv');
    expect(code).toBe(2);
    expect(stderr).toMatch(/needs --reference/);
  });
});

describe('the written-out reference normalisers', () => {
  const onDemand = SPACE_IDS.map(spaceById).filter((space) => !scoresInTable(space));

  it('cover every space scored on demand, for each of its datasets', async () => {
    const stale: string[] = [];
    for (const space of onDemand) {
      for (const dataset of space.datasets) {
        const scorer = await createNetworkTaskScorer(space, { dataset, cacheDir: null });
        if (!BUNDLED_REFERENCE_NORMALISERS[scorer.id]) stale.push(`${space.id}/${dataset} (${scorer.id})`);
        else expect(scorer.computed).toBe(0);
      }
    }
    expect(stale, `no written-out normaliser for ${stale.join(', ')}: paste the recomputed ones`).toEqual([]);
  });

  // Each space's default dataset is recomputed (FBNet ImageNet's 224-pixel networks take 35 s and
  // are left out; its key still goes stale with any change to the proxies' version or settings).
  it.each(onDemand.map((space) => [space.id, space.datasets[0]!] as const))(
    'match a fresh computation in %s/%s',
    async (id, dataset) => {
      const space = spaceById(id);
      const scorer = await createNetworkTaskScorer(space, {
        dataset,
        cacheDir: null,
        bundledReference: false,
      });
      expect(scorer.computed).toBe(NETWORK_REFERENCE_SIZE);
      const bundled = BUNDLED_REFERENCE_NORMALISERS[scorer.id];
      const paste = `paste into src/proxies/network-references.ts: '${scorer.id}': ${JSON.stringify(scorer.normaliser)}`;
      expect(bundled, paste).toBeDefined();
      for (const term of ['naswot', 'logFlops', 'logParams', 'relus'] as const) {
        for (const moment of ['mean', 'sd'] as const) {
          const relative = Math.abs(scorer.normaliser[term][moment] / bundled![term][moment] - 1);
          expect(relative, `${term} ${moment}; ${paste}`).toBeLessThan(1e-6);
        }
      }
    },
    60_000,
  );
});
