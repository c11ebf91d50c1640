// How proxies are computed fast without changing a value: the specialised float64 kernels (1x1,
// stride-2 3x3, avg_pool_3x3) add exactly the terms of the reference loops in the same order, and
// the stride-1 3x3 loop adds each input channel's taps as one group, so they agree bit for bit with
// loops written from the definition; one network build per seed gives what separate NASWOT and
// synflow builds give; the provider shares NASWOT between datasets of one input size.
import { describe, expect, it } from 'vitest';

import {
  avgPool3x3,
  avgPool3x3Gradient,
  conv2d,
  conv2dInputGradient,
  conv2dWeightGradient,
  zeroMap,
  type FeatureMap,
} from '../src/proxies/conv64.js';
import { meanNaswot, meanProxies, meanSynflow } from '../src/spaces/nb201/proxies/compute.js';
import { syntheticImages } from '../src/proxies/images.js';
import { ProxyProvider } from '../src/spaces/nb201/proxies/provider.js';
import { parseCell } from '../src/spaces/nb201/cell.js';
import { Random } from '../src/util/random.js';

const random = new Random(17);

function randomMap(channels: number, size: number): FeatureMap {
  const map = zeroMap(channels, size, size);
  for (let i = 0; i < map.data.length; i++) map.data[i] = random.normal();
  return map;
}

function randomWeights(count: number): Float64Array {
  return Float64Array.from({ length: count }, () => random.normal());
}

/** Valid (input row, input column) of tap (ky, kx) at output (y, x), or undefined in the padding. */
function tapSource(
  y: number,
  x: number,
  ky: number,
  kx: number,
  k: number,
  stride: number,
  side: number,
): number | undefined {
  const pad = (k - 1) >> 1;
  const iy = y * stride + ky - pad;
  const ix = x * stride + kx - pad;
  return iy < 0 || ix < 0 || iy >= side || ix >= side ? undefined : iy * side + ix;
}

/** The reference loops: one term at a time in (channel, tap row, tap column) order. */
function referenceForward(x: FeatureMap, w: Float64Array, cout: number, k: number, stride: number) {
  const side = x.height;
  const out = Math.floor((side + 2 * ((k - 1) >> 1) - k) / stride) + 1;
  const result = new Float64Array(cout * out * out);
  for (let o = 0; o < cout; o++)
    for (let y = 0; y < out; y++)
      for (let xx = 0; xx < out; xx++) {
        let sum = 0;
        for (let i = 0; i < x.channels; i++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const at = tapSource(y, xx, ky, kx, k, stride, side);
              if (at !== undefined)
                sum += w[((o * x.channels + i) * k + ky) * k + kx]! * x.data[i * side * side + at]!;
            }
        result[(o * out + y) * out + xx] = sum;
      }
  return result;
}

/** Input gradient by scattering, in (output channel, tap row, tap column, position) order. */
function referenceInputGradient(
  g: FeatureMap,
  w: Float64Array,
  cin: number,
  side: number,
  k: number,
  stride: number,
) {
  const result = new Float64Array(cin * side * side);
  for (let o = 0; o < g.channels; o++)
    for (let i = 0; i < cin; i++)
      for (let ky = 0; ky < k; ky++)
        for (let kx = 0; kx < k; kx++)
          for (let y = 0; y < g.height; y++)
            for (let xx = 0; xx < g.width; xx++) {
              const at = tapSource(y, xx, ky, kx, k, stride, side);
              if (at !== undefined) {
                result[i * side * side + at]! +=
                  w[((o * cin + i) * k + ky) * k + kx]! * g.data[(o * g.height + y) * g.width + xx]!;
              }
            }
  return result;
}

function referenceWeightGradient(x: FeatureMap, g: FeatureMap, k: number, stride: number) {
  const side = x.height;
  const result = new Float64Array(g.channels * x.channels * k * k);
  for (let o = 0; o < g.channels; o++)
    for (let i = 0; i < x.channels; i++)
      for (let ky = 0; ky < k; ky++)
        for (let kx = 0; kx < k; kx++) {
          let sum = 0;
          for (let y = 0; y < g.height; y++)
            for (let xx = 0; xx < g.width; xx++) {
              const at = tapSource(y, xx, ky, kx, k, stride, side);
              if (at !== undefined)
                sum += g.data[(o * g.height + y) * g.width + xx]! * x.data[i * side * side + at]!;
            }
          result[((o * x.channels + i) * k + ky) * k + kx] = sum;
        }
  return result;
}

