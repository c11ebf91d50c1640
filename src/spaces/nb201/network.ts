// The NAS-Bench-201 macro network for one cell genotype, built as a real ONNX model: stem, three
// stages of 5 cells separated by ResNet reduction blocks, and a linear classifier. It is what the
// hardware module measures and what the proxies read activations and weights from, so besides the
// bytes it returns the editable graph and the names of the tensors others need.
import { DATASET_SHAPES, type Dataset } from './datasets.js';
import {
  EDGES,
  OPS,
  OP_AVGPOOL,
  OP_CONV1X1,
  OP_CONV3X3,
  OP_NONE,
  OP_SKIP,
  formatCell,
  liveEdges,
} from './cell.js';
import type { Cell } from './cell.js';
import { Random } from '../../util/random.js';
import { Graph, attr, serializeModel } from '../../onnx/graph.js';
import { kaimingNormal } from '../../onnx/init.js';
import { BATCH_NORM_EPSILON, CELLS_PER_STAGE, STAGE_CHANNELS, STEM_CHANNELS } from './layout.js';

export { BATCH_NORM_EPSILON, CELLS_PER_STAGE, STAGE_CHANNELS, STEM_CHANNELS } from './layout.js';
export { kaimingNormal } from '../../onnx/init.js';

/**
 * Kaiming (He) normal initialization: weights ~ N(0, 2 / fan), fan_in = in_channels * k * k
 * (preserves activation variance on the forward pass, PyTorch's default mode) or fan_out =
 * out_channels * k * k (preserves gradient variance on the backward pass).
 */
export type FanMode = 'fan_in' | 'fan_out';

export interface NetworkOptions {
  readonly dataset: Dataset;
  /**
   * Fixed batch dimension of the input (default 1). Shapes are fully static: ORT plans memory and
   * picks kernels once, and the measured latency is that of exactly this batch size.
   */
  readonly batchSize?: number;
  /** Seed of the weight initialization (default 0). */
  readonly seed?: number;
  /**
   * true (default): the deployed network, dead edges removed as an exporter with dead-code
   * elimination would. false: the eager network, where every edge computes and `none` is a
   * multiplication by zero, as in NB201's PyTorch code.
   */
  readonly prune?: boolean;
  /** Fan used by the Kaiming normal initialization of conv and linear weights (default fan_in). */
  readonly fanMode?: FanMode;
}

/** A tensor that enters a ReLU (the NASWOT activation codes are its signs). */
export interface ReluTap {
  /** Name of the ReLU's input tensor. */
  readonly tensor: string;
  /** Name of the ReLU's output tensor. */
  readonly output: string;
  readonly node: string;
  /** Where it sits, e.g. `cell3.edge2<-1.nor_conv_3x3` or `stage1.reduction.a`. */
  readonly location: string;
  /** Static shape [batch, channels, height, width]. */
  readonly dims: readonly number[];
}

/** A conv or linear weight (both are what synflow-style proxies score). */
export interface WeightInfo {
  /** Initializer name in the graph. */
  readonly name: string;
  /** The Random.child label it was drawn from. */
  readonly label: string;
  readonly kind: 'conv' | 'linear';
  /** [out, in, k, k] for convs, [out, in] for the linear layer. */
  readonly dims: readonly number[];
  readonly fanIn: number;
  readonly fanOut: number;
  /** Name of the bias initializer (only the linear layer has one). */
  readonly bias?: string;
}

/** An inference-form BatchNormalization node and its four parameter initializers. */
export interface BatchNormInfo {
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly channels: number;
  readonly scale: string;
  readonly bias: string;
  readonly mean: string;
  readonly variance: string;
  readonly location: string;
}

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
}

/** The network as an editable graph plus what other modules need to find inside it. */
export interface Nb201Graph {
  readonly graph: Graph;
  readonly cell: Cell;
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly seed: number;
  readonly prune: boolean;
  readonly fanMode: FanMode;
  /** float32 [batch, 3, size, size], NCHW. */
  readonly input: TensorSpec;
  /** float32 [batch, classes]: logits (no softmax). */
  readonly output: TensorSpec;
  /** In graph order (stem side first); for each cell, edges in EDGES order. */
  readonly reluInputs: readonly ReluTap[];
  readonly weights: readonly WeightInfo[];
  readonly batchNorms: readonly BatchNormInfo[];
  /** Output tensor of each of the 15 cells, in order. */
  readonly cellOutputs: readonly string[];
}

/** A serialized network: `bytes` goes straight into `InferenceSession.create`. */
export interface Nb201Network extends Nb201Graph {
  readonly bytes: Uint8Array;
}

/** Builds and serializes the network. */
export function buildNetwork(cell: Cell, options: NetworkOptions): Nb201Network {
  const built = buildNetworkGraph(cell, options);
  return { ...built, bytes: serializeModel(built.graph, describeModel(built)) };
}

