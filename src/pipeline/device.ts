// The device a search runs against, built from its spec: this machine (optionally answering from
// a warm cache first) or a recorded table column replayed with noise.
import type { Device } from '../devices/device.js';
import { LiveDevice } from '../devices/live.js';
import { RecordedDevice } from '../devices/recorded.js';
import { ReusingDevice } from '../devices/reusing.js';
import type { SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import type { DeviceSpec } from './types.js';

export function createDevice(
  spec: DeviceSpec,
  space: SearchSpace,
  dataset: string,
  seed: number,
  logger: Logger,
): Device {
  if (spec.kind === 'table')
    return RecordedDevice.fromCsv(spec.path, spec.column, space, { noise: spec.noise, seed });
  const live = new LiveDevice({ space, measure: { ...spec.measure, dataset, seed }, logger });
  return spec.reuse && spec.reuse.size > 0
    ? new ReusingDevice(space, live, spec.reuse, spec.reuseNoise)
    : live;
}
