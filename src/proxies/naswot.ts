// NASWOT (Mellor et al.; FreeREA's variant): the binary codes of every ReLU over a minibatch of a
// freshly initialised network, kernel K = C C^T + (1 - C)(1 - C)^T, score log|det K|.
// The kernel is computed inside the ONNX graph, so only an N x N matrix leaves onnxruntime: at
// each ReLU input x we add S S^T with S = +1 where x > 0 and -1 elsewhere; summed over ReLUs that
// is 2 * (number of agreeing units) - D, hence K = (S S^T + D) / 2 (exact small integers in float32).
// BatchNorm uses batch statistics (a freshly initialised PyTorch network in train mode, which is
// how NASWOT and FreeREA ran); with running statistics at init every BN would be the identity.
// Built on the pruned (deployed) network: dead edges are absent, so unlike FreeREA's eager PyTorch
// network their ReLUs do not add codes.
import * as ort from 'onnxruntime-node';

import { attr, serializeModel, type Graph } from '../onnx/graph.js';
import { BATCH_NORM_EPSILON, buildNetworkGraph, type Nb201Graph } from '../onnx/nb201.js';
import { isConnected, type Cell } from '../space/cell.js';
import type { Dataset } from '../space/datasets.js';
import { logAbsDet } from './logdet.js';

export const NASWOT_KERNEL_OUTPUT = 'naswot_sign_gram';

/** A minibatch in NCHW float32 layout. */
export interface ImageBatch {
  readonly count: number;
  readonly size: number;
  readonly data: Float32Array;
}

export interface NaswotOptions {
  readonly seed: number;
  /** onnxruntime intra-op threads (1 for table workers that already fill the cores). */
  readonly threads?: number;
}

/** log|det K| for one initialisation; -Infinity for a cell with no path from input to output. */
export async function naswotOf(
  cell: Cell,
  dataset: Dataset,
  images: ImageBatch,
  { seed, threads = 1 }: NaswotOptions,
): Promise<number> {
  if (!isConnected(cell)) return Number.NEGATIVE_INFINITY;
  const network = buildNetworkGraph(cell, { dataset, batchSize: images.count, seed, prune: true });
  if (network.input.dims[2] !== images.size) {
    throw new RangeError(
      `naswot: images are ${images.size}px, the ${dataset} network takes ${network.input.dims[2]}px`,
    );
  }
  const units = addNaswotKernel(network);
  const session = await ort.InferenceSession.create(serializeModel(network.graph), {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const feeds = { [network.input.name]: new ort.Tensor('float32', images.data, [...network.input.dims]) };
    const result = await session.run(feeds);
    const gram = result[NASWOT_KERNEL_OUTPUT]!.data as Float32Array;
    const n = images.count;
    const kernel = new Float64Array(n * n);
    for (let k = 0; k < kernel.length; k++) kernel[k] = (gram[k]! + units) / 2;
    return logAbsDet(kernel, n);
  } finally {
    await session.release();
  }
}

/**
 * Turns the network into a NASWOT probe in place: batch-statistics BatchNorm, and one output,
 * the sum over ReLUs of S S^T. Returns D, the number of ReLU units per image.
 */
export function addNaswotKernel(network: Nb201Graph): number {
  const { graph } = network;
  for (const bn of network.batchNorms) {
    replaceWithBatchStatistics(graph, bn.node, bn.input, bn.output);
    // Running statistics and the identity affine parameters are no longer read.
    for (const unused of [bn.scale, bn.bias, bn.mean, bn.variance]) graph.initializers.delete(unused);
  }
  const batch = network.input.dims[0]!;
  const plusOne = graph.addInitializer('naswot.plus_one', [], new Float32Array([1]));
  const minusOne = graph.addInitializer('naswot.minus_one', [], new Float32Array([-1]));
  const zero = graph.addInitializer('naswot.zero', [], new Float32Array([0]));
  const rows = graph.addInitializer('naswot.rows', [2], new BigInt64Array([BigInt(batch), -1n]));
  const grams: string[] = [];
  let units = 0;
  // Edges leaving the same node each have their own ReLU module but read the same tensor, so their
  // codes are identical: one Gram matrix per distinct tensor, listed once per ReLU in the sum
  // (exact: every entry is a small integer).
  const gramOf = new Map<string, string>();
  for (const tap of network.reluInputs) {
    units += tap.dims.slice(1).reduce((a, b) => a * b, 1);
    let gram = gramOf.get(tap.tensor);
    if (gram === undefined) {
      const active = graph.add('Greater', [tap.tensor, zero], { name: `naswot.${tap.location}.active` });
      const signs = graph.add('Where', [active, plusOne, minusOne], { name: `naswot.${tap.location}.signs` });
      const flat = graph.add('Reshape', [signs, rows], { name: `naswot.${tap.location}.flat` });
      const transposed = graph.add('Transpose', [flat], {
        name: `naswot.${tap.location}.transpose`,
        attributes: { perm: attr.ints([1, 0]) },
      });
      gram = graph.add('MatMul', [flat, transposed], { name: `naswot.${tap.location}.gram` });
      gramOf.set(tap.tensor, gram);
    }
    grams.push(gram);
  }
  if (grams.length === 0) throw new Error('naswot: the network has no ReLU');
  graph.addNode('Sum', grams, { name: 'naswot.kernel', outputs: [NASWOT_KERNEL_OUTPUT] });
  graph.outputs.splice(0, graph.outputs.length);
  graph.addOutput(NASWOT_KERNEL_OUTPUT, [batch, batch]);
  return units;
}

/** y = (x - mean_batch) / sqrt(var_batch + eps), per channel over N, H, W (gamma 1, beta 0 at init). */
function replaceWithBatchStatistics(graph: Graph, nodeName: string, input: string, output: string): void {
  const index = graph.nodes.findIndex((node) => node.name === nodeName);
  if (index < 0) throw new Error(`naswot: BatchNormalization node '${nodeName}' not found`);
  graph.nodes.splice(index, 1);
  const axes = { axes: attr.ints([0, 2, 3]), keepdims: attr.int(1) };
  const mean = graph.add('ReduceMean', [input], { name: `${nodeName}.batch_mean`, attributes: axes });
  const centred = graph.add('Sub', [input, mean], { name: `${nodeName}.centred` });
  const squared = graph.add('Mul', [centred, centred], { name: `${nodeName}.squared` });
  const variance = graph.add('ReduceMean', [squared], { name: `${nodeName}.batch_var`, attributes: axes });
  const epsilon = graph.addInitializer(`${nodeName}.epsilon`, [], new Float32Array([BATCH_NORM_EPSILON]));
  const shifted = graph.add('Add', [variance, epsilon], { name: `${nodeName}.var_eps` });
  const deviation = graph.add('Sqrt', [shifted], { name: `${nodeName}.std` });
  graph.addNode('Div', [centred, deviation], { name: `${nodeName}.normalised`, outputs: [output] });
}
