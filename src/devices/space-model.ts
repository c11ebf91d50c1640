// The device model of a search space: which architectures a new device is measured on (the design)
// and how the latency model is fitted to them. Spaces built of layers that list their operators
// (FBNet, NAS-Bench-Macro) share the layered model and its synthetic devices; a space without an
// operator list has its own (NB201's cell model). The pipeline asks this and never names a space.
import { defaultSampleCells } from '../hardware/sample-cells.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { DEFAULT_SAMPLE_COUNT, designSampleCells } from './design.js';
import { fitLatencyModel, type LatencyModel } from './latency-model.js';
import { designLayeredSamples, fitLayeredLatencyModel, layeredBank } from './layered-model.js';
import { DESIGNED_LAYERED_SAMPLES } from './layered-samples.js';

export interface SpaceDeviceModel {
  /**
   * The architectures a new device is measured on (designed under the prior), among those
   * `available` accepts where given (a recorded table with holes).
   */
  design(count: number, dataset: string, available?: (architecture: Architecture) => boolean): Architecture[];
  /** The latency model fitted to measured samples under the dataset's prior. */
  fit(
    samples: { cells: readonly Architecture[]; latenciesMs: readonly number[] },
    dataset: string,
  ): LatencyModel;
}

export function deviceModelOf(space: SearchSpace): SpaceDeviceModel {
  const operators = space.operators?.bind(space);
  if (operators) {
    const layered = { ...space, operators };
    return {
      design: (count, dataset) => {
        const written = DESIGNED_LAYERED_SAMPLES[`${space.id}/${dataset}`];
        return count === DEFAULT_SAMPLE_COUNT && written
          ? written.map((text) => space.parse(text))
          : [...designLayeredSamples(layered, count, { dataset })];
      },
      fit: (samples, dataset) =>
        fitLayeredLatencyModel(
          layered,
          { architectures: samples.cells, latenciesMs: samples.latenciesMs },
          { dataset, bank: layeredBank(layered, dataset) },
        ),
    };
  }
  return {
    design: (count, dataset, available) =>
      count === DEFAULT_SAMPLE_COUNT && !available
        ? defaultSampleCells(dataset)
        : [
            ...designSampleCells(count, {
              dataset,
              ...(available ? { available: (code: number) => available(space.fromCode(code)) } : {}),
            }),
          ],
    fit: (samples, dataset) =>
      fitLatencyModel(
        {
          cells: samples.cells as Parameters<typeof fitLatencyModel>[0]['cells'],
          latenciesMs: samples.latenciesMs,
        },
        { dataset },
      ),
  };
}
