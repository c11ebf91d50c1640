// The layered spaces the latency benchmark and `devices design` know until the space registry
// (src/spaces/index.ts) serves them: FBNet, through its definition's operator list.
import {
  bodyOperators,
  FBNET_BLOCKS,
  FBNET_SETTINGS,
  type FbnetSetting,
  formatFbnetArch,
  LAYER_COUNT,
  parseFbnetArch,
} from '../spaces/fbnet/definition.js';
import type { Architecture } from '../spaces/space.js';
import { UsageError } from '../errors.js';
import type { LayeredSpace } from '../devices/layered-synthetic.js';

export interface BenchLayeredSpace extends LayeredSpace {
  readonly title: string;
  readonly datasets: readonly string[];
  parse(text: string): Architecture;
  format(architecture: Architecture): string;
}

export const FBNET_LAYERED: BenchLayeredSpace = {
  id: 'fbnet',
  title: 'FBNet (HW-NAS-Bench)',
  datasets: ['cifar100', 'imagenet'],
  positions: LAYER_COUNT,
  choices: Array.from({ length: LAYER_COUNT }, () => FBNET_BLOCKS),
  positionLabel: (position) => `layer ${position + 1}`,
  operators: (architecture, dataset) =>
    bodyOperators(architecture, FBNET_SETTINGS[dataset as FbnetSetting['name']]),
  parse: parseFbnetArch,
  format: formatFbnetArch,
};

export function layeredSpaceById(id: string): BenchLayeredSpace {
  if (id === 'fbnet') return FBNET_LAYERED;
  throw new UsageError(`unknown layered search space '${id}'; expected fbnet`);
}
