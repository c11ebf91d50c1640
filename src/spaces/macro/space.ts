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
  parseError: MacroParseError,
});
