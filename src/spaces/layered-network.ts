// The ONNX network of a layered space (FBNet, NAS-Bench-Macro), built from the architecture's
// operator list (operators.ts): the very list the cost counts and the synthetic devices read, so
// the network that is timed is the network that is counted. Stem and head are operators too; a
// global average pool and a linear classifier close the network.
import { attr, Graph, serializeModel } from '../onnx/graph.js';
import { kaimingUniform } from '../onnx/init.js';
import { Random } from '../util/random.js';
import type { Operator } from './operators.js';
import type { SpaceNetwork } from './space.js';

/** BatchNormalization's epsilon (PyTorch's default, as in both definitions). */
export const LAYERED_BATCH_NORM_EPSILON = 1e-5;

export interface LayeredNetworkSpec {
  /** Graph name and the start of the model's doc string. */
  readonly name: string;
  readonly description: string;
  readonly inputSize: number;
  readonly classes: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Every operator in execution order: stem, searchable layers, head. */
  readonly operators: readonly Operator[];
  /**
   * Fold each BatchNorm (at initialization: scale 1, shift 0, mean 0, variance 1) into its
   * convolution's weights and a zero bias, as an inference runtime does anyway: the session runs
   * the same fused graph, but ORT no longer spends session creation fusing it (measured on FBNet
   * CIFAR-100 networks: 56 -> 35 ms of CPU per session). Default false, which keeps the
   * BatchNorm nodes (the reference test sets their statistics).
   */
  readonly foldBatchNorm?: boolean;
}

/** Where one operator's tensors and parameters sit in the graph (tests read weights through this). */
export interface BuiltOperator {
  readonly operator: Operator;
  /** `layer3.op2.depthwise`, `stem.op0.conv`, ... */
  readonly label: string;
  /** Convolution weight initializer, [out, in / groups, k, k]. */
  readonly weight?: string;
  /** BatchNorm initializers (scale, bias, mean, variance); absent where folded. */
  readonly batchNorm?: readonly [string, string, string, string];
  /** The convolution's bias, where a BatchNorm was folded into it. */
  readonly bias?: string;
  readonly output: string;
}

export interface LayeredGraph {
  readonly graph: Graph;
  readonly input: { readonly name: string; readonly dims: readonly number[] };
  readonly output: { readonly name: string; readonly dims: readonly number[] };
  readonly built: readonly BuiltOperator[];
  /** The classifier's weight [classes, features] and bias [classes]. */
  readonly classifier: { readonly weight: string; readonly bias: string };
}

/** Builds the network as an editable graph. */
export function buildLayeredGraph(spec: LayeredNetworkSpec): LayeredGraph {
  const { batchSize, inputSize, classes } = spec;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const graph = new Graph(spec.name);
  const random = new Random(spec.seed);
  const inputDims = [batchSize, 3, inputSize, inputSize];
  let x = graph.addInput('images', inputDims);
  const input = { name: x, dims: inputDims };
  const built: BuiltOperator[] = [];
  // The tensor entering the current layer: what a residual add adds back.
  let layerInput = x;
  let currentLayer = Number.NaN;
  spec.operators.forEach((op, index) => {
    if (op.layer !== currentLayer || index === 0) {
      layerInput = x;
      currentLayer = op.layer;
    }
    const where =
      op.layer < 0 ? (built.some((b) => b.operator.layer >= 0) ? 'head' : 'stem') : `layer${op.layer + 1}`;
    const label = `${where}.op${index}.${op.kind}`;
    const step = emitOperator(
      graph,
      random,
      op,
      x,
      layerInput,
      label,
      batchSize,
      spec.foldBatchNorm ?? false,
    );
    built.push(step);
    x = step.output;
  });
  const features = spec.operators.at(-1)?.outChannels ?? 3;
  x = graph.add('GlobalAveragePool', [x], { name: 'head.pool' });
  x = graph.add('Flatten', [x], { name: 'head.flatten', attributes: { axis: attr.int(1) } });
  const weight = graph.addInitializer(
    'classifier.weight',
    [classes, features],
    kaimingUniform(random.child('classifier.weight'), classes * features, features),
  );
  // Zero bias: the logits are a function of the weights drawn above alone.
  const bias = graph.addInitializer('classifier.bias', [classes], new Float32Array(classes));
  const logits = graph.add('Gemm', [x, weight, bias], {
    name: 'classifier',
    outputs: [graph.uniqueName('logits')],
    attributes: { transB: attr.int(1) },
  });
  const output = { name: logits, dims: [batchSize, classes] };
  graph.addOutput(output.name, output.dims);
  return { graph, input, output, built, classifier: { weight, bias } };
}

