// synflow and logsynflow (FreeREA's definitions) of the deployed NB201 network, in float64.
// BatchNorm is bypassed and every weight replaced by its absolute value; with an all-ones input
// every activation is then positive, so each ReLU is the identity and the network is linear. We
// interpret the very ONNX graph that `buildNetworkGraph` emits (same weights as every other
// proxy and as the measured network), one forward and one backward pass of R = sum(logits), and
//   synflow    = sum over conv/linear weights of |theta * dR/dtheta|
//   logsynflow = sum over conv/linear weights of |theta * log(dR/dtheta + 1)|.
// float64 because the values reach 1e61, beyond float32, and no installed engine runs float64
// convolutions. The pruned graph holds only live edges; a dead edge has a zero input or a zero
// output gradient, so it would contribute exactly 0 to both sums anyway.
import { topologicalOrder, type AttributeValue, type GraphNode } from '../../../onnx/graph.js';
import { buildNetworkGraph, type Nb201Graph } from '../network.js';
import { isConnected, type Cell } from '../cell.js';
import type { Dataset } from '../datasets.js';
import {
  addInto,
  avgPool2x2,
  avgPool2x2Gradient,
  avgPool3x3,
  avgPool3x3Gradient,
  conv2d,
  conv2dInputGradient,
  conv2dWeightGradient,
  filledMap,
  zeroMap,
  type FeatureMap,
} from '../../../proxies/conv64.js';

export interface SynflowValues {
  readonly synflow: number;
  readonly logsynflow: number;
}

/** Both sums for the network of `cell` on `dataset`, initialised with `seed`. */
export function synflowOf(cell: Cell, dataset: Dataset, seed: number): SynflowValues {
  // A disconnected cell zeroes the signal: every conv/linear gradient is 0, so both sums are 0.
  if (!isConnected(cell)) return { synflow: 0, logsynflow: 0 };
  return synflowOfGraph(buildNetworkGraph(cell, { dataset, batchSize: 1, seed, prune: true }));
}

