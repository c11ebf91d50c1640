// NASWOT on any space's network (SpaceGraph), found from the graph itself: every BatchNormalization
// node switches to batch statistics and every Relu node's binary codes go into the kernel. The
// NB201 table keeps its own probe (naswot.ts, which knows its cells' ReLU shapes); this one needs
// no shapes: each ReLU's unit count is read in the graph (Shape), so it serves any layered network.
// The kernel K = 2 G - n_a - n_b + D (G = sum of C C^T over ReLUs, n_a = G[a, a]) is assembled in
// float64: each ReLU's Gram matrix is an exact float32 integer up to 2^24 units per image, but their
// sum over a whole MobileNet-style network can pass 2^24 (an FBNet network at 224 px has millions).
import { attr } from '../onnx/graph.js';
import type { SpaceGraph } from '../spaces/space.js';
import { logAbsDet } from './logdet.js';
import {
  NASWOT_KERNEL_OUTPUT,
  ONNX_BOOL,
  ONNX_FLOAT,
  addKernelOutput,
  replaceWithBatchStatistics,
  runProbe,
  type ImageBatch,
} from './naswot-kernel.js';

const UNITS_OUTPUT = 'naswot_units';
/** onnx.TensorProto.DataType code of float64 for Cast. */
const ONNX_DOUBLE = 11;
/** ONNX's default BatchNormalization epsilon, when the node does not set one. */
const ONNX_DEFAULT_EPSILON = 1e-5;

export interface GraphNaswot {
  /** log|det K|; -Infinity when K is singular. */
  readonly naswot: number;
  /** D: ReLU units per input (the kernel's diagonal). */
  readonly reluUnits: number;
}

/** Whether every value of the initializer `name` equals `value` (BatchNorm at initialisation). */
function filledWith(network: SpaceGraph, name: string | undefined, value: number): boolean {
  const found = name === undefined ? undefined : network.graph.initializers.get(name);
  return found !== undefined && Array.from(found.data, Number).every((v) => v === value);
}

/**
 * Turns the network into a NASWOT probe in place (batch-statistics BatchNorm; outputs: the kernel
 * and D). Throws when a BatchNorm is not at its initial scale 1 and shift 0: the proxy scores a
 * freshly initialised network.
 */
export function addGraphNaswotKernel(network: SpaceGraph): void {
  const { graph } = network;
  for (const node of graph.nodes.filter((n) => n.opType === 'BatchNormalization')) {
    const [input, scale, bias, mean, variance] = node.inputs;
    if (!filledWith(network, scale, 1) || !filledWith(network, bias, 0)) {
      throw new Error(`naswot: BatchNormalization '${node.name}' is not at its initial scale 1 and shift 0`);
    }
    const epsilon = node.attributes.epsilon;
    replaceWithBatchStatistics(
      graph,
      node.name,
      input!,
      node.outputs[0]!,
      epsilon?.kind === 'float' ? epsilon.value : ONNX_DEFAULT_EPSILON,
    );
    for (const unused of [scale, bias, mean, variance]) {
      if (unused && graph.consumersOf(unused).length === 0) graph.initializers.delete(unused);
    }
  }
  const batch = network.input.dims[0]!;
  const rows = graph.addInitializer('naswot.rows', [2], new BigInt64Array([BigInt(batch), -1n]));
  const columnStart = graph.addInitializer('naswot.column_start', [1], new BigInt64Array([1n]));
  const columnEnd = graph.addInitializer('naswot.column_end', [1], new BigInt64Array([2n]));
  const grams: string[] = [];
  const units: string[] = [];
  // ReLUs reading the same tensor give the same codes: one Gram matrix each, listed per ReLU.
  const byInput = new Map<string, { gram: string; units: string }>();
  for (const relu of graph.nodes.filter((n) => n.opType === 'Relu')) {
    const input = relu.inputs[0]!;
    let tap = byInput.get(input);
    if (!tap) {
      const label = `naswot.${relu.name}`;
      // Relu(x) is nonzero, true as a bool, exactly where x > 0.
      const active = graph.add('Cast', [relu.outputs[0]!], {
        name: `${label}.active`,
        attributes: { to: attr.int(ONNX_BOOL) },
      });
      const codes = graph.add('Cast', [active], {
        name: `${label}.codes`,
        attributes: { to: attr.int(ONNX_FLOAT) },
      });
      const flat = graph.add('Reshape', [codes, rows], { name: `${label}.flat` });
      const transposed = graph.add('Transpose', [flat], {
        name: `${label}.transpose`,
        attributes: { perm: attr.ints([1, 0]) },
      });
      const gram = graph.add('MatMul', [flat, transposed], { name: `${label}.gram` });
      const shape = graph.add('Shape', [flat], { name: `${label}.shape` });
      const width = graph.add('Slice', [shape, columnStart, columnEnd], { name: `${label}.width` });
      tap = {
        gram: graph.add('Cast', [gram], {
          name: `${label}.gram64`,
          attributes: { to: attr.int(ONNX_DOUBLE) },
        }),
        units: graph.add('Cast', [width], {
          name: `${label}.units`,
          attributes: { to: attr.int(ONNX_DOUBLE) },
        }),
      };
      byInput.set(input, tap);
    }
    grams.push(tap.gram);
    units.push(tap.units);
  }
  if (grams.length === 0) throw new Error('naswot: the network has no ReLU');
  const unitCount = graph.add('Sum', units, { name: 'naswot.unit_count', outputs: [UNITS_OUTPUT] });
  addKernelOutput(graph, batch, grams, unitCount, 'float64');
  graph.addOutput(UNITS_OUTPUT, [1], 'float64');
}

/**
 * NASWOT of a network built at batch size `images.count` with its BatchNorms unfolded
 * (`unfoldedBatchNorm`). Turns the graph into the probe: read anything else from it first.
 */
export async function naswotOfGraph(
  network: SpaceGraph,
  images: ImageBatch,
  threads = 1,
): Promise<GraphNaswot> {
  const [batch, channels, side] = network.input.dims;
  if (batch !== images.count || side !== images.size || channels !== 3) {
    throw new RangeError(
      `naswot: ${images.count} images of ${images.size}px, the network takes ${batch} of ${side}px (${channels} channels)`,
    );
  }
  addGraphNaswotKernel(network);
  const result = await runProbe(network, images, threads);
  const kernel = result[NASWOT_KERNEL_OUTPUT]!.data as Float64Array;
  const reluUnits = (result[UNITS_OUTPUT]!.data as Float64Array)[0]!;
  // K[a, a] = D exactly: a check that no Gram matrix lost integers in float32.
  for (let a = 0; a < batch; a++) {
    if (kernel[a * batch + a] !== reluUnits) {
      throw new RangeError(`naswot: kernel diagonal ${kernel[a * batch + a]} differs from D = ${reluUnits}`);
    }
  }
  return { naswot: logAbsDet(Float64Array.from(kernel), batch), reluUnits };
}
