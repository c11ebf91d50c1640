// The device a search runs against, built from its spec: this machine (optionally answering from
// a warm cache first) or a recorded table column replayed with noise.
import type { Device } from '../devices/device.js';
import { LiveDevice } from '../devices/live.js';
import { RecordedDevice } from '../devices/recorded.js';
import { ReusingDevice } from '../devices/reusing.js';
import type { Numbering } from '../spaces/numbering.js';
import type { Logger } from '../util/log.js';
import type { DeviceSpec } from './types.js';

export function createDevice(
  spec: DeviceSpec,
  numbering: Numbering,
  dataset: string,
  seed: number,
  logger: Logger,
): Device {
  const { space } = numbering;
  if (spec.kind === 'table')
    return RecordedDevice.fromCsv(spec.path, spec.column, space, { noise: spec.noise, seed });
  const live = new LiveDevice({
    space,
    numberOf: (architecture) => numbering.numberOf(architecture),
    measure: { ...spec.measure, dataset, seed },
    logger,
  });
  // Earlier measurements are kept by code: only an enumerable space's numbers mean the same across runs.
  return spec.reuse && spec.reuse.size > 0 && space.enumerable
    ? new ReusingDevice(space, live, spec.reuse, spec.reuseNoise)
    : live;
}
