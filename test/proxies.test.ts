// Proxy building blocks: float64 conv kernels against their adjoint identities, log|det|, skip,
// the in-graph NASWOT kernel against codes read back from the same network, effective-cell
// sharing, the image batches (synthetic and user folders, with their errors) and the task score.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import jpeg from 'jpeg-js';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { serializeModel } from '../src/onnx/graph.js';
import { buildNetworkGraph } from '../src/spaces/nb201/network.js';
import {
  avgPool3x3,
  avgPool3x3Gradient,
  conv2d,
  conv2dInputGradient,
  conv2dWeightGradient,
  zeroMap,
  type FeatureMap,
} from '../src/proxies/conv64.js';
import { folderImages, syntheticImages } from '../src/proxies/images.js';
import { logAbsDet } from '../src/proxies/logdet.js';
import { addNaswotKernel, naswotOf } from '../src/spaces/nb201/proxies/naswot.js';
import { NASWOT_KERNEL_OUTPUT } from '../src/proxies/naswot-kernel.js';
import {
  cellFeatures,
  distributionOf,
  identityPaths,
  minMax,
  minMaxTaskScore,
  naswotPerUnit,
  normaliserOf,
  percentile,
  rankTaskScore,
  reluUnits,
  taskScore,
  taskScoreOf,
  type ScoreNormaliser,
} from '../src/spaces/nb201/proxies/score.js';
import { skipOf } from '../src/spaces/nb201/proxies/skip.js';
import { synflowOf } from '../src/spaces/nb201/proxies/synflow.js';
import { effectiveCell, parseCell } from '../src/spaces/nb201/cell.js';
import { Random } from '../src/util/random.js';

