// The FBNet search space as HW-NAS-Bench defines it (FBNetV1's blocks; `FBNet_Infer` in
// HW-NAS-Bench's fbnet_models): a stem, 22 searchable layers in 7 stages, each one of 9 blocks,
// and a head. This module holds the definition and an architecture's operator list; the ONNX
// network, the cost counts and the synthetic devices are all derived from that list.
import { UsageError } from '../../errors.js';
import { parseBlockNames } from '../layered-space.js';
import { convOutputSize, residualAdd, type Operator } from '../operators.js';
import type { ReferenceDesign } from '../space.js';

export const FBNET_BLOCKS = [
  'k3_e1',
  'k3_e1_g2',
  'k3_e3',
  'k3_e6',
  'k5_e1',
  'k5_e1_g2',
  'k5_e3',
  'k5_e6',
  'skip',
] as const;
export type FbnetBlockName = (typeof FBNET_BLOCKS)[number];

export interface FbnetBlock {
  readonly name: FbnetBlockName;
  /** Depthwise kernel side; 0 for `skip`. */
  readonly kernel: number;
  /** Channel expansion of the first 1x1 convolution; 0 for `skip`. */
  readonly expansion: number;
  /** Groups of both 1x1 convolutions (2: grouped, followed by a channel shuffle). */
  readonly groups: number;
}

export const FBNET_BLOCK_SPECS: readonly FbnetBlock[] = FBNET_BLOCKS.map((name) => {
  if (name === 'skip') return { name, kernel: 0, expansion: 0, groups: 1 };
  const [kernel, expansion, groups] = /^k(\d)_e(\d)(?:_g(\d))?$/.exec(name)!.slice(1);
  return { name, kernel: Number(kernel), expansion: Number(expansion), groups: Number(groups ?? 1) };
});

const FBNET_SOURCE = 'FBNetV1 (Wu et al., 2019), facebookresearch/mobile-vision MODEL_ARCH_FBNET';

/** `name` of every layer: 22 copies of one block. */
const uniform = (block: FbnetBlockName): string => Array<string>(22).fill(block).join('-');

/**
 * The well-known designs of this space. FBNet-A/B/C are the FBNetV1 paper's searched networks (Wu
 * et al., CVPR 2019) as the authors' code defines them (`MODEL_ARCH_FBNET` in facebookresearch/
 * mobile-vision, mobile_cv/arch/fbnet_v2/fbnet_modeldef_cls.py), read layer by layer onto this
 * space's 22 layers (its stages of 4 merge there: 64+112 and 184+352 channels); `ir_kK_g2` with
 * expansion 1 is `kK_e1_g2`. Copies of maskrcnn-benchmark's older definition differ at one layer of
 * FBNet-A (layer 16: k5_e1 there, k5_e3 here); the authors' current code is followed. The
 * MobileNetV2-like network is every layer `k3_e6` (MobileNetV2's block, expansion 6, 3x3 depthwise).
 * The head and stem stay the space's (HW-NAS-Bench's), so only the block choices are the papers'.
 */
export const FBNET_REFERENCES: readonly ReferenceDesign[] = [
  {
    name: 'MobileNetV2-like (all k3_e6)',
    architecture: uniform('k3_e6'),
    source: 'MobileNetV2 (Sandler et al., 2018) inverted-residual block in every layer',
  },
  {
    name: 'FBNet-A',
    architecture: [
      'skip',
      ...['k3_e3', 'k3_e1', 'skip', 'skip'],
      ...['k5_e6', 'k3_e3', 'k5_e1', 'k3_e3'],
      ...['k5_e6', 'k5_e3', 'k5_e1_g2', 'k5_e6'],
      ...['k3_e6', 'k5_e1_g2', 'k5_e3', 'k3_e1_g2'],
      ...['k5_e6', 'k5_e6', 'k5_e3', 'k5_e6'],
      'k5_e6',
    ].join('-'),
    source: FBNET_SOURCE,
  },
  {
    name: 'FBNet-B',
    architecture: [
      'k3_e1',
      ...['k3_e6', 'k5_e1', 'k3_e1', 'k3_e1'],
      ...['k5_e6', 'k5_e3', 'k3_e6', 'k5_e6'],
      ...['k5_e6', 'k5_e6', 'skip', 'k5_e3'],
      ...['k5_e6', 'k3_e1', 'k5_e1', 'k5_e3'],
      ...['k5_e6', 'k5_e1', 'k5_e6', 'k5_e6'],
      'k3_e6',
    ].join('-'),
    source: FBNET_SOURCE,
  },
  {
    name: 'FBNet-C',
    architecture: [
      'k3_e1',
      ...['k3_e6', 'skip', 'k3_e1', 'k3_e1'],
      ...['k5_e6', 'k5_e3', 'k5_e6', 'k3_e6'],
      ...['k5_e6', 'k5_e3', 'k5_e6', 'k5_e6'],
      ...['k5_e6', 'k5_e6', 'k5_e6', 'k5_e3'],
      ...['k5_e6', 'k5_e6', 'k5_e6', 'k5_e6'],
      'k3_e6',
    ].join('-'),
    source: FBNET_SOURCE,
  },
];

