// The full FBNet network as ONNX (stem, 22 layers, head, classifier) for one architecture and
// setting: the definition's operator list handed to the shared layered-network builder. Grouped
// 1x1 convolutions are ONNX Conv with `group`, the channel shuffle Reshape-Transpose-Reshape.
import { buildLayeredGraph, type LayeredGraph, type LayeredNetworkSpec } from '../layered-network.js';
import { type FbnetArch, type FbnetSetting, formatFbnetArch, networkOperators } from './definition.js';

export interface FbnetNetworkOptions {
  readonly batchSize?: number;
  readonly seed?: number;
}

/** What the builder needs for this architecture and setting. */
export function fbnetNetworkSpec(
  arch: FbnetArch,
  setting: FbnetSetting,
  options: FbnetNetworkOptions = {},
): LayeredNetworkSpec {
  return {
    name: 'fbnet',
    description: `FBNet (HW-NAS-Bench) network ${formatFbnetArch(arch)}, ${setting.name}`,
    inputSize: setting.inputSize,
    classes: setting.classes,
    batchSize: options.batchSize ?? 1,
    seed: options.seed ?? 0,
    operators: networkOperators(arch, setting),
  };
}

/** The network as an editable graph, with where each operator's weights sit. */
export function buildFbnetGraph(
  arch: FbnetArch,
  setting: FbnetSetting,
  options: FbnetNetworkOptions = {},
): LayeredGraph {
  return buildLayeredGraph(fbnetNetworkSpec(arch, setting, options));
}
