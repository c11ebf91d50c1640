// NAS-Bench-Macro behind the SearchSpace interface: 8 layers x 3 blocks (6,561 networks, so the
// fitted model can be searched exhaustively); keys are the published 8-digit `code`.
import { layeredSpace } from '../layered-space.js';
import {
  LAYER_COUNT,
  MACRO_BLOCKS,
  MACRO_SETTING,
  MacroParseError,
  macroBodyOperators,
  macroLayerShapes,
  macroNetworkOperators,
} from './definition.js';

export const macroSpace = layeredSpace({
  id: 'macro',
  title: 'NAS-Bench-Macro',
  shortName: 'NAS-Bench-Macro',
  blocks: MACRO_BLOCKS,
  layers: LAYER_COUNT,
  settings: [MACRO_SETTING],
  operators: macroNetworkOperators,
  bodyOperators: macroBodyOperators,
  layerColumns(layer, setting) {
    const shape = macroLayerShapes(setting)[layer]!;
    return {
      stage: shape.stage + 1,
      channels: `${shape.inChannels}->${shape.outChannels}`,
      stride: shape.stride,
      input: `${shape.inSize}x${shape.inSize}`,
    };
  },
  // The space's two uniform networks: no published design lives in it (its best-trained network is
  // ground truth, which the pipeline does not know).
  references: (['ir_3x3_t3', 'ir_5x5_t6'] as const).map((block) => ({
    name: `all ${block}`,
    architecture: Array<string>(LAYER_COUNT).fill(block).join('-'),
    source: 'the uniform network of one NAS-Bench-Macro block',
  })),
  publicForm: (architecture, setting) => ({
    definition: "NAS-Bench-Macro's Network (xiusu/NAS-Bench-Macro, train/model.py)",
    config: { arch: architecture, num_classes: setting.classes },
  }),
  parseError: MacroParseError,
});