export const SKIP_BLOCK = FBNET_BLOCKS.indexOf('skip');
export const LAYERS_PER_STAGE = [1, 4, 4, 4, 4, 4, 1] as const;
export const STAGE_CHANNELS = [16, 24, 32, 64, 112, 184, 352] as const;
export const LAYER_COUNT = LAYERS_PER_STAGE.reduce((a, b) => a + b, 0);
export const STEM_CHANNELS = 16;

/** An input setting of the network: the shared table's CIFAR-100 network, or ImageNet's. */
export interface FbnetSetting {
  readonly name: 'cifar100' | 'imagenet';
  readonly inputSize: number;
  readonly classes: number;
  readonly stemStride: number;
  /** Stride of each stage's first layer. */
  readonly stageStrides: readonly number[];
  readonly headChannels: number;
}

export const FBNET_SETTINGS: Readonly<Record<FbnetSetting['name'], FbnetSetting>> = {
  cifar100: {
    name: 'cifar100',
    inputSize: 32,
    classes: 100,
    stemStride: 1,
    stageStrides: [1, 1, 2, 2, 1, 2, 1],
    headChannels: 1504,
  },
  imagenet: {
    name: 'imagenet',
    inputSize: 224,
    classes: 1000,
    stemStride: 2,
    stageStrides: [1, 2, 2, 2, 1, 2, 1],
    headChannels: 1984,
  },
};

/** An FBNet architecture: one block index (into FBNET_BLOCKS) per searchable layer, layer 1 first. */
export type FbnetArch = readonly number[];

/** Where a searchable layer sits and what shapes it maps between. */
export interface LayerShape {
  readonly layer: number;
  readonly stage: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
  readonly inSize: number;
}

/** The stem's output side. */
export function stemOutputSize(setting: FbnetSetting): number {
  return convOutputSize(setting.inputSize, 3, setting.stemStride, 1);
}

/**
 * The 22 layers' shapes. A layer's input side does not depend on the blocks chosen before it: every
 * block, `skip` included, maps side s to the same output side at a given stride.
 */
export function layerShapes(setting: FbnetSetting): LayerShape[] {
  const shapes: LayerShape[] = [];
  let inChannels = STEM_CHANNELS;
  let size = stemOutputSize(setting);
  LAYERS_PER_STAGE.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      const stride = i === 0 ? setting.stageStrides[stage]! : 1;
      const outChannels = STAGE_CHANNELS[stage]!;
      shapes.push({ layer: shapes.length, stage, inChannels, outChannels, stride, inSize: size });
      inChannels = outChannels;
      size = convOutputSize(size, 1, stride, 0);
    }
  });
  return shapes;
}

/** Depthwise padding as the definition has it: ceil((K - s) / 2). */
export function depthwisePadding(kernel: number, stride: number): number {
  return Math.ceil((kernel - stride) / 2);
}

