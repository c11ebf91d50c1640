// Parameter and FLOP counts of the NB201 macro network, by arithmetic alone (no ONNX). Nominal
// counts follow NAS-Bench-201's published convention (every op in the genotype counts, dead or
// not); deployed counts keep only the live edges, i.e. what the pruned ONNX graph computes.
import { EDGES, OPS, OP_AVGPOOL, OP_CONV1X1, OP_CONV3X3, edgeLabel, formatCell, liveEdges } from './cell.js';
import type { Cell } from './cell.js';
import { DATASET_SHAPES, type Dataset } from './datasets.js';
import { CELLS_PER_STAGE, STAGE_CHANNELS, STEM_CHANNELS } from './layout.js';

/**
 * Counting convention (the one NAS-Bench-201's published FLOPs follow; checked against every
 * published value):
 * - conv: multiply-accumulates, in_channels * k * k * out_channels * out_height * out_width;
 * - linear: in_features * out_features (the bias is not counted);
 * - ReLU: 1 per element; BatchNorm (affine): 2 per element;
 * - pooling: kernel area per output element (9 for avg_pool_3x3, 4 for the 2x2 shortcut pool,
 *   s * s for the global average pool over an s x s map);
 * - additions that join branches (cell node sums, the residual add) are not counted.
 * Params count conv and linear weights, the linear bias, and BN's gamma and beta (2 per channel),
 * not BN's running statistics.
 */
export interface CostCounts {
  readonly params: number;
  readonly flops: number;
}

export interface NetworkCost {
  /** As NAS-Bench-201 publishes them: every op of the genotype, in millions. */
  readonly nominal: { readonly paramsM: number; readonly flopsM: number };
  /** After dead-edge pruning (the deployed ONNX graph), in millions. */
  readonly deployed: { readonly paramsM: number; readonly flopsM: number };
}

const ZERO: CostCounts = { params: 0, flops: 0 };

function plus(a: CostCounts, b: CostCounts): CostCounts {
  return { params: a.params + b.params, flops: a.flops + b.flops };
}

function conv(inChannels: number, outChannels: number, kernel: number, outSize: number): CostCounts {
  const weights = inChannels * kernel * kernel * outChannels;
  return { params: weights, flops: weights * outSize * outSize };
}

function batchNorm(channels: number, size: number): CostCounts {
  return { params: 2 * channels, flops: 2 * channels * size * size };
}

function relu(channels: number, size: number): CostCounts {
  return { params: 0, flops: channels * size * size };
}

/** ReLU -> Conv(kxk) -> BN, as in nor_conv_kxk and the reduction-block branches. */
function reluConvBn(
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  inSize: number,
): CostCounts {
  const outSize = inSize / stride;
  return [
    relu(inChannels, inSize),
    conv(inChannels, outChannels, kernel, outSize),
    batchNorm(outChannels, outSize),
  ].reduce(plus);
}

/** Cost of one op on one edge of a cell with `channels` channels at `size` x `size`. */
export function edgeCost(op: number, channels: number, size: number): CostCounts {
  switch (op) {
    case OP_CONV1X1:
      return reluConvBn(channels, channels, 1, 1, size);
    case OP_CONV3X3:
      return reluConvBn(channels, channels, 3, 1, size);
    case OP_AVGPOOL:
      return { params: 0, flops: 9 * channels * size * size };
    default:
      return ZERO;
  }
}

function reductionBlock(inChannels: number, outChannels: number, inSize: number): CostCounts {
  const outSize = inSize / 2;
  return [
    reluConvBn(inChannels, outChannels, 3, 2, inSize),
    reluConvBn(outChannels, outChannels, 3, 1, outSize),
    { params: 0, flops: 4 * inChannels * outSize * outSize }, // AvgPool 2x2
    conv(inChannels, outChannels, 1, outSize),
  ].reduce(plus);
}

/**
 * The one term of NB201's published FLOPs the rules above do not produce: 64 * (2s + 1) for a
 * final s x s feature map (1,088 FLOPs on 32x32 inputs, 576 on 16x16; under 0.015% of the
 * smallest network). Kept so nominal FLOPs equal the published values exactly.
 */
function publishedHeadResidual(channels: number, size: number): number {
  return channels * (2 * size + 1);
}

/** Everything outside the 15 cells: stem, both reduction blocks and the head. */
function skeletonCost(dataset: Dataset): CostCounts {
  const { inputSize, classes } = DATASET_SHAPES[dataset];
  const [c1, c2, c3] = STAGE_CHANNELS;
  const finalSize = inputSize / 4;
  return [
    conv(3, STEM_CHANNELS, 3, inputSize),
    batchNorm(STEM_CHANNELS, inputSize),
    reductionBlock(c1, c2, inputSize),
    reductionBlock(c2, c3, inputSize / 2),
    batchNorm(c3, finalSize),
    relu(c3, finalSize),
    { params: 0, flops: c3 * finalSize * finalSize + publishedHeadResidual(c3, finalSize) },
    { params: c3 * classes + classes, flops: c3 * classes },
  ].reduce(plus);
}

/** Cost of the 15 cells, counting the edges `counted` selects. */
function cellsCost(cell: Cell, dataset: Dataset, counted: readonly boolean[]): CostCounts {
  const { inputSize } = DATASET_SHAPES[dataset];
  let total = ZERO;
  STAGE_CHANNELS.forEach((channels, stage) => {
    const size = inputSize / 2 ** stage;
    const oneCell = EDGES.reduce(
      (sum, _edge, e) => (counted[e] ? plus(sum, edgeCost(cell[e]!, channels, size)) : sum),
      ZERO,
    );
    total = plus(total, { params: oneCell.params * CELLS_PER_STAGE, flops: oneCell.flops * CELLS_PER_STAGE });
  });
  return total;
}

/** Raw counts (not millions) for the network: nominal, or deployed when `deployed` is true. */
export function networkCounts(cell: Cell, dataset: Dataset, deployed: boolean): CostCounts {
  const counted = deployed ? liveEdges(cell) : cell.map(() => true);
  return plus(skeletonCost(dataset), cellsCost(cell, dataset, counted));
}

/** Nominal (published-convention) and deployed params and FLOPs, in millions. */
export function networkCost(cell: Cell, dataset: Dataset): NetworkCost {
  const inMillions = (counts: CostCounts) => ({ paramsM: counts.params / 1e6, flopsM: counts.flops / 1e6 });
  return {
    nominal: inMillions(networkCounts(cell, dataset, false)),
    deployed: inMillions(networkCounts(cell, dataset, true)),
  };
}

export interface CellDescription extends NetworkCost {
  readonly cell: string;
  readonly dataset: Dataset;
  /** Edges that compute in the deployed network, as `to<-from` with their op. */
  readonly liveEdges: readonly { readonly edge: string; readonly op: string }[];
  /** False when node 3 is unreachable: every cell outputs zeros. */
  readonly connected: boolean;
}

/** What `simnas describe` reports for one cell on one dataset. */
export function describeCell(cell: Cell, dataset: Dataset): CellDescription {
  const live = liveEdges(cell);
  const edges = EDGES.flatMap((edge, e) => (live[e] ? [{ edge: edgeLabel(e), op: OPS[cell[e]!]! }] : []));
  return {
    cell: formatCell(cell),
    dataset,
    ...networkCost(cell, dataset),
    liveEdges: edges,
    connected: edges.length > 0,
  };
}
