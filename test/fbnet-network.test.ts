// The FBNet ONNX networks: a 100-architecture random sample loads and runs in onnxruntime-node with
// the right output shape, and the logits agree with an independent plain-TypeScript forward pass
// written from the definition in ../shared/data/fbnet/README.md (it takes only the weights, in
// order, from the built graph; the wiring is its own), so a wrong padding, group count, shuffle
// order, residual or BatchNorm placement shows up as different logits.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { serializeModel } from '../src/onnx/graph.js';
import { FBNET_SETTINGS, parseFbnetArch, type FbnetSetting } from '../src/spaces/fbnet/definition.js';
import { buildFbnetGraph } from '../src/spaces/fbnet/network.js';
import { spaceById } from '../src/spaces/index.js';
import type { LayeredGraph } from '../src/spaces/layered-network.js';
import { Random } from '../src/util/random.js';

async function run(bytes: Uint8Array, inputName: string, data: Float32Array, dims: readonly number[]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ [inputName]: new ort.Tensor('float32', data, [...dims]) });
    return result[session.outputNames[0]!]!;
  } finally {
    await session.release();
  }
}

describe('FBNet networks in onnxruntime-node', () => {
  const space = spaceById('fbnet');

  it('runs every network of a 100-architecture random sample (CIFAR-100, batch 1) to [1, 100] logits', async () => {
    const random = new Random(19);
    const images = Float32Array.from({ length: 3 * 32 * 32 }, () => random.normal());
    const failures: string[] = [];
    for (let i = 0; i < 100; i++) {
      const arch = space.sample(random.child(`arch ${i}`));
      const network = space.network(arch, { dataset: 'cifar100', batchSize: 1, seed: i });
      expect(network.inputShape).toEqual([1, 3, 32, 32]);
      expect(network.outputShape).toEqual([1, 100]);
      const logits = await run(network.bytes, network.inputName, images, network.inputShape);
      const values = logits.data as Float32Array;
      if (logits.dims.join() !== '1,100' || !values.every(Number.isFinite) || values.every((v) => v === 0)) {
        failures.push(`${space.format(arch)}: dims [${logits.dims.join(', ')}]`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('builds the ImageNet setting (224x224, stride-2 stem, 1000 classes) at batch 2', async () => {
    const arch = space.sample(new Random(3));
    const network = space.network(arch, { dataset: 'imagenet', batchSize: 2, seed: 1 });
    expect(network.inputShape).toEqual([2, 3, 224, 224]);
    const images = new Float32Array(2 * 3 * 224 * 224).fill(0.5);
    const logits = await run(network.bytes, network.inputName, images, network.inputShape);
    expect(logits.dims).toEqual([2, 1000]);
    // Both images are the same, so are their logits.
    const values = logits.data as Float32Array;
    expect(Array.from(values.subarray(0, 1000))).toEqual(Array.from(values.subarray(1000)));
  });

  it('measures the same function as the definition: BatchNorm folded into the convolutions changes no logit', async () => {
    const arch = space.sample(new Random(9));
    const folded = space.network(arch, { dataset: 'cifar100', batchSize: 1, seed: 2 });
    const unfolded = buildFbnetGraph(arch, FBNET_SETTINGS.cifar100, { seed: 2 });
    const foldedGraph = space.networkGraph(arch, { dataset: 'cifar100', batchSize: 1, seed: 2 }).graph;
    expect(foldedGraph.nodes.some((node) => node.opType === 'BatchNormalization')).toBe(false);
    expect(
      unfolded.graph.nodes.filter((node) => node.opType === 'BatchNormalization').length,
    ).toBeGreaterThan(40);
    const random = new Random(10);
    const images = Float32Array.from({ length: 3 * 32 * 32 }, () => random.normal());
    const a = (await run(folded.bytes, folded.inputName, images, folded.inputShape)).data as Float32Array;
    const b = (await run(serializeModel(unfolded.graph), unfolded.input.name, images, unfolded.input.dims))
      .data as Float32Array;
    const scale = Math.max(...Array.from(b, Math.abs));
    expect(scale).toBeGreaterThan(0);
    expect(Math.max(...Array.from(a, (v, k) => Math.abs(v - b[k]!))) / scale).toBeLessThan(1e-4);
  });

  it('is deterministic under its seed and differs across seeds', () => {
    const arch = space.sample(new Random(4));
    const request = { dataset: 'cifar100', batchSize: 1, seed: 5 };
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
    expect(same(space.network(arch, request).bytes, space.network(arch, request).bytes)).toBe(true);
    expect(same(space.network(arch, { ...request, seed: 6 }).bytes, space.network(arch, request).bytes)).toBe(
      false,
    );
  });
});

/** A [channels, size, size] feature map (batch 1), float64. */
interface Map3 {
  readonly channels: number;
  readonly size: number;
  readonly data: Float64Array;
}

/** Convolution with groups, stride and symmetric zero padding; weights [out, in / groups, k, k]. */
function conv(
  x: Map3,
  w: Float32Array,
  out: number,
  k: number,
  stride: number,
  pad: number,
  groups: number,
): Map3 {
  const size = Math.floor((x.size + 2 * pad - k) / stride) + 1;
  const inPerGroup = x.channels / groups;
  const outPerGroup = out / groups;
  const y = new Float64Array(out * size * size);
  for (let o = 0; o < out; o++) {
    const g = Math.floor(o / outPerGroup);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let sum = 0;
        for (let c = 0; c < inPerGroup; c++) {
          const channel = g * inPerGroup + c;
          for (let ki = 0; ki < k; ki++) {
            const r = i * stride + ki - pad;
            if (r < 0 || r >= x.size) continue;
            for (let kj = 0; kj < k; kj++) {
              const q = j * stride + kj - pad;
              if (q < 0 || q >= x.size) continue;
              sum +=
                w[((o * inPerGroup + c) * k + ki) * k + kj]! * x.data[(channel * x.size + r) * x.size + q]!;
            }
          }
        }
        y[(o * size + i) * size + j] = sum;
      }
    }
  }
  return { channels: out, size, data: y };
}

const relu = (x: Map3): Map3 => ({ ...x, data: x.data.map((v) => Math.max(0, v)) });
const add = (a: Map3, b: Map3): Map3 => ({ ...a, data: a.data.map((v, i) => v + b.data[i]!) });

/** Channel c of group g moves to position c * groups + g (ShuffleNet's shuffle). */
function shuffle(x: Map3, groups: number): Map3 {
  const perGroup = x.channels / groups;
  const area = x.size * x.size;
  const y = new Float64Array(x.data.length);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < perGroup; c++) {
      y.set(
        x.data.subarray((g * perGroup + c) * area, (g * perGroup + c + 1) * area),
        (c * groups + g) * area,
      );
    }
  }
  return { ...x, data: y };
}

/**
 * Reads the graph's convolution weights and BatchNorm parameters in graph order, as the reference
 * asks for them; the reference decides what each one is for.
 */
class WeightReader {
  private next = 0;
  private readonly convs: LayeredGraph['built'];

  constructor(private readonly network: LayeredGraph) {
    this.convs = network.built.filter((b) => b.weight !== undefined);
  }

  private tensor(name: string): Float32Array {
    return this.network.graph.initializers.get(name)!.data as Float32Array;
  }

  convBn(
    x: Map3,
    out: number,
    k: number,
    stride: number,
    pad: number,
    groups: number,
    withRelu: boolean,
  ): Map3 {
    const step = this.convs[this.next++];
    if (!step) throw new Error('the graph has fewer convolutions than the definition');
    let y = conv(x, this.tensor(step.weight!), out, k, stride, pad, groups);
    const [scale, bias, mean, variance] = step.batchNorm!.map((name) => this.tensor(name));
    const area = y.size * y.size;
    y = {
      ...y,
      data: y.data.map((v, i) => {
        const c = Math.floor(i / area);
        return ((v - mean![c]!) / Math.sqrt(variance![c]! + 1e-5)) * scale![c]! + bias![c]!;
      }),
    };
    return withRelu ? relu(y) : y;
  }

  get used(): number {
    return this.next;
  }

  classifier(): { weight: Float32Array; bias: Float32Array } {
    return {
      weight: this.tensor(this.network.classifier.weight),
      bias: this.tensor(this.network.classifier.bias),
    };
  }
}

const BLOCK = /^k(\d)_e(\d)(?:_g(\d))?$/;

/** FBNet_Infer's forward pass, written from the README's description of the definition. */
function referenceForward(
  network: LayeredGraph,
  setting: FbnetSetting,
  blocks: string[],
  images: Float32Array,
) {
  const weights = new WeightReader(network);
  let x: Map3 = { channels: 3, size: setting.inputSize, data: Float64Array.from(images) };
  x = weights.convBn(x, 16, 3, setting.stemStride, 1, 1, true);
  const perStage = [1, 4, 4, 4, 4, 4, 1];
  const channels = [16, 24, 32, 64, 112, 184, 352];
  let layer = 0;
  perStage.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      const out = channels[stage]!;
      const stride = i === 0 ? setting.stageStrides[stage]! : 1;
      const residual = x.channels === out && stride === 1;
      const name = blocks[layer++]!;
      if (name === 'skip') {
        if (!residual) x = weights.convBn(x, out, 1, stride, 0, 1, true);
        continue;
      }
      const [, k, e, g] = BLOCK.exec(name)!.map(Number);
      const groups = Number.isNaN(g) ? 1 : g!;
      const hidden = x.channels * e!;
      let y = weights.convBn(x, hidden, 1, 1, 0, groups, true);
      if (groups > 1) y = shuffle(y, groups);
      y = weights.convBn(y, hidden, k!, stride, Math.ceil((k! - stride) / 2), hidden, true);
      y = weights.convBn(y, out, 1, 1, 0, groups, false);
      x = residual ? add(y, x) : y;
    }
  });
  x = weights.convBn(x, setting.headChannels, 1, 1, 0, 1, true);
  const area = x.size * x.size;
  const pooled = Array.from({ length: x.channels }, (_, c) => {
    let sum = 0;
    for (let p = 0; p < area; p++) sum += x.data[c * area + p]!;
    return sum / area;
  });
  const { weight, bias } = weights.classifier();
  const logits = Float64Array.from({ length: setting.classes }, (_, k) =>
    pooled.reduce((sum, v, c) => sum + weight[k * x.channels + c]! * v, bias[k]!),
  );
  return { logits, convolutionsUsed: weights.used };
}