/** The operators one block runs at one layer, in execution order. */
export function blockOperators(block: FbnetBlock, shape: LayerShape): Operator[] {
  const { layer, inChannels, outChannels, stride, inSize } = shape;
  const outSize = convOutputSize(inSize, 1, stride, 0);
  const base = { layer, inSize, batchNorm: true, padding: 0, kernel: 1, stride: 1, groups: 1 };
  if (block.expansion === 0) {
    if (inChannels === outChannels && stride === 1) {
      return [{ ...base, kind: 'identity', inChannels, outChannels, outSize, batchNorm: false, relu: false }];
    }
    return [{ ...base, kind: 'pointwise', inChannels, outChannels, outSize, stride, relu: true }];
  }
  const hidden = block.expansion * inChannels;
  const ops: Operator[] = [
    {
      ...base,
      kind: 'pointwise',
      inChannels,
      outChannels: hidden,
      outSize: inSize,
      groups: block.groups,
      relu: true,
    },
  ];
  if (block.groups > 1) {
    ops.push({
      ...base,
      kind: 'shuffle',
      inChannels: hidden,
      outChannels: hidden,
      outSize: inSize,
      groups: block.groups,
      batchNorm: false,
      relu: false,
    });
  }
  const padding = depthwisePadding(block.kernel, stride);
  ops.push({
    ...base,
    kind: 'depthwise',
    inChannels: hidden,
    outChannels: hidden,
    outSize: convOutputSize(inSize, block.kernel, stride, padding),
    kernel: block.kernel,
    stride,
    padding,
    groups: hidden,
    relu: true,
  });
  ops.push({
    ...base,
    kind: 'pointwise',
    inChannels: hidden,
    outChannels,
    inSize: outSize,
    outSize,
    groups: block.groups,
    relu: false,
  });
  if (inChannels === outChannels && stride === 1) {
    ops.push(residualAdd(layer, outChannels, outSize));
  }
  return ops;
}

/** The stem: Conv3x3(3 -> 16) + BN + ReLU, stride 1 on CIFAR, 2 on ImageNet. */
export function stemOperator(setting: FbnetSetting): Operator {
  return {
    kind: 'conv',
    layer: -1,
    inChannels: 3,
    outChannels: STEM_CHANNELS,
    inSize: setting.inputSize,
    outSize: stemOutputSize(setting),
    kernel: 3,
    stride: setting.stemStride,
    padding: 1,
    groups: 1,
    batchNorm: true,
    relu: true,
  };
}

/** The head: Conv1x1(352 -> 1504 or 1984) + BN + ReLU on the last layer's map. */
export function headOperator(setting: FbnetSetting): Operator {
  const last = layerShapes(setting).at(-1)!;
  const size = convOutputSize(last.inSize, 1, last.stride, 0);
  return {
    kind: 'pointwise',
    layer: -1,
    inChannels: last.outChannels,
    outChannels: setting.headChannels,
    inSize: size,
    outSize: size,
    kernel: 1,
    stride: 1,
    padding: 0,
    groups: 1,
    batchNorm: true,
    relu: true,
  };
}

/** The whole network's operators in execution order (the classifier excepted). */
export function networkOperators(arch: FbnetArch, setting: FbnetSetting): Operator[] {
  return [stemOperator(setting), ...bodyOperators(arch, setting), headOperator(setting)];
}

/** Every operator of the 22 searchable layers, layer by layer (stem and head excluded). */
export function bodyOperators(arch: FbnetArch, setting: FbnetSetting): Operator[] {
  return layerShapes(setting).flatMap((shape) =>
    blockOperators(FBNET_BLOCK_SPECS[arch[shape.layer]!]!, shape),
  );
}

/** Raised for a malformed FBNet architecture string; says which layer, what was found, what is accepted. */
export class FbnetParseError extends UsageError {
  override name = 'FbnetParseError';
}

/** Parses the 22 block names joined by `-`, layer 1 first (the shared table's `arch` column). */
export function parseFbnetArch(text: string): FbnetArch {
  return parseBlockNames(text, {
    blocks: FBNET_BLOCKS,
    layers: LAYER_COUNT,
    shortName: 'FBNet',
    parseError: FbnetParseError,
  });
}

export function formatFbnetArch(arch: FbnetArch): string {
  return arch.map((block) => FBNET_BLOCKS[block]).join('-');
}