function randomMap(channels: number, size: number, random: Random): FeatureMap {
  const map = zeroMap(channels, size, size);
  for (let i = 0; i < map.data.length; i++) map.data[i] = random.normal();
  return map;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Direct definition of a zero-padded cross-correlation, for checking the fast kernels. */
function naiveConv(x: FeatureMap, w: Float64Array, cout: number, k: number, stride: number): Float64Array {
  const pad = (k - 1) >> 1;
  const out = Math.floor((x.height + 2 * pad - k) / stride) + 1;
  const result = new Float64Array(cout * out * out);
  for (let o = 0; o < cout; o++)
    for (let y = 0; y < out; y++)
      for (let xx = 0; xx < out; xx++) {
        let sum = 0;
        for (let i = 0; i < x.channels; i++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = y * stride + ky - pad;
              const ix = xx * stride + kx - pad;
              if (iy < 0 || ix < 0 || iy >= x.height || ix >= x.width) continue;
              sum +=
                w[((o * x.channels + i) * k + ky) * k + kx]! * x.data[(i * x.height + iy) * x.width + ix]!;
            }
        result[(o * out + y) * out + xx] = sum;
      }
  return result;
}

const ALL_CONV3 = parseCell(
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
);
const SMALL = parseCell('|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|');
/** Same live edges as SMALL: the conv on 2<-1 is dead (node 2 feeds nothing). */
const SMALL_WITH_DEAD = parseCell(
  '|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|',
);
/** A 3x3 conv then a 1x1, with an input-to-output skip; the pooled variant swaps that skip for a pool. */
const RESIDUAL_3X3 = parseCell(
  '|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|skip_connect~2|',
);
const POOLED_3X3 = parseCell(
  '|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|skip_connect~2|',
);
const DISCONNECTED = parseCell('|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|');

describe('float64 conv kernels', () => {
  const random = new Random(3);
  for (const [k, stride, size] of [
    [3, 1, 7],
    [1, 1, 6],
    [3, 2, 8],
  ] as const) {
    it(`k=${k} stride=${stride}: forward matches the definition, gradients are its adjoints`, () => {
      const cin = 3;
      const cout = 4;
      const x = randomMap(cin, size, random);
      const w = Float64Array.from({ length: cout * cin * k * k }, () => random.normal());
      const y = conv2d(x, w, cout, k, stride);
      const expected = naiveConv(x, w, cout, k, stride);
      for (let i = 0; i < expected.length; i++) expect(y.data[i]).toBeCloseTo(expected[i]!, 10);
      const g = randomMap(cout, y.height, random);
      // <conv(x; w), g> = <x, dx> = <w, dw> for a bilinear map.
      const inner = dot(y.data, g.data);
      const dx = conv2dInputGradient(g, w, cin, size, size, k, stride);
      const dw = conv2dWeightGradient(x, g, k, stride);
      expect(dot(x.data, dx.data)).toBeCloseTo(inner, 8);
      expect(dot(w, dw)).toBeCloseTo(inner, 8);
    });
  }

  it('avg_pool_3x3 (padding not counted) and its gradient are adjoint', () => {
    const x = randomMap(2, 5, random);
    const y = avgPool3x3(x);
    // Corner: mean of the 2x2 in-image window.
    const corner = (x.data[0]! + x.data[1]! + x.data[5]! + x.data[6]!) / 4;
    expect(y.data[0]).toBeCloseTo(corner, 12);
    const g = randomMap(2, 5, random);
    expect(dot(x.data, avgPool3x3Gradient(g).data)).toBeCloseTo(dot(y.data, g.data), 10);
  });
});

describe('logAbsDet', () => {
  it('matches closed forms, uses LU for indefinite matrices and returns -Infinity when singular', () => {
    expect(logAbsDet(Float64Array.from([4, 2, 2, 3]), 2)).toBeCloseTo(Math.log(8), 12);
    expect(logAbsDet(Float64Array.from([0, 2, 3, 0]), 2)).toBeCloseTo(Math.log(6), 12);
    expect(logAbsDet(Float64Array.from([5, 5, 5, 5]), 2)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('skip', () => {
  it('averages the nodes jumped over by live skips', () => {
    expect(
      skipOf(parseCell('|skip_connect~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|skip_connect~2|')),
    ).toBe((0 + 0 + 2 + 0) / 4);
    expect(skipOf(ALL_CONV3)).toBe(0);
    // A skip on a dead edge (node 2 unreachable) does not count.
    expect(skipOf(parseCell('|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|skip_connect~2|'))).toBe(
      2,
    );
  });
});

describe('NASWOT', () => {
  const images = syntheticImages(8, 32, 5);

  it('the in-graph kernel equals the kernel of the ReLU codes read back from the same network', async () => {
    const network = buildNetworkGraph(SMALL, { dataset: 'cifar10', batchSize: 8, seed: 1 });
    const units = addNaswotKernel(network);
    for (const tap of network.reluInputs) network.graph.addOutput(tap.tensor, tap.dims);
    const session = await ort.InferenceSession.create(serializeModel(network.graph), {
      intraOpNumThreads: 1,
    });
    const feeds = { [network.input.name]: new ort.Tensor('float32', images.data, [...network.input.dims]) };
    const result = await session.run(feeds);
    await session.release();
    const n = 8;
    const expected = new Float64Array(n * n);
    let counted = 0;
    for (const tap of network.reluInputs) {
      const x = result[tap.tensor]!.data as Float32Array;
      const per = x.length / n;
      counted += per;
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++) {
          let agree = 0;
          for (let u = 0; u < per; u++) if (x[a * per + u]! > 0 === x[b * per + u]! > 0) agree++;
          expected[a * n + b]! += agree;
        }
    }
    expect(units).toBe(counted);
    const kernel = result[NASWOT_KERNEL_OUTPUT]!.data as Float32Array;
    for (let i = 0; i < n * n; i++) expect(kernel[i]).toBe(expected[i]);
    // Batch-statistics BN: what enters the first cell's ReLU has zero mean per channel.
    const first = result[network.reluInputs[0]!.tensor]!.data as Float32Array;
    let mean = 0;
    for (let b = 0; b < n; b++) for (let p = 0; p < 32 * 32; p++) mean += first[b * 16 * 1024 + p]!;
    expect(Math.abs(mean / (n * 1024))).toBeLessThan(1e-4);
  });

  it('depends on the effective cell only, is shared by datasets of the same input size, and is -Infinity when disconnected', async () => {
    const a = await naswotOf(SMALL, 'cifar10', images, { seed: 2 });
    expect(Number.isFinite(a)).toBe(true);
    expect(await naswotOf(SMALL_WITH_DEAD, 'cifar10', images, { seed: 2 })).toBe(a);
    expect(await naswotOf(SMALL, 'cifar100', images, { seed: 2 })).toBe(a);
    expect(await naswotOf(SMALL, 'cifar10', images, { seed: 3 })).not.toBe(a);
    expect(await naswotOf(DISCONNECTED, 'cifar10', images, { seed: 2 })).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('synflow', () => {
  it('is deterministic, keyed by the effective cell, 0 for a disconnected cell, and grows with depth', () => {
    const a = synflowOf(SMALL, 'cifar10', 4);
    expect(synflowOf(SMALL_WITH_DEAD, 'cifar10', 4)).toEqual(a);
    expect(synflowOf(SMALL, 'cifar10', 5)).not.toEqual(a);
    expect(synflowOf(DISCONNECTED, 'cifar10', 4)).toEqual({ synflow: 0, logsynflow: 0 });
    const deep = synflowOf(ALL_CONV3, 'ImageNet16-120', 4);
    const shallow = synflowOf(SMALL, 'ImageNet16-120', 4);
    expect(deep.synflow).toBeGreaterThan(shallow.synflow * 1e10);
    expect(deep.logsynflow).toBeGreaterThan(shallow.logsynflow);
  });
});

describe('calibration images', () => {
  it('synthetic batches are deterministic, normalised and differ between images', () => {
    const a = syntheticImages(4, 16, 1);
    expect(syntheticImages(4, 16, 1).data).toEqual(a.data);
    expect(syntheticImages(4, 16, 2).data).not.toEqual(a.data);
    const plane = 16 * 16;
    let sum = 0;
    let squares = 0;
    for (let n = 0; n < 4; n++)
      for (let p = 0; p < plane; p++) {
        const v = a.data[n * 3 * plane + p]!;
        sum += v;
        squares += v * v;
      }
    expect(sum / (4 * plane)).toBeCloseTo(0, 5);
    expect(squares / (4 * plane)).toBeCloseTo(1, 4);
    expect(a.data.subarray(0, 3 * plane)).not.toEqual(a.data.subarray(3 * plane, 6 * plane));
  });

  it('reads PNG and JPEG folders, resizes, and names what is wrong', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'simnas-images-'));
    const png = new PNG({ width: 40, height: 30 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) % 256;
    writeFileSync(join(folder, 'a.png'), PNG.sync.write(png));
    const rgba = Buffer.alloc(20 * 20 * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 11) % 256;
    writeFileSync(join(folder, 'b.jpg'), jpeg.encode({ data: rgba, width: 20, height: 20 }, 90).data);
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    const found = await folderImages(folder, 16, 2);
    expect(found.files).toEqual(['a.png', 'b.jpg']);
    expect(found.batch.data.length).toBe(2 * 3 * 16 * 16);
    expect(found.digest).toMatch(/^[0-9a-f]{64}$/);
    await expect(folderImages(folder, 16, 3)).rejects.toThrow(
      /found 2 PNG\/JPEG image\(s\), need at least 3/,
    );
    writeFileSync(join(folder, 'c.png'), 'garbage');
    await expect(folderImages(folder, 16, 3)).rejects.toThrow(
      /'.*c\.png': not a readable PNG\/JPEG image \(it starts with neither a PNG nor a JPEG signature\)/,
    );
    await expect(folderImages(join(folder, 'missing'), 16, 1)).rejects.toBeInstanceOf(UsageError);
  });
});

describe('task score', () => {
  /** A normaliser over a made-up population, so every percentile below is checkable by hand. */
  function population(): ScoreNormaliser {
    const cells = [SMALL, ALL_CONV3, RESIDUAL_3X3, POOLED_3X3].map((cell) => cellFeatures(cell, 'cifar10'));
    const naswots = [600, 700, 750, 800];
    return normaliserOf(
      cells.map((features, i) => ({
        features,
        values: { naswot: naswots[i]!, synflow: 1, logsynflow: 1e6 * (i + 1), skip: 0 },
        weight: i === 3 ? 2 : 1,
      })),
      'cifar10',
      64,
    );
  }

  it('counts the ReLU units NASWOT sees, as the network builder lays them out', () => {
    for (const cell of [SMALL, SMALL_WITH_DEAD, ALL_CONV3, DISCONNECTED, POOLED_3X3]) {
      for (const dataset of ['cifar10', 'ImageNet16-120'] as const) {
        const network = buildNetworkGraph(cell, { dataset, batchSize: 2, seed: 0, prune: true });
        expect(cellFeatures(cell, dataset).reluUnits, `${dataset} ${cell.join('')}`).toBe(
          addNaswotKernel(network),
        );
      }
    }
    // Unpruned, the dead conv of SMALL_WITH_DEAD counts (FreeREA's eager networks).
    expect(reluUnits(SMALL_WITH_DEAD, 'cifar10')).toBeGreaterThan(reluUnits(SMALL, 'cifar10'));
    expect(cellFeatures(POOLED_3X3, 'cifar10').pools).toBe(1);
    expect(cellFeatures(SMALL_WITH_DEAD, 'cifar10').paramsM).toBe(cellFeatures(SMALL, 'cifar10').paramsM);
  });

  it('mixes P(naswot per ReLU unit), P(params), skip / 2, pool-free share, residual and 3x3 terms 4:8:1:2:1:1', () => {
    const normaliser = population();
    const features = cellFeatures(RESIDUAL_3X3, 'cifar10');
    const naswot = 760;
    const perUnit = naswotPerUnit(naswot, features.reluUnits, 64);
    expect(perUnit).toBeCloseTo(naswot - 64 * Math.log(features.reluUnits), 9);
    const expected =
      (4 * percentile(normaliser.naswotPerUnit, perUnit) +
        8 * percentile(normaliser.params, features.paramsM) +
        skipOf(RESIDUAL_3X3) / 2 +
        2 +
        1 +
        1) /
      17;
    const values = { naswot, synflow: 1, logsynflow: 2e6, skip: skipOf(RESIDUAL_3X3) };
    expect(taskScore(RESIDUAL_3X3, values, normaliser)).toBeCloseTo(expected, 12);
    // RESIDUAL_3X3's params (one 3x3 and one 1x1 conv) are above SMALL's (weight 1), equal to its
    // own and POOLED_3X3's (weight 1 + 2), below ALL_CONV3's: (1 + 4) / 2 / 5.
    expect(percentile(normaliser.params, features.paramsM)).toBeCloseTo(0.5, 12);
    expect(taskScore(RESIDUAL_3X3, { ...values, naswot: Number.NEGATIVE_INFINITY }, normaliser)).toBe(0);
  });

  it('stays in [0, 1] and rises with each proxy, with capacity, and without pooling', () => {
    const normaliser = population();
    const values = { naswot: 760, synflow: 1, logsynflow: 2e6, skip: 1 };
    const score = (cell: typeof SMALL, change: Partial<typeof values> = {}): number =>
      taskScore(cell, { ...values, ...change }, normaliser);
    for (const cell of [SMALL, ALL_CONV3, RESIDUAL_3X3, POOLED_3X3]) {
      for (const naswot of [0, 700, 1e4]) {
        for (const skip of [0, 2]) {
          expect(score(cell, { naswot, skip })).toBeGreaterThanOrEqual(0);
          expect(score(cell, { naswot, skip })).toBeLessThanOrEqual(1);
        }
      }
      expect(score(cell, { naswot: 800 })).toBeGreaterThan(score(cell, { naswot: 700 }));
      expect(score(cell, { skip: 2 })).toBeGreaterThan(score(cell, { skip: 0 }));
      // logsynflow only enters through params, which is exact: it does not move the score.
      expect(score(cell, { logsynflow: 9e9 })).toBe(score(cell));
    }
    // Same proxy values: an avg_pool edge where the residual cell has a skip costs the pool term.
    expect(score(POOLED_3X3)).toBeLessThan(score(RESIDUAL_3X3));
    // NASWOT is read per ReLU unit: the same raw value from a network with more ReLUs is weaker
    // evidence, while its extra parameters count in the params term.
    const perUnitShare = (cell: typeof SMALL): number =>
      percentile(normaliser.naswotPerUnit, naswotPerUnit(760, cellFeatures(cell, 'cifar10').reluUnits, 64));
    expect(perUnitShare(ALL_CONV3)).toBeLessThan(perUnitShare(RESIDUAL_3X3));
  });

  it('counts input-to-output paths of skip edges only', () => {
    const identity = (text: string): number => identityPaths(parseCell(text));
    expect(identityPaths(RESIDUAL_3X3)).toBe(1);
    expect(identityPaths(ALL_CONV3)).toBe(0);
    expect(identityPaths(POOLED_3X3)).toBe(0);
    // 3<-0 directly and 3<-1<-0: the input reaches the output twice.
    expect(
      identity('|skip_connect~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|nor_conv_3x3~2|'),
    ).toBe(2);
    // Every edge a skip: 0-3, 0-1-3, 0-2-3, 0-1-2-3.
    expect(
      identity(
        '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
      ),
    ).toBe(4);
    expect(cellFeatures(RESIDUAL_3X3, 'cifar10')).toMatchObject({ identityPaths: 1, convs3x3: 1 });
    // A dead 3x3 conv widens no receptive field: features are read on the effective cell.
    expect(cellFeatures(SMALL_WITH_DEAD, 'cifar10').convs3x3).toBe(0);
  });

  it('prefers exactly one identity path and a 3x3 window (a conv, or half for a pooling), all proxy values being equal', () => {
    const normaliser = population();
    const values = { naswot: 760, synflow: 1, logsynflow: 2e6, skip: 1 };
    const features = cellFeatures(RESIDUAL_3X3, 'cifar10');
    const score = (change: Partial<typeof features>): number =>
      taskScoreOf({ ...features, ...change }, values, normaliser);
    const step = 1 / 17;
    // No identity path (a plain cell) or two of them (the input added twice) both lose the term.
    expect(score({ identityPaths: 1 }) - score({ identityPaths: 0 })).toBeCloseTo(step, 12);
    expect(score({ identityPaths: 1 }) - score({ identityPaths: 2 })).toBeCloseTo(step, 12);
    expect(score({ identityPaths: 2 })).toBe(score({ identityPaths: 3 }));
    // One 3x3 conv or several: the term is the presence of spatial context, capacity is in params.
    expect(score({ convs3x3: 1 }) - score({ convs3x3: 0 })).toBeCloseTo(step, 12);
    expect(score({ convs3x3: 3 })).toBe(score({ convs3x3: 1 }));
    // A 3x3 pooling is spatial context without weights: half the term, only without a 3x3 conv.
    const pooled = (convs3x3: number): number => score({ convs3x3, pools: 1 });
    expect(pooled(0) - score({ convs3x3: 0, pools: 0 })).toBeCloseTo(step / 2 - (2 * step) / 6, 12);
    expect(pooled(1) - pooled(0)).toBeCloseTo(step / 2, 12);
  });

  it('keeps the previous rank rule: P(naswot), P(logsynflow) and skip / 2, equally weighted', () => {
    const normaliser = {
      ...population(),
      naswot: distributionOf([700, 750, 800, 750], [1, 2, 1, 0]),
      logsynflow: distributionOf([1e6, 2e6, 3e6]),
    };
    // naswot 750: 1 of weight 4 below, 2 equal -> (1 + 3) / 2 / 4 = 0.5; logsynflow 3e6: (2 + 3) / 2 / 3.
    expect(percentile(normaliser.naswot, 750)).toBeCloseTo(0.5, 12);
    expect(percentile(normaliser.logsynflow, 3e6)).toBeCloseTo(5 / 6, 12);
    expect(percentile(normaliser.logsynflow, 9e9)).toBe(1);
    expect(percentile(normaliser.logsynflow, 0)).toBe(0);
    expect(rankTaskScore({ naswot: 750, synflow: 1, logsynflow: 3e6, skip: 1 }, normaliser)).toBeCloseTo(
      (0.5 + 5 / 6 + 0.5) / 3,
      12,
    );
    expect(
      rankTaskScore({ naswot: Number.NEGATIVE_INFINITY, synflow: 0, logsynflow: 9e9, skip: 2 }, normaliser),
    ).toBe(0);
  });

  it("keeps FreeREA's min-max rule for comparison", () => {
    const bounds = { naswot: [700, 800], logsynflow: [1e6, 3e6] } as const;
    expect(minMaxTaskScore({ naswot: 750, synflow: 1, logsynflow: 2e6, skip: 1 }, bounds)).toBeCloseTo(
      0.5,
      12,
    );
    expect(minMax(900, [700, 800])).toBe(2);
    expect(effectiveCell(SMALL_WITH_DEAD)).toEqual(SMALL);
  });
});
