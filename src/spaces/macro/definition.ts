// NAS-Bench-Macro (Su et al., CVPR 2021; `train/model.py` of xiusu/NAS-Bench-Macro): a MobileNetV2
// stem, 8 searchable layers in 3 stages, each one of 3 blocks, and a head, trained on CIFAR-10.
// This module holds the definition and an architecture's operator list, from which the network
// and the counts (equal to the published params and FLOPs) are derived.
import { UsageError } from '../../errors.js';
import { convOutputSize, residualAdd, type Operator } from '../operators.js';

export const MACRO_BLOCKS = ['id', 'ir_3x3_t3', 'ir_5x5_t6'] as const;
export const LAYERS_PER_STAGE = [2, 3, 3] as const;
export const STAGE_CHANNELS = [64, 128, 256] as const;
export const LAYER_COUNT = LAYERS_PER_STAGE.reduce((a, b) => a + b, 0);
export const STEM_CHANNELS = 32;
export const HEAD_CHANNELS = 1280;

/** The one setting NAS-Bench-Macro trained: CIFAR-10. */
export interface MacroSetting {
  readonly name: string;
  readonly inputSize: number;
  readonly classes: number;
}
export const MACRO_SETTING: MacroSetting = { name: 'cifar10', inputSize: 32, classes: 10 };

/** Kernel and expansion of the inverted-residual blocks; `id` has neither. */
const BLOCK_SPECS: readonly { readonly kernel: number; readonly expansion: number }[] = [
  { kernel: 0, expansion: 0 },
  { kernel: 3, expansion: 3 },
  { kernel: 5, expansion: 6 },
];

export class MacroParseError extends UsageError {
  override name = 'MacroParseError';
}

export interface MacroLayerShape {
  readonly layer: number;
  readonly stage: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
  readonly inSize: number;
}

/** The 8 layers' shapes: each stage's first layer halves the side and doubles the channels. */
export function macroLayerShapes(setting: MacroSetting = MACRO_SETTING): MacroLayerShape[] {
  const shapes: MacroLayerShape[] = [];
  let inChannels: number = STEM_CHANNELS;
  let size = setting.inputSize;
  LAYERS_PER_STAGE.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      const stride = i === 0 ? 2 : 1;
      const outChannels = STAGE_CHANNELS[stage]!;
      shapes.push({ layer: shapes.length, stage, inChannels, outChannels, stride, inSize: size });
      inChannels = outChannels;
      size = convOutputSize(size, 1, stride, 0);
    }
  });
  return shapes;
}

function blockOperators(block: number, shape: MacroLayerShape): Operator[] {
  const { layer, inChannels, outChannels, stride, inSize } = shape;
  const outSize = convOutputSize(inSize, 1, stride, 0);
  const sameShape = inChannels === outChannels && stride === 1;
  const base = { layer, inSize, kernel: 1, stride: 1, padding: 0, groups: 1, batchNorm: true };
  const { kernel, expansion } = BLOCK_SPECS[block]!;
  if (expansion === 0) {
    return sameShape
      ? [{ ...base, kind: 'identity', inChannels, outChannels, outSize, batchNorm: false, relu: false }]
      : [{ ...base, kind: 'pointwise', inChannels, outChannels, outSize, stride, relu: false }];
  }
  const hidden = inChannels * expansion;
  const ops: Operator[] = [
    { ...base, kind: 'pointwise', inChannels, outChannels: hidden, outSize: inSize, relu: true },
    {
      ...base,
      kind: 'depthwise',
      inChannels: hidden,
      outChannels: hidden,
      outSize: convOutputSize(inSize, kernel, stride, Math.floor(kernel / 2)),
      kernel,
      stride,
      padding: Math.floor(kernel / 2),
      groups: hidden,
      relu: true,
    },
    { ...base, kind: 'pointwise', inChannels: hidden, outChannels, inSize: outSize, outSize, relu: false },
  ];
  if (sameShape) {
    ops.push(residualAdd(layer, outChannels, outSize));
  }
  return ops;
}

/** The 8 searchable layers' operators, layer by layer. */
export function macroBodyOperators(
  arch: readonly number[],
  setting: MacroSetting = MACRO_SETTING,
): Operator[] {
  return macroLayerShapes(setting).flatMap((shape) => blockOperators(arch[shape.layer]!, shape));
}

/** Stem, 8 layers and head in execution order (the classifier excepted). */
export function macroNetworkOperators(
  arch: readonly number[],
  setting: MacroSetting = MACRO_SETTING,
): Operator[] {
  const size = setting.inputSize;
  const last = macroLayerShapes(setting).at(-1)!;
  const finalSize = convOutputSize(last.inSize, 1, last.stride, 0);
  const conv = { layer: -1, stride: 1, groups: 1, batchNorm: true, relu: true } as const;
  return [
    {
      ...conv,
      kind: 'conv',
      inChannels: 3,
      outChannels: STEM_CHANNELS,
      inSize: size,
      outSize: size,
      kernel: 3,
      padding: 1,
    },
    ...macroBodyOperators(arch, setting),
    {
      ...conv,
      kind: 'pointwise',
      inChannels: last.outChannels,
      outChannels: HEAD_CHANNELS,
      inSize: finalSize,
      outSize: finalSize,
      kernel: 1,
      padding: 0,
    },
  ];
}
