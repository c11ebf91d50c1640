// FBNet behind the SearchSpace interface: 22 layers x 9 blocks, the shared table's text form,
// the CIFAR-100 setting first (the shared latency table's) and ImageNet's.
import { layeredSpace } from '../layered-space.js';
import {
  bodyOperators,
  FBNET_BLOCKS,
  FBNET_REFERENCES,
  FBNET_SETTINGS,
  FbnetParseError,
  LAYER_COUNT,
  layerShapes,
  networkOperators,
} from './definition.js';

export const fbnetSpace = layeredSpace({
  id: 'fbnet',
  title: 'FBNet (HW-NAS-Bench)',
  shortName: 'FBNet',
  blocks: FBNET_BLOCKS,
  layers: LAYER_COUNT,
  settings: [FBNET_SETTINGS.cifar100, FBNET_SETTINGS.imagenet],
  operators: networkOperators,
  bodyOperators,
  layerColumns(layer, setting) {
    const shape = layerShapes(setting)[layer]!;
    return {
      stage: shape.stage + 1,
      channels: `${shape.inChannels}->${shape.outChannels}`,
      stride: shape.stride,
      input: `${shape.inSize}x${shape.inSize}`,
    };
  },
  references: FBNET_REFERENCES,
  publicForm: (architecture, setting) => ({
    definition: "HW-NAS-Bench's FBNet_Infer (hw_nas_bench_api/fbnet_models)",
    config: { op_idx_list: architecture, num_classes: setting.classes, dataset: setting.name },
  }),
  parseError: FbnetParseError,
});
