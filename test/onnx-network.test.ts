// The NB201 ONNX network runs in onnxruntime-node: right shapes, finite values, deterministic
// bytes, dead code that changes nothing, and the metadata other modules rely on.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { serializeModel } from '../src/onnx/graph.js';
import {
  buildNetwork,
  buildNetworkGraph,
  type Nb201Graph,
  type Nb201Network,
} from '../src/spaces/nb201/network.js';
import { allCells, liveEdges, OP_CONV1X1, OP_CONV3X3, OP_NONE, parseCell } from '../src/spaces/nb201/cell.js';
import type { Cell } from '../src/spaces/nb201/cell.js';
import { DATASETS } from '../src/spaces/nb201/datasets.js';
import { nb201Space } from '../src/spaces/nb201/space.js';
import { Random } from '../src/util/random.js';

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const INDEX1 = parseCell(
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
);
const DEAD_EDGES = parseCell(
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|',
);
const DISCONNECTED = parseCell('|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|');

function randomImages(dims: readonly number[], seed: number): Float32Array {
  const random = new Random(seed);
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = random.normal();
  return values;
}

async function run(
  bytes: Uint8Array,
  network: Pick<Nb201Graph, 'input' | 'output'>,
  images: Float32Array,
  outputs: readonly string[] = [network.output.name],
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const feeds = { [network.input.name]: new ort.Tensor('float32', images, [...network.input.dims]) };
    return await session.run(feeds, [...outputs]);
  } finally {
    await session.release();
  }
}

async function logits(network: Nb201Network, images: Float32Array): Promise<ort.Tensor> {
  return (await run(network.bytes, network, images))[network.output.name]!;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function maxAbs(a: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]!));
  return worst;
}