describe('specialised float64 kernels add the reference terms in the reference order', () => {
  // 1x1 with channel counts off the four-channel blocks; stride 2 on even sides (specialised) and
  // odd sides (the general loops).
  for (const [k, stride, size, cin, cout] of [
    [1, 1, 5, 6, 3],
    [1, 1, 4, 8, 5],
    [3, 2, 8, 3, 4],
    [3, 2, 6, 5, 2],
    [3, 2, 7, 3, 4],
  ] as const) {
    it(`k=${k} stride=${stride} ${cin}->${cout} on ${size}x${size}: forward and both gradients, bit for bit`, () => {
      const x = randomMap(cin, size);
      const w = randomWeights(cout * cin * k * k);
      const y = conv2d(x, w, cout, k, stride);
      expect(y.data).toEqual(referenceForward(x, w, cout, k, stride));
      const g = randomMap(cout, y.height);
      expect(conv2dInputGradient(g, w, cin, size, size, k, stride).data).toEqual(
        referenceInputGradient(g, w, cin, size, k, stride),
      );
      expect(conv2dWeightGradient(x, g, k, stride)).toEqual(referenceWeightGradient(x, g, k, stride));
    });
  }

  it('3x3 stride 1: the nine taps of each input channel added as one group, bit for bit', () => {
    const [cin, cout, side] = [3, 5, 6];
    const x = randomMap(cin, side);
    const w = randomWeights(cout * cin * 9);
    const g = randomMap(cout, side);
    // out[d] = sum over sources s of (the nine products of s, added in tap order), zero off the map.
    const grouped = (
      src: FeatureMap,
      dst: number,
      weightAt: (d: number, s: number, tap: number) => number,
    ) => {
      const result = new Float64Array(dst * side * side);
      for (let d = 0; d < dst; d++)
        for (let p = 0; p < side * side; p++) {
          let sum = 0;
          for (let s = 0; s < src.channels; s++) {
            let group = 0;
            for (let tap = 0; tap < 9; tap++) {
              const at = tapSource(Math.floor(p / side), p % side, Math.floor(tap / 3), tap % 3, 3, 1, side);
              group += weightAt(d, s, tap) * (at === undefined ? 0 : src.data[s * side * side + at]!);
            }
            sum += group;
          }
          result[d * side * side + p] = sum;
        }
      return result;
    };
    expect(conv2d(x, w, cout, 3, 1).data).toEqual(
      grouped(x, cout, (o, i, tap) => w[(o * cin + i) * 9 + tap]!),
    );
    expect(conv2dInputGradient(g, w, cin, side, side, 3, 1).data).toEqual(
      grouped(g, cin, (i, o, tap) => w[(o * cin + i) * 9 + 8 - tap]!),
    );
    expect(conv2dWeightGradient(x, g, 3, 1)).toEqual(referenceWeightGradient(x, g, 3, 1));
  });

  it('avg_pool_3x3 and its gradient: window sums in raster order, bit for bit', () => {
    const side = 6;
    const x = randomMap(2, side);
    const count = (p: number): number => {
      const y = Math.floor(p / side);
      const xx = p % side;
      return (
        (3 - Number(y === 0) - Number(y === side - 1)) * (3 - Number(xx === 0) - Number(xx === side - 1))
      );
    };
    const pooled = new Float64Array(x.data.length);
    const gradient = new Float64Array(x.data.length);
    for (let c = 0; c < 2; c++)
      for (let p = 0; p < side * side; p++) {
        let sum = 0;
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) {
            const at = tapSource(Math.floor(p / side), p % side, ky, kx, 3, 1, side);
            if (at !== undefined) {
              sum += x.data[c * side * side + at]!;
              gradient[c * side * side + at]! += x.data[c * side * side + p]! / count(p);
            }
          }
        pooled[c * side * side + p] = sum / count(p);
      }
    expect(avgPool3x3(x).data).toEqual(pooled);
    expect(avgPool3x3Gradient(x).data).toEqual(gradient);
  });
});

describe('one network build per seed', () => {
  const cell = parseCell(
    '|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|',
  );
  const images = syntheticImages(8, 16, 3);

  it('gives exactly what separate NASWOT and synflow builds give', async () => {
    const seeds = [0, 4];
    const shared = await meanProxies(cell, 'ImageNet16-120', images, seeds);
    expect(shared.naswot).toBe(await meanNaswot(cell, 'ImageNet16-120', images, seeds));
    expect(shared).toMatchObject(meanSynflow(cell, 'ImageNet16-120', seeds));
    const disconnected = parseCell('|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|');
    expect(await meanProxies(disconnected, 'ImageNet16-120', images, seeds)).toEqual({
      naswot: Number.NEGATIVE_INFINITY,
      synflow: 0,
      logsynflow: 0,
    });
  });
});

describe('ProxyProvider on demand', () => {
  it(
    'gives cifar100 the NASWOT of cifar10 (same input size) and its own synflow',
    { timeout: 60_000 },
    async () => {
      const cell = parseCell('|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|');
      const provider = ProxyProvider.create({ tablePath: null, seeds: [1] });
      const cifar10 = await provider.proxies(cell, 'cifar10');
      const cifar100 = await provider.proxies(cell, 'cifar100');
      const alone = await ProxyProvider.create({ tablePath: null, seeds: [1] }).proxies(cell, 'cifar100');
      expect(cifar100.values).toEqual(alone.values);
      expect(cifar100.values.naswot).toBe(cifar10.values.naswot);
      expect(cifar100.values.synflow).not.toBe(cifar10.values.synflow);
      expect(cifar100.source).toBe('computed');
    },
  );
});