function describeModel(built: Nb201Graph): string {
  return (
    `NAS-Bench-201 network, cell ${formatCell(built.cell)}, dataset ${built.dataset}, ` +
    `batch ${built.batchSize}, seed ${built.seed}, ${built.prune ? 'pruned (deployed)' : 'full (eager)'}, ` +
    `Kaiming normal ${built.fanMode}`
  );
}

/** Builds the network as an editable graph (serialize it with `serializeModel`). */
export function buildNetworkGraph(cell: Cell, options: NetworkOptions): Nb201Graph {
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const seed = options.seed ?? 0;
  const prune = options.prune ?? true;
  const fanMode = options.fanMode ?? 'fan_in';
  const { inputSize, classes } = DATASET_SHAPES[options.dataset];
  const builder = new NetworkBuilder(new Graph('nb201'), new Random(seed), fanMode, batchSize);

  const input: TensorSpec = { name: 'images', dims: [batchSize, 3, inputSize, inputSize] };
  let x = builder.graph.addInput(input.name, input.dims);
  let size = inputSize;

  x = builder.conv(x, 3, STEM_CHANNELS, 3, 1, 'stem.conv');
  x = builder.batchNorm(x, STEM_CHANNELS, 'stem.bn');

  const live = liveEdges(cell);
  const cellOutputs: string[] = [];
  let channels: number = STEM_CHANNELS;
  STAGE_CHANNELS.forEach((stageChannels, stage) => {
    if (stage > 0) {
      x = builder.reductionBlock(x, channels, stageChannels, size, `stage${stage}.reduction`);
      channels = stageChannels;
      size /= 2;
    }
    for (let i = 0; i < CELLS_PER_STAGE; i++) {
      const index = stage * CELLS_PER_STAGE + i;
      x = builder.cell(x, cell, live, prune, channels, size, `cell${index}`);
      cellOutputs.push(x);
    }
  });

  x = builder.batchNorm(x, channels, 'head.bn');
  x = builder.relu(x, channels, size, 'head');
  x = builder.graph.add('GlobalAveragePool', [x], { name: 'head.pool' });
  x = builder.graph.add('Flatten', [x], { name: 'head.flatten', attributes: { axis: attr.int(1) } });
  const logits = builder.linear(x, channels, classes, 'classifier', 'logits');
  const output: TensorSpec = { name: logits, dims: [batchSize, classes] };
  builder.graph.addOutput(output.name, output.dims);

  return {
    graph: builder.graph,
    cell: [...cell],
    dataset: options.dataset,
    batchSize,
    seed,
    prune,
    fanMode,
    input,
    output,
    reluInputs: builder.reluInputs,
    weights: builder.weights,
    batchNorms: builder.batchNorms,
    cellOutputs,
  };
}

/** Emits layers into the graph and records the metadata as it goes. */
class NetworkBuilder {
  readonly reluInputs: ReluTap[] = [];
  readonly weights: WeightInfo[] = [];
  readonly batchNorms: BatchNormInfo[] = [];
  private zero: string | undefined;

  constructor(
    readonly graph: Graph,
    private readonly random: Random,
    private readonly fanMode: FanMode,
    private readonly batchSize: number,
  ) {}

  /** Conv without bias; `label` names the weight's random stream and the tensors. */
  conv(
    x: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    stride: number,
    label: string,
  ): string {
    const fanIn = inChannels * kernel * kernel;
    const fanOut = outChannels * kernel * kernel;
    const dims = [outChannels, inChannels, kernel, kernel];
    const data = kaimingNormal(
      this.random.child(label),
      outChannels * fanIn,
      this.fanMode === 'fan_in' ? fanIn : fanOut,
    );
    const weight = this.graph.addInitializer(`${label}.weight`, dims, data);
    this.weights.push({ name: weight, label, kind: 'conv', dims, fanIn, fanOut });
    const pad = Math.floor(kernel / 2);
    return this.graph.add('Conv', [x, weight], {
      name: label,
      attributes: {
        kernel_shape: attr.ints([kernel, kernel]),
        strides: attr.ints([stride, stride]),
        pads: attr.ints([pad, pad, pad, pad]),
      },
    });
  }

  /** Inference-form BN at initialization: gamma 1, beta 0, running mean 0, running var 1. */
  batchNorm(x: string, channels: number, label: string): string {
    const scale = this.graph.addInitializer(`${label}.scale`, [channels], new Float32Array(channels).fill(1));
    const bias = this.graph.addInitializer(`${label}.bias`, [channels], new Float32Array(channels));
    const mean = this.graph.addInitializer(`${label}.mean`, [channels], new Float32Array(channels));
    const variance = this.graph.addInitializer(
      `${label}.var`,
      [channels],
      new Float32Array(channels).fill(1),
    );
    const output = this.graph.add('BatchNormalization', [x, scale, bias, mean, variance], {
      name: label,
      attributes: { epsilon: attr.float(BATCH_NORM_EPSILON) },
    });
    this.batchNorms.push({
      node: this.graph.producerOf(output)!.name,
      input: x,
      output,
      channels,
      scale,
      bias,
      mean,
      variance,
      location: label,
    });
    return output;
  }

