// The space-neutral parts of NASWOT's in-graph probe, shared by NB201's table probe (naswot.ts) and
// the probe of any space's network (graph-naswot.ts): the image batch, the kernel assembled from
// the Gram matrices of the binary codes, BatchNorm switched to batch statistics, and one
// onnxruntime run of the probe.
import * as ort from 'onnxruntime-node';

import { attr, serializeModel, type Graph } from '../onnx/graph.js';
import type { SpaceGraph } from '../spaces/space.js';

export const NASWOT_KERNEL_OUTPUT = 'naswot_kernel';

/** onnx.TensorProto.DataType codes for Cast. */
export const ONNX_FLOAT = 1;
export const ONNX_BOOL = 9;

/** A minibatch in NCHW float32 layout. */
export interface ImageBatch {
  readonly count: number;
  readonly size: number;
  readonly data: Float32Array;
}

/** Runs a probe graph (its input: the network's) on `images` in a one-off onnxruntime session. */
export async function runProbe(
  network: SpaceGraph,
  images: ImageBatch,
  threads: number,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(serializeModel(network.graph), {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const feeds = { [network.input.name]: new ort.Tensor('float32', images.data, [...network.input.dims]) };
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/**
 * Makes K = 2 G - n_a - n_b + D the graph's one output (NASWOT_KERNEL_OUTPUT), from the Gram
 * matrices `grams` of the binary codes (summed to G), and D, the scalar tensor `units`; `precision`
 * is the element type of both.
 */
export function addKernelOutput(
  graph: Graph,
  batch: number,
  grams: readonly string[],
  units: string,
  precision: 'float32' | 'float64',
): void {
  const agreeing = graph.add('Sum', grams, { name: 'naswot.active_pairs' });
  const values = (length: number) =>
    precision === 'float32' ? new Float32Array(length) : new Float64Array(length);
  // n_a = G[a, a], as a column and as a row: K = 2 G - n_a - n_b + D.
  const identity = values(batch * batch);
  for (let a = 0; a < batch; a++) identity[a * batch + a] = 1;
  const eye = graph.addInitializer('naswot.identity', [batch, batch], identity);
  const diagonal = graph.add('Mul', [agreeing, eye], { name: 'naswot.diagonal' });
  const rowAxis = graph.addInitializer('naswot.row_axis', [1], new BigInt64Array([1n]));
  const active = graph.add('ReduceSum', [diagonal, rowAxis], {
    name: 'naswot.active',
    attributes: { keepdims: attr.int(1) },
  });
  const activeRow = graph.add('Transpose', [active], {
    name: 'naswot.active_row',
    attributes: { perm: attr.ints([1, 0]) },
  });
  const twoValue = values(1);
  twoValue[0] = 2;
  const two = graph.addInitializer('naswot.two', [], twoValue);
  const doubled = graph.add('Mul', [agreeing, two], { name: 'naswot.doubled' });
  const lessRow = graph.add('Sub', [doubled, active], { name: 'naswot.less_a' });
  const lessBoth = graph.add('Sub', [lessRow, activeRow], { name: 'naswot.less_b' });
  graph.addNode('Add', [lessBoth, units], { name: 'naswot.kernel', outputs: [NASWOT_KERNEL_OUTPUT] });
  graph.outputs.splice(0, graph.outputs.length);
  graph.addOutput(NASWOT_KERNEL_OUTPUT, [batch, batch], precision);
}

/** y = (x - mean_batch) / sqrt(var_batch + eps), per channel over N, H, W (gamma 1, beta 0 at init). */
export function replaceWithBatchStatistics(
  graph: Graph,
  nodeName: string,
  input: string,
  output: string,
  epsilonValue: number,
): void {
  const index = graph.nodes.findIndex((node) => node.name === nodeName);
  if (index < 0) throw new Error(`naswot: BatchNormalization node '${nodeName}' not found`);
  graph.nodes.splice(index, 1);
  const axes = { axes: attr.ints([0, 2, 3]), keepdims: attr.int(1) };
  const mean = graph.add('ReduceMean', [input], { name: `${nodeName}.batch_mean`, attributes: axes });
  const centred = graph.add('Sub', [input, mean], { name: `${nodeName}.centred` });
  const squared = graph.add('Mul', [centred, centred], { name: `${nodeName}.squared` });
  const variance = graph.add('ReduceMean', [squared], { name: `${nodeName}.batch_var`, attributes: axes });
  const epsilon = graph.addInitializer(`${nodeName}.epsilon`, [], new Float32Array([epsilonValue]));
  const shifted = graph.add('Add', [variance, epsilon], { name: `${nodeName}.var_eps` });
  const deviation = graph.add('Sqrt', [shifted], { name: `${nodeName}.std` });
  graph.addNode('Div', [centred, deviation], { name: `${nodeName}.normalised`, outputs: [output] });
}