/** Both sums for an already built graph (of any batch size: only one image's shape is read). */
export function synflowOfGraph(network: Nb201Graph): SynflowValues {
  const { graph } = network;
  const order = topologicalOrder(graph);
  const absWeight = (name: string): Float64Array => {
    const initializer = graph.initializers.get(name);
    if (!initializer) throw new Error(`synflow: initializer '${name}' not found`);
    const source = initializer.data as ArrayLike<number>;
    // A plain loop: Float64Array.from with a mapping function is several times slower in V8.
    const weights = new Float64Array(source.length);
    for (let k = 0; k < weights.length; k++) weights[k] = Math.abs(source[k]!);
    return weights;
  };
  const [, channels, height, width] = network.input.dims;
  const values = new Map<string, FeatureMap>([
    [network.input.name, filledMap(channels!, height!, width!, 1)],
  ]);
  const get = (name: string): FeatureMap => {
    const value = values.get(name);
    if (!value) throw new Error(`synflow: tensor '${name}' was not computed`);
    return value;
  };
  const weightsOf = new Map<string, Float64Array>();

  for (const node of order) {
    const out = node.outputs[0]!;
    const x = get(node.inputs[0]!);
    switch (node.opType) {
      case 'Conv': {
        const weights = absWeight(node.inputs[1]!);
        weightsOf.set(node.name, weights);
        const [outChannels, , kernel] = graph.initializers.get(node.inputs[1]!)!.dims;
        values.set(out, conv2d(x, weights, outChannels!, kernel!, intsOf(node, 'strides')[0]!));
        break;
      }
      case 'BatchNormalization': // bypassed
      case 'Relu': // identity on positive activations
      case 'Flatten':
        values.set(out, x);
        break;
      case 'AveragePool':
        values.set(out, isShortcutPool(node) ? avgPool2x2(x) : avgPool3x3(x));
        break;
      case 'Sum':
      case 'Add': {
        const sum = zeroMap(x.channels, x.height, x.width);
        for (const input of node.inputs) addInto(sum, get(input));
        values.set(out, sum);
        break;
      }
      case 'GlobalAveragePool': {
        const area = x.height * x.width;
        const pooled = zeroMap(x.channels, 1, 1);
        for (let c = 0; c < x.channels; c++) {
          let sum = 0;
          for (let p = 0; p < area; p++) sum += x.data[c * area + p]!;
          pooled.data[c] = sum / area;
        }
        values.set(out, pooled);
        break;
      }
      case 'Gemm': {
        // The bias adds a constant to R and changes no weight gradient, so it is left out.
        const weights = absWeight(node.inputs[1]!);
        weightsOf.set(node.name, weights);
        const [classes] = graph.initializers.get(node.inputs[1]!)!.dims;
        values.set(out, zeroMap(classes!, 1, 1));
        break;
      }
      default:
        throw new Error(`synflow: unsupported op ${node.opType} (${node.name})`);
    }
  }

  let synflow = 0;
  let logsynflow = 0;
  const account = (weights: Float64Array, gradient: Float64Array): void => {
    for (let k = 0; k < weights.length; k++) {
      const g = gradient[k]!;
      synflow += weights[k]! * g;
      logsynflow += weights[k]! * Math.log1p(g);
    }
  };
  // A gradient handed to `accumulate` is owned by it from then on (it may be stored and added into):
  // an output's gradient is complete and never read again once its producer is reached, so
  // pass-through ops hand it on without a copy.
  const gradients = new Map<string, FeatureMap>();
  const accumulate = (name: string, gradient: FeatureMap): void => {
    const existing = gradients.get(name);
    if (existing) addInto(existing, gradient);
    else gradients.set(name, gradient);
  };

  for (let n = order.length - 1; n >= 0; n--) {
    const node = order[n]!;
    const input = node.inputs[0]!;
    const x = get(input);
    if (node.opType === 'Gemm') {
      // R = sum_k (W x)_k: dR/dW[k, c] = x_c, dR/dx_c = sum_k W[k, c].
      const weights = weightsOf.get(node.name)!;
      const inFeatures = x.channels;
      const classes = weights.length / inFeatures;
      const weightGradient = new Float64Array(weights.length);
      const inputGradient = zeroMap(inFeatures, 1, 1);
      for (let k = 0; k < classes; k++) {
        for (let c = 0; c < inFeatures; c++) {
          weightGradient[k * inFeatures + c] = x.data[c]!;
          inputGradient.data[c]! += weights[k * inFeatures + c]!;
        }
      }
      account(weights, weightGradient);
      accumulate(input, inputGradient);
      continue;
    }
    const g = gradients.get(node.outputs[0]!);
    if (!g) continue; // nothing downstream depends on this tensor
    switch (node.opType) {
      case 'Conv': {
        const weights = weightsOf.get(node.name)!;
        const kernel = graph.initializers.get(node.inputs[1]!)!.dims[2]!;
        const stride = intsOf(node, 'strides')[0]!;
        account(weights, conv2dWeightGradient(x, g, kernel, stride));
        if (values.has(input) && input !== network.input.name) {
          accumulate(input, conv2dInputGradient(g, weights, x.channels, x.height, x.width, kernel, stride));
        }
        break;
      }
      case 'BatchNormalization':
      case 'Relu':
      case 'Flatten':
        accumulate(input, g);
        break;
      case 'AveragePool':
        accumulate(
          input,
          isShortcutPool(node) ? avgPool2x2Gradient(g, x.height, x.width) : avgPool3x3Gradient(g),
        );
        break;
      case 'Sum':
      case 'Add':
        node.inputs.forEach((term, k) => accumulate(term, k === 0 ? g : copyOf(g)));
        break;
      case 'GlobalAveragePool': {
        const area = x.height * x.width;
        const spread = zeroMap(x.channels, x.height, x.width);
        for (let c = 0; c < x.channels; c++) spread.data.fill(g.data[c]! / area, c * area, (c + 1) * area);
        accumulate(input, spread);
        break;
      }
      default:
        throw new Error(`synflow: unsupported op ${node.opType} (${node.name})`);
    }
  }
  return { synflow, logsynflow };
}

function copyOf(map: FeatureMap): FeatureMap {
  return { ...map, data: Float64Array.from(map.data) };
}

function intsOf(node: GraphNode, name: string): readonly number[] {
  const attribute: AttributeValue | undefined = node.attributes[name];
  return attribute?.kind === 'ints' ? attribute.value : [1, 1];
}

/** The reduction shortcut pools 2x2 with stride 2; every other AveragePool is NB201's 3x3 op. */
function isShortcutPool(node: GraphNode): boolean {
  return intsOf(node, 'kernel_shape')[0] === 2;
}