/** Builds and serializes the network, ready for `InferenceSession.create`. */
export function buildLayeredNetwork(spec: LayeredNetworkSpec): SpaceNetwork {
  const { graph, input, output } = buildLayeredGraph(spec);
  const doc =
    `${spec.description}, batch ${spec.batchSize}, seed ${spec.seed}, Kaiming uniform fan_in` +
    (spec.foldBatchNorm ? ', BatchNorm folded' : '');
  return {
    bytes: serializeModel(graph, doc),
    inputName: input.name,
    inputShape: input.dims,
    outputShape: output.dims,
  };
}

function emitOperator(
  graph: Graph,
  random: Random,
  op: Operator,
  x: string,
  layerInput: string,
  label: string,
  batchSize: number,
  foldBatchNorm: boolean,
): BuiltOperator {
  switch (op.kind) {
    case 'identity':
      return { operator: op, label, output: x };
    case 'add':
      return { operator: op, label, output: graph.add('Add', [x, layerInput], { name: label }) };
    case 'shuffle':
      return { operator: op, label, output: channelShuffle(graph, x, op, label, batchSize) };
    case 'conv':
    case 'pointwise':
    case 'depthwise': {
      const perGroup = op.inChannels / op.groups;
      const dims = [op.outChannels, perGroup, op.kernel, op.kernel];
      const fanIn = perGroup * op.kernel * op.kernel;
      const values = kaimingUniform(random.child(label), op.outChannels * fanIn, fanIn);
      const fold = op.batchNorm && foldBatchNorm;
      // BatchNorm at initialization divides by sqrt(variance + epsilon) = sqrt(1 + epsilon).
      if (fold) {
        const factor = 1 / Math.sqrt(1 + LAYERED_BATCH_NORM_EPSILON);
        for (let i = 0; i < values.length; i++) values[i]! *= factor;
      }
      const weight = graph.addInitializer(`${label}.weight`, dims, values);
      const bias = fold
        ? graph.addInitializer(`${label}.bias`, [op.outChannels], new Float32Array(op.outChannels))
        : undefined;
      const p = op.padding;
      let output = graph.add('Conv', bias ? [x, weight, bias] : [x, weight], {
        name: label,
        attributes: {
          kernel_shape: attr.ints([op.kernel, op.kernel]),
          strides: attr.ints([op.stride, op.stride]),
          pads: attr.ints([p, p, p, p]),
          group: attr.int(op.groups),
        },
      });
      let batchNorm: BuiltOperator['batchNorm'];
      if (op.batchNorm && !fold) {
        batchNorm = batchNormAtInit(graph, op.outChannels, `${label}.bn`);
        output = graph.add('BatchNormalization', [output, ...batchNorm], {
          name: `${label}.bn`,
          attributes: { epsilon: attr.float(LAYERED_BATCH_NORM_EPSILON) },
        });
      }
      if (op.relu) output = graph.add('Relu', [output], { name: `${label}.relu` });
      return {
        operator: op,
        label,
        weight,
        ...(batchNorm ? { batchNorm } : {}),
        ...(bias ? { bias } : {}),
        output,
      };
    }
  }
}

/** BatchNorm parameters at initialization: scale 1, shift 0, running mean 0, running variance 1. */
function batchNormAtInit(graph: Graph, channels: number, label: string): [string, string, string, string] {
  const filled = (value: number) => new Float32Array(channels).fill(value);
  return [
    graph.addInitializer(`${label}.scale`, [channels], filled(1)),
    graph.addInitializer(`${label}.bias`, [channels], filled(0)),
    graph.addInitializer(`${label}.mean`, [channels], filled(0)),
    graph.addInitializer(`${label}.var`, [channels], filled(1)),
  ];
}

/**
 * ShuffleNet's channel shuffle, as FBNet writes it: view [N, g, C/g, H, W], swap the two channel
 * axes, view [N, C, H, W].
 */
function channelShuffle(graph: Graph, x: string, op: Operator, label: string, batchSize: number): string {
  const { inChannels: channels, groups, outSize: size } = op;
  const shape = (name: string, dims: number[]) =>
    graph.addInitializer(name, [dims.length], BigInt64Array.from(dims.map(BigInt)));
  const split = shape(`${label}.split`, [batchSize, groups, channels / groups, size, size]);
  const merged = shape(`${label}.merge`, [batchSize, channels, size, size]);
  const grouped = graph.add('Reshape', [x, split], { name: `${label}.split` });
  const swapped = graph.add('Transpose', [grouped], {
    name: `${label}.transpose`,
    attributes: { perm: attr.ints([0, 2, 1, 3, 4]) },
  });
  return graph.add('Reshape', [swapped, merged], { name: `${label}.merge` });
}