  relu(x: string, channels: number, size: number, location: string): string {
    const output = this.graph.add('Relu', [x], { name: `${location}.relu` });
    this.reluInputs.push({
      tensor: x,
      output,
      node: this.graph.producerOf(output)!.name,
      location,
      dims: [this.batchSize, channels, size, size],
    });
    return output;
  }

  /** NB201's ReLUConvBN: the body of nor_conv_kxk and of each reduction-block branch. */
  reluConvBn(
    x: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    stride: number,
    size: number,
    label: string,
  ): string {
    const activated = this.relu(x, inChannels, size, label);
    const convolved = this.conv(activated, inChannels, outChannels, kernel, stride, `${label}.conv`);
    return this.batchNorm(convolved, outChannels, `${label}.bn`);
  }

  /** ResNet basic block with stride 2; the shortcut is AvgPool 2x2 then a 1x1 conv, no BN. */
  reductionBlock(x: string, inChannels: number, outChannels: number, size: number, label: string): string {
    const a = this.reluConvBn(x, inChannels, outChannels, 3, 2, size, `${label}.a`);
    const b = this.reluConvBn(a, outChannels, outChannels, 3, 1, size / 2, `${label}.b`);
    const pooled = this.graph.add('AveragePool', [x], {
      name: `${label}.shortcut.pool`,
      attributes: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) },
    });
    const shortcut = this.conv(pooled, inChannels, outChannels, 1, 1, `${label}.shortcut.conv`);
    return this.graph.add('Add', [b, shortcut], { name: `${label}.add` });
  }

  /** One cell: node j = sum of op(node i) over its edges; the output is node 3. */
  cell(
    x: string,
    cell: Cell,
    live: readonly boolean[],
    prune: boolean,
    channels: number,
    size: number,
    label: string,
  ): string {
    const nodes: (string | undefined)[] = [x, undefined, undefined, undefined];
    for (let node = 1; node < nodes.length; node++) {
      const terms: string[] = [];
      EDGES.forEach((edge, e) => {
        if (edge.to !== node || (prune && !live[e])) return;
        const source = nodes[edge.from];
        // Pruned graphs only keep live edges, whose sources are always computed.
        if (source === undefined) throw new Error(`${label}: node ${edge.from} missing for edge ${e}`);
        terms.push(this.edgeOp(source, cell[e]!, channels, size, `${label}.edge${edge.to}<-${edge.from}`));
      });
      if (terms.length === 1) nodes[node] = terms[0];
      else if (terms.length > 1) nodes[node] = this.graph.add('Sum', terms, { name: `${label}.node${node}` });
    }
    // A disconnected cell outputs zeros. Mul by a scalar zero is the cheapest form that keeps the
    // rest of the network depending on the input; a zeros constant would make the stem and every
    // earlier layer dead code and leave a different network to run.
    return nodes[3] ?? this.times0(x, `${label}.zeros`);
  }

  private edgeOp(x: string, op: number, channels: number, size: number, label: string): string {
    const name = `${label}.${OPS[op]}`;
    switch (op) {
      case OP_NONE:
        return this.times0(x, name);
      case OP_SKIP:
        return x;
      case OP_CONV1X1:
        return this.reluConvBn(x, channels, channels, 1, 1, size, name);
      case OP_CONV3X3:
        return this.reluConvBn(x, channels, channels, 3, 1, size, name);
      case OP_AVGPOOL:
        return this.graph.add('AveragePool', [x], {
          name,
          attributes: {
            kernel_shape: attr.ints([3, 3]),
            strides: attr.ints([1, 1]),
            pads: attr.ints([1, 1, 1, 1]),
            count_include_pad: attr.int(0),
          },
        });
      default:
        throw new RangeError(`${label}: unknown op index ${op}`);
    }
  }

  private times0(x: string, name: string): string {
    this.zero ??= this.graph.addInitializer('zero', [], new Float32Array(1));
    return this.graph.add('Mul', [x, this.zero], { name });
  }

  linear(x: string, inFeatures: number, outFeatures: number, label: string, outputName: string): string {
    const fan = this.fanMode === 'fan_in' ? inFeatures : outFeatures;
    const dims = [outFeatures, inFeatures];
    const data = kaimingNormal(this.random.child(`${label}.weight`), outFeatures * inFeatures, fan);
    const weight = this.graph.addInitializer(`${label}.weight`, dims, data);
    // Zero bias: keeps the logits a pure function of the weights drawn above.
    const bias = this.graph.addInitializer(`${label}.bias`, [outFeatures], new Float32Array(outFeatures));
    this.weights.push({
      name: weight,
      label: `${label}.weight`,
      kind: 'linear',
      dims,
      fanIn: inFeatures,
      fanOut: outFeatures,
      bias,
    });
    return this.graph.add('Gemm', [x, weight, bias], {
      name: label,
      outputs: [this.graph.uniqueName(outputName)],
      attributes: { transB: attr.int(1) },
    });
  }
}
