// The NB201 network a device runs for a cell (the deployed, pruned macro network at a static batch
// size), as a measurement ModelBuilder. Measurement now builds through the space (`hooks.space`);
// this stays for callers that still pass a builder (devices/live.ts, pipeline.ts, review) until
// they name a space.
import { spaceById } from '../spaces/index.js';
import type { Architecture } from '../spaces/space.js';
import type { MeasurableModel, ModelRequest } from './measure.js';

export function buildNb201Model(cell: Architecture, request: ModelRequest): MeasurableModel {
  return spaceById('nb201').network(cell, request);
}