describe('FBNet ONNX network vs a plain TypeScript forward pass', () => {
  // Layer 2 grouped with shuffle (16->24), 3 residual k5_e6, 4 skip identity, 6 stride-2 k3_e3,
  // 7 grouped with shuffle and residual, 10 stride-2 skip (a 1x1 convolution), 14 k5_e6 changing
  // channels at stride 1, 18 stride-2 k5 (padding ceil(3/2) = 2), 22 grouped 184->352.
  const arch = [
    'k3_e1',
    'k3_e1_g2',
    'k5_e6',
    'skip',
    'k3_e6',
    'k3_e3',
    'k5_e1_g2',
    'k5_e1',
    'k3_e1',
    'skip',
    'k3_e3',
    'k3_e1_g2',
    'k5_e3',
    'k5_e6',
    'skip',
    'k3_e6',
    'k5_e1',
    'k5_e3',
    'k3_e1_g2',
    'skip',
    'k3_e1',
    'k5_e1_g2',
  ];

  it('matches on CIFAR-100 with random BatchNorm statistics', async () => {
    const setting = FBNET_SETTINGS.cifar100;
    const network = buildFbnetGraph(parseFbnetArch(arch.join('-')), setting, { seed: 11 });
    // BatchNorm at initialization is nearly the identity; random statistics make a misplaced or
    // missing BatchNorm visible.
    const random = new Random(12);
    for (const step of network.built) {
      if (!step.batchNorm) continue;
      const [scale, bias, mean, variance] = step.batchNorm.map((name) =>
        network.graph.initializers.get(name)!,
      );
      const draw = (length: number, f: () => number) => Float32Array.from({ length }, f);
      scale!.data = draw(scale!.data.length, () => 0.5 + random.next());
      bias!.data = draw(bias!.data.length, () => 0.2 * random.normal());
      mean!.data = draw(mean!.data.length, () => 0.2 * random.normal());
      variance!.data = draw(variance!.data.length, () => 0.5 + random.next());
    }
    const images = Float32Array.from({ length: 3 * 32 * 32 }, () => random.normal());
    const logits = await run(serializeModel(network.graph), network.input.name, images, network.input.dims);
    const actual = logits.data as Float32Array;
    const { logits: expected, convolutionsUsed } = referenceForward(network, setting, arch, images);
    expect(convolutionsUsed).toBe(network.built.filter((b) => b.weight).length);
    expect(logits.dims).toEqual([1, 100]);
    const scale = Math.max(...expected.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    const worst = Math.max(...Array.from(expected, (v, k) => Math.abs(actual[k]! - v)));
    expect(worst / scale).toBeLessThan(1e-4);
  }, 120_000);
});
