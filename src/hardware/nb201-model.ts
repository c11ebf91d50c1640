// Adapter from the NB201 network builder to the measurement protocol: the network a device runs
// for a cell is the deployed (pruned) macro network, dead edges removed, at a static batch size.
import { buildNetwork } from '../spaces/nb201/network.js';
import type { Cell } from '../spaces/nb201/cell.js';
import type { MeasurableModel, ModelRequest } from './measure.js';

export function buildNb201Model(cell: Cell, request: ModelRequest): MeasurableModel {
  const network = buildNetwork(cell, {
    dataset: request.dataset,
    batchSize: request.batchSize,
    seed: request.seed,
    prune: true,
  });
  return { bytes: network.bytes, inputName: network.input.name, inputShape: network.input.dims };
}
