// The primitive operators a layered network executes, described by shape alone. A space that
// builds networks from layers (FBNet, NAS-Bench-Macro) lists an architecture's operators here; the
// ONNX builder, the cost counts and the synthetic devices of layered spaces all read this one list,
// so what is built, what is counted and what is simulated cannot drift apart.

/** What an operator is, as far as a runtime's cost is concerned. */
export type OperatorKind =
  /** A 1x1 convolution (`groups` > 1: grouped); dense matrix multiplication in practice. */
  | 'pointwise'
  /** A depthwise KxK convolution (one filter per channel). */
  | 'depthwise'
  /** A dense KxK convolution (the stem). */
  | 'conv'
  /** The channel shuffle after a grouped 1x1 convolution (reshape, transpose, reshape). */
  | 'shuffle'
  /** The residual add of a block whose input and output shapes match. */
  | 'add'
  /** A layer that passes its input through unchanged (no kernel runs, or a copy at most). */
  | 'identity';

export interface Operator {
  readonly kind: OperatorKind;
  /** Index of the searchable layer it belongs to (0-based), or -1 for stem and head. */
  readonly layer: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Square input side. */
  readonly inSize: number;
  /** Square output side. */
  readonly outSize: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;
  /** Followed by BatchNorm (folded into the convolution by inference runtimes). */
  readonly batchNorm: boolean;
  /** Followed by ReLU. */
  readonly relu: boolean;
}

/** Multiply-accumulates of one operator at batch 1 (0 for operators without a kernel). */
export function operatorMacs(op: Operator): number {
  switch (op.kind) {
    case 'pointwise':
    case 'conv':
      return (op.inChannels / op.groups) * op.kernel * op.kernel * op.outChannels * op.outSize * op.outSize;
    case 'depthwise':
      return op.kernel * op.kernel * op.outChannels * op.outSize * op.outSize;
    default:
      return 0;
  }
}

/** Weights of the convolution plus BatchNorm's 2 parameters (scale, shift) per output channel. */
export function operatorParams(op: Operator): number {
  const batchNorm = op.batchNorm ? 2 * op.outChannels : 0;
  switch (op.kind) {
    case 'pointwise':
    case 'conv':
      return (op.inChannels / op.groups) * op.kernel * op.kernel * op.outChannels + batchNorm;
    case 'depthwise':
      return op.kernel * op.kernel * op.outChannels + batchNorm;
    default:
      return 0;
  }
}

/** The residual add closing a block of `layer` whose input and output are `channels` x `size` x `size`. */
export function residualAdd(layer: number, channels: number, size: number): Operator {
  return {
    layer,
    kind: 'add',
    inChannels: channels,
    outChannels: channels,
    inSize: size,
    outSize: size,
    // No kernel: the window fields say "elementwise".
    ...{ kernel: 1, stride: 1, padding: 0, groups: 1 },
    batchNorm: false,
    relu: false,
  };
}

/** Output side of a convolution or pooling window. */
export function convOutputSize(inSize: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((inSize + 2 * padding - kernel) / stride) + 1;
}
