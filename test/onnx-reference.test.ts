// Checks the ONNX network against an independent plain-TypeScript forward pass of the NB201
// macro network (written from method.md, reading only the weights from the built graph), so a
// wrong wiring, padding, pooling mode or layer order shows up as different logits.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { buildNetwork, type Nb201Network } from '../src/spaces/nb201/network.js';
import { EDGES, OPS, parseCell } from '../src/spaces/nb201/cell.js';
import type { Cell } from '../src/spaces/nb201/cell.js';
import { Random } from '../src/util/random.js';

/** A [channels, size, size] feature map (batch 1). */
interface Map3 {
  readonly channels: number;
  readonly size: number;
  readonly data: Float64Array;
}

const zeros = (channels: number, size: number): Map3 => ({
  channels,
  size,
  data: new Float64Array(channels * size * size),
});

function weight(network: Nb201Network, name: string): Float32Array {
  const initializer = network.graph.initializers.get(name);
  if (!initializer) throw new Error(`no initializer ${name}`);
  return initializer.data as Float32Array;
}

function conv(x: Map3, w: Float32Array, outChannels: number, kernel: number, stride: number): Map3 {
  const pad = Math.floor(kernel / 2);
  const outSize = x.size / stride;
  const y = zeros(outChannels, outSize);
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < outSize; i++) {
      for (let j = 0; j < outSize; j++) {
        let sum = 0;
        for (let c = 0; c < x.channels; c++) {
          for (let ki = 0; ki < kernel; ki++) {
            const r = i * stride + ki - pad;
            if (r < 0 || r >= x.size) continue;
            for (let kj = 0; kj < kernel; kj++) {
              const q = j * stride + kj - pad;
              if (q < 0 || q >= x.size) continue;
              sum +=
                w[((o * x.channels + c) * kernel + ki) * kernel + kj]! *
                x.data[(c * x.size + r) * x.size + q]!;
            }
          }
        }
        y.data[(o * outSize + i) * outSize + j] = sum;
      }
    }
  }
  return y;
}

const map = (x: Map3, f: (v: number) => number): Map3 => ({ ...x, data: x.data.map(f) });
const relu = (x: Map3) => map(x, (v) => Math.max(0, v));
const batchNormAtInit = (x: Map3) => map(x, (v) => v / Math.sqrt(1 + 1e-5));
const add = (a: Map3, b: Map3): Map3 => ({ ...a, data: a.data.map((v, i) => v + b.data[i]!) });

/** Average pool, `pad` on each side, padding not counted. */
function avgPool(x: Map3, kernel: number, stride: number, pad: number): Map3 {
  const outSize = Math.floor((x.size + 2 * pad - kernel) / stride) + 1;
  const y = zeros(x.channels, outSize);
  for (let c = 0; c < x.channels; c++) {
    for (let i = 0; i < outSize; i++) {
      for (let j = 0; j < outSize; j++) {
        let sum = 0;
        let count = 0;
        for (let r = i * stride - pad; r < i * stride - pad + kernel; r++) {
          for (let q = j * stride - pad; q < j * stride - pad + kernel; q++) {
            if (r < 0 || r >= x.size || q < 0 || q >= x.size) continue;
            sum += x.data[(c * x.size + r) * x.size + q]!;
            count++;
          }
        }
        y.data[(c * outSize + i) * outSize + j] = sum / count;
      }
    }
  }
  return y;
}

function reluConvBn(
  network: Nb201Network,
  x: Map3,
  out: number,
  kernel: number,
  stride: number,
  label: string,
) {
  return batchNormAtInit(conv(relu(x), weight(network, `${label}.conv.weight`), out, kernel, stride));
}

function referenceCell(network: Nb201Network, x: Map3, cell: Cell, label: string): Map3 {
  const nodes: Map3[] = [x];
  for (let node = 1; node < 4; node++) {
    let sum = zeros(x.channels, x.size);
    EDGES.forEach((edge, e) => {
      if (edge.to !== node) return;
      const source = nodes[edge.from]!;
      const name = `${label}.edge${edge.to}<-${edge.from}.${OPS[cell[e]!]}`;
      const op = OPS[cell[e]!];
      if (op === 'skip_connect') sum = add(sum, source);
      if (op === 'nor_conv_1x1') sum = add(sum, reluConvBn(network, source, x.channels, 1, 1, name));
      if (op === 'nor_conv_3x3') sum = add(sum, reluConvBn(network, source, x.channels, 3, 1, name));
      if (op === 'avg_pool_3x3') sum = add(sum, avgPool(source, 3, 1, 1));
    });
    nodes.push(sum);
  }
  return nodes[3]!;
}

function referenceForward(network: Nb201Network, images: Float32Array): Float64Array {
  const size = network.input.dims[2]!;
  let x: Map3 = { channels: 3, size, data: Float64Array.from(images) };
  x = batchNormAtInit(conv(x, weight(network, 'stem.conv.weight'), 16, 3, 1));
  [16, 32, 64].forEach((channels, stage) => {
    if (stage > 0) {
      const label = `stage${stage}.reduction`;
      const a = reluConvBn(network, x, channels, 3, 2, `${label}.a`);
      const b = reluConvBn(network, a, channels, 3, 1, `${label}.b`);
      const shortcut = conv(
        avgPool(x, 2, 2, 0),
        weight(network, `${label}.shortcut.conv.weight`),
        channels,
        1,
        1,
      );
      x = add(b, shortcut);
    }
    for (let i = 0; i < 5; i++) x = referenceCell(network, x, network.cell, `cell${stage * 5 + i}`);
  });
  x = relu(batchNormAtInit(x));
  const pooled = Array.from({ length: x.channels }, (_, c) => {
    let sum = 0;
    for (let p = 0; p < x.size * x.size; p++) sum += x.data[c * x.size * x.size + p]!;
    return sum / (x.size * x.size);
  });
  const classes = network.output.dims[1]!;
  const w = weight(network, 'classifier.weight');
  const bias = weight(network, 'classifier.bias');
  return Float64Array.from({ length: classes }, (_, k) =>
    pooled.reduce((sum, v, c) => sum + w[k * x.channels + c]! * v, bias[k]!),
  );
}

describe('ONNX network vs a plain TypeScript forward pass', () => {
  const cells = [
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
    '|avg_pool_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_1x1~2|',
    '|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|avg_pool_3x3~2|',
  ];
  for (const [i, text] of cells.entries()) {
    it(`matches for ${text}`, async () => {
      const network = buildNetwork(parseCell(text), { dataset: 'ImageNet16-120', seed: i, prune: i !== 2 });
      const random = new Random(100 + i);
      const images = Float32Array.from({ length: 3 * 16 * 16 }, () => random.normal());
      const session = await ort.InferenceSession.create(network.bytes);
      const result = await session.run({
        [network.input.name]: new ort.Tensor('float32', images, [...network.input.dims]),
      });
      await session.release();
      const actual = result[network.output.name]!.data as Float32Array;
      const expected = referenceForward(network, images);
      const scale = Math.max(...expected.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let k = 0; k < expected.length; k++) {
        expect(Math.abs(actual[k]! - expected[k]!), `logit ${k}`).toBeLessThanOrEqual(1e-4 * scale);
      }
    });
  }
});