describe('NB201 network in onnxruntime-node', () => {
  it('runs a 200-cell seeded sample (datasets, batch sizes, pruned and full) with finite [batch, classes] logits', async () => {
    const random = new Random(201);
    const cells = random.sample(allCells(), 200);
    for (const [i, cell] of cells.entries()) {
      const dataset = DATASETS[i % 3]!;
      const prune = i % 2 === 0;
      const batchSize = i % 4 < 2 ? 1 : 2;
      const network = buildNetwork(cell, { dataset, prune, batchSize, seed: i });
      const output = await logits(network, randomImages(network.input.dims, i));
      expect(output.dims).toEqual([batchSize, network.output.dims[1]]);
      expect(network.output.dims).toEqual([
        batchSize,
        { cifar10: 10, cifar100: 100, 'ImageNet16-120': 120 }[dataset],
      ]);
      const values = output.data as Float32Array;
      expect(values.every(Number.isFinite), `non-finite logits for cell ${i}`).toBe(true);
    }
  });

  it('gives identical bytes for the same seed and different weights for another seed', () => {
    const a = buildNetwork(INDEX1, { dataset: 'cifar10', seed: 7 });
    const b = buildNetwork(INDEX1, { dataset: 'cifar10', seed: 7 });
    const c = buildNetwork(INDEX1, { dataset: 'cifar10', seed: 8 });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(false);
    expect(a.bytes.length).toBe(c.bytes.length);
  });

  it('draws the same weights for the same conv in pruned and full graphs', () => {
    const pruned = buildNetworkGraph(DEAD_EDGES, { dataset: 'cifar100', prune: true });
    const full = buildNetworkGraph(DEAD_EDGES, { dataset: 'cifar100', prune: false });
    expect(full.weights.length).toBeGreaterThan(pruned.weights.length);
    for (const weight of pruned.weights) {
      const inFull = full.graph.initializers.get(weight.name);
      expect(inFull, weight.name).toBeDefined();
      expect(inFull!.data).toEqual(pruned.graph.initializers.get(weight.name)!.data);
    }
  });

  it('builds the full graph through the space when a request asks for the eager network', () => {
    const request = { dataset: 'cifar100', batchSize: 1, seed: 0 };
    const deployed = nb201Space.networkGraph(DEAD_EDGES, request);
    const eager = nb201Space.networkGraph(DEAD_EDGES, { ...request, eager: true });
    const full = buildNetworkGraph(DEAD_EDGES, { dataset: 'cifar100', prune: false });
    expect(eager.graph.initializers.size).toBe(full.graph.initializers.size);
    expect(deployed.graph.initializers.size).toBeLessThan(eager.graph.initializers.size);
    expect(serializeModel(eager.graph)).toEqual(serializeModel(full.graph));
    expect(nb201Space.network(DEAD_EDGES, { ...request, eager: true }).bytes).toEqual(
      buildNetwork(DEAD_EDGES, { dataset: 'cifar100', prune: false }).bytes,
    );
  });

  it('gives the same logits pruned and full (dead code changes nothing)', async () => {
    const random = new Random(5);
    const withDeadEdges = allCells().filter((cell) =>
      liveEdges(cell).some((live, e) => !live && cell[e] !== OP_NONE),
    );
    const cells = [DEAD_EDGES, INDEX1, ...random.sample(withDeadEdges, 10)];
    for (const [i, cell] of cells.entries()) {
      const dataset = DATASETS[i % 3]!;
      const images = randomImages(
        [2, 3, 32, 32].map((d, axis) => (axis >= 2 && dataset === 'ImageNet16-120' ? 16 : d)),
        i,
      );
      const pruned = await logits(buildNetwork(cell, { dataset, batchSize: 2, prune: true }), images);
      const full = await logits(buildNetwork(cell, { dataset, batchSize: 2, prune: false }), images);
      const a = pruned.data as Float32Array;
      const b = full.data as Float32Array;
      expect(maxAbsDifference(a, b)).toBeLessThanOrEqual(1e-4 * maxAbs(a) + 1e-6);
      expect(maxAbs(a)).toBeGreaterThan(0);
    }
  });

  it('outputs exact zeros for a disconnected cell, pruned and full', async () => {
    for (const prune of [true, false]) {
      const network = buildNetwork(DISCONNECTED, { dataset: 'cifar10', prune, batchSize: 2 });
      const values = (await logits(network, randomImages(network.input.dims, 3))).data as Float32Array;
      expect(values.every(Number.isFinite)).toBe(true);
      // Every cell outputs zeros, BN/ReLU/pool keep them zero and the classifier bias is zero.
      expect(maxAbs(values)).toBe(0);
    }
  });

  it('is positively homogeneous: doubling the input doubles the logits', async () => {
    // Holds for ReLU, conv without bias, inference BN at init, average pools and a zero-bias
    // classifier; a stray bias, offset or wrong op breaks it.
    const network = buildNetwork(INDEX1, { dataset: 'ImageNet16-120' });
    const images = randomImages(network.input.dims, 11);
    const once = (await logits(network, images)).data as Float32Array;
    const twice = (
      await logits(
        network,
        images.map((v) => 2 * v),
      )
    ).data as Float32Array;
    expect(
      maxAbsDifference(
        twice,
        once.map((v) => 2 * v),
      ),
    ).toBeLessThanOrEqual(1e-4 * maxAbs(twice));
  });

  it('lists every ReLU input, and they can be read back as extra outputs', async () => {
    const countConvs = (cell: Cell, live: readonly boolean[]) =>
      cell.filter((op, e) => live[e] && (op === OP_CONV1X1 || op === OP_CONV3X3)).length;
    const built = buildNetworkGraph(DEAD_EDGES, { dataset: 'cifar10', batchSize: 2 });
    // 2 per reduction block, 1 in the head, 1 per live conv edge in each of the 15 cells.
    expect(built.reluInputs).toHaveLength(5 + 15 * countConvs(DEAD_EDGES, liveEdges(DEAD_EDGES)));
    const full = buildNetworkGraph(DEAD_EDGES, { dataset: 'cifar10', prune: false });
    expect(full.reluInputs).toHaveLength(
      5 + 15 * countConvs(DEAD_EDGES, [true, true, true, true, true, true]),
    );

    for (const tap of built.reluInputs) built.graph.addOutput(tap.tensor, tap.dims);
    const bytes = serializeModel(built.graph);
    const names = built.reluInputs.map((tap) => tap.tensor);
    const images = randomImages(built.input.dims, 4);
    const results = await run(bytes, built, images, [...names, built.output.name]);
    for (const tap of built.reluInputs) {
      const tensor = results[tap.tensor]!;
      expect(tensor.dims).toEqual(tap.dims);
      const values = tensor.data as Float32Array;
      expect(values.some((v) => v > 0) && values.some((v) => v < 0), tap.location).toBe(true);
    }
    // Extra outputs do not change the logits.
    const plain = await logits(buildNetwork(DEAD_EDGES, { dataset: 'cifar10', batchSize: 2 }), images);
    expect(Array.from(results[built.output.name]!.data as Float32Array)).toEqual(
      Array.from(plain.data as Float32Array),
    );
  });

  it('records weights with their fans and BatchNorms with their parameters', () => {
    const built = buildNetworkGraph(INDEX1, { dataset: 'cifar100' });
    const stem = built.weights[0]!;
    expect(stem).toMatchObject({ kind: 'conv', dims: [16, 3, 3, 3], fanIn: 27, fanOut: 144 });
    const classifier = built.weights.at(-1)!;
    expect(classifier).toMatchObject({ kind: 'linear', dims: [100, 64], fanIn: 64, fanOut: 100 });
    // Kaiming normal, fan_in: sample std close to sqrt(2 / fan_in) on a large tensor.
    const big = built.weights.find((w) => w.dims[0] === 64 && w.dims[2] === 3)!;
    const data = built.graph.initializers.get(big.name)!.data as Float32Array;
    const std = Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
    expect(std / Math.sqrt(2 / big.fanIn)).toBeCloseTo(1, 1);
    for (const bn of built.batchNorms) {
      expect(built.graph.initializers.get(bn.variance)!.data).toEqual(new Float32Array(bn.channels).fill(1));
    }
    // stem, 2 x (2 per reduction block), head, and one per conv edge in each of the 15 cells.
    expect(built.batchNorms).toHaveLength(1 + 4 + 1 + 15 * 3);
    expect(built.cellOutputs).toHaveLength(15);
  });
});

describe('editing a built network', () => {
  it('bypasses every BatchNorm (as synflow does) and still runs', async () => {
    const built = buildNetworkGraph(INDEX1, { dataset: 'cifar10' });
    const images = randomImages(built.input.dims, 9);
    const before = (await run(serializeModel(built.graph), built, images))[built.output.name]!
      .data as Float32Array;
    for (const bn of built.batchNorms) built.graph.bypassNode(bn.node);
    expect(built.graph.nodes.some((node) => node.opType === 'BatchNormalization')).toBe(false);
    expect(built.graph.initializers.has(built.batchNorms[0]!.variance)).toBe(false);
    const after = (await run(serializeModel(built.graph), built, images))[built.output.name]!
      .data as Float32Array;
    // Each BN at init only divides by sqrt(1 + 1e-5), so removing them changes the logits slightly.
    expect(maxAbsDifference(after, before)).toBeGreaterThan(0);
    expect(maxAbsDifference(after, before)).toBeLessThanOrEqual(1e-3 * maxAbs(before));
  });
});
