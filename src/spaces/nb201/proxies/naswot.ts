// NASWOT (Mellor et al.; FreeREA's variant): the binary codes of every ReLU over a minibatch of a
// freshly initialised network, kernel K = C C^T + (1 - C)(1 - C)^T, score log|det K|.
// The kernel is computed inside the ONNX graph, so only an N x N matrix leaves onnxruntime. The
// codes are read off each ReLU's output r: C = float(bool(r)) = [x > 0], 0 or 1 (two casts, the
// cheapest exact form we found in onnxruntime: about a quarter less run time than the first
// version's S = Where(x > 0, 1, -1) and S S^T, a little less than Ceil(Min(r, 1))). Since C is
// binary, K = 2 G - n_a - n_b + D with G = sum over ReLUs of C C^T, n_a = G[a, a] (the active units
// of input a) and D the ReLU units per input: exact small integers in float32.
// BatchNorm uses batch statistics (a freshly initialised PyTorch network in train mode, which is
// how NASWOT and FreeREA ran); with running statistics at init every BN would be the identity.
// Built on the pruned (deployed) network: dead edges are absent, so unlike FreeREA's eager PyTorch
// network their ReLUs do not add codes.

import { attr } from '../../../onnx/graph.js';
import { BATCH_NORM_EPSILON, buildNetworkGraph, type Nb201Graph } from '../network.js';
import { isConnected, type Cell } from '../cell.js';
import type { Dataset } from '../datasets.js';
import { logAbsDet } from '../../../proxies/logdet.js';
import {
  NASWOT_KERNEL_OUTPUT,
  ONNX_BOOL,
  ONNX_FLOAT,
  addKernelOutput,
  replaceWithBatchStatistics,
  runProbe,
  type ImageBatch,
} from '../../../proxies/naswot-kernel.js';

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
  return naswotOfNetwork(network, images, threads);
}

/**
 * log|det K| of a connected cell's network built with batch size `images.count`. Turns the network
 * into the NASWOT probe (see addNaswotKernel): read anything else from it first.
 */
export async function naswotOfNetwork(network: Nb201Graph, images: ImageBatch, threads = 1): Promise<number> {
  const [batch, , side] = network.input.dims;
  if (batch !== images.count || side !== images.size) {
    throw new RangeError(
      `naswot: ${images.count} images of ${images.size}px, the network takes ${batch} of ${side}px`,
    );
  }
  addNaswotKernel(network);
  const result = await runProbe(network, images, threads);
  const kernel = Float64Array.from(result[NASWOT_KERNEL_OUTPUT]!.data as Float32Array);
  return logAbsDet(kernel, images.count);
}

/**
 * Turns the network into a NASWOT probe in place: batch-statistics BatchNorm, and one output, the
 * kernel K (how many ReLU units each pair of inputs agrees on). Returns D, the ReLU units per input.
 */
export function addNaswotKernel(network: Nb201Graph): number {
  const { graph } = network;
  for (const bn of network.batchNorms) {
    replaceWithBatchStatistics(graph, bn.node, bn.input, bn.output, BATCH_NORM_EPSILON);
    // Running statistics and the identity affine parameters are no longer read.
    for (const unused of [bn.scale, bn.bias, bn.mean, bn.variance]) graph.initializers.delete(unused);
  }
  const batch = network.input.dims[0]!;
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
      // Relu(x) is x where x > 0, else 0: it is nonzero, true as a bool, exactly where x > 0.
      const active = graph.add('Cast', [tap.output], {
        name: `naswot.${tap.location}.active`,
        attributes: { to: attr.int(ONNX_BOOL) },
      });
      const codes = graph.add('Cast', [active], {
        name: `naswot.${tap.location}.codes`,
        attributes: { to: attr.int(ONNX_FLOAT) },
      });
      const flat = graph.add('Reshape', [codes, rows], { name: `naswot.${tap.location}.flat` });
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
  if (2 * units >= 2 ** 24) throw new RangeError(`naswot: ${units} ReLU units overflow float32 integers`);
  const unitCount = graph.addInitializer('naswot.units', [], new Float32Array([units]));
  addKernelOutput(graph, batch, grams, unitCount, 'float32');
  return units;
}
