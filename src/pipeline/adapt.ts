// Stage 2, first step: measure the designed sample cells on the device and fit the latency model
// to them (or reuse a cached fit of the very same samples).
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Device } from '../devices/device.js';
import type { LatencyModel } from '../devices/latency-model.js';
import { RecordedDevice } from '../devices/recorded.js';
import { deviceModelOf } from '../devices/space-model.js';
import { numberingOf, type Numbering } from '../spaces/numbering.js';
import type { SearchSpace } from '../spaces/space.js';
import { ensureWritableFolder } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import type { AdaptationRecord, AdaptationReuse, AdaptedDevice, LatencyFitSummary } from './types.js';

/** Measures the designed sample cells on `device` and fits the latency model to them. */
export async function adaptToDevice(
  device: Device,
  options: {
    space: SearchSpace;
    dataset: string;
    samples: number;
    seed?: number;
    outDir?: string;
    adaptation?: AdaptationReuse;
    /** How architectures are numbered (default: the space's codes, or numbers given as met). */
    numbering?: Numbering;
  },
  logger: Logger,
): Promise<AdaptedDevice> {
  const numbering = options.numbering ?? numberingOf(options.space);
  const deviceModel = deviceModelOf(options.space);
  let sampleCells = deviceModel.design(options.samples, options.dataset);
  const hasData = device.hasData?.bind(device);
  if (device instanceof RecordedDevice) device.requireCells(options.samples);
  if (hasData && !sampleCells.every(hasData)) {
    logger.info(
      `${device.name} has no latency for some designed sample cells: designing among the cells it has`,
    );
    sampleCells = deviceModel.design(options.samples, options.dataset, hasData);
  }
  const measurement = await logger.group(`measuring ${sampleCells.length} sample architectures`, () =>
    device.measure(sampleCells),
  );
  const samples = sampleCells.map((cell, i) => ({
    code: numbering.numberOf(cell),
    cell: options.space.format(cell),
    measuredMs: measurement.latenciesMs[i]!,
  }));
  // Written before anything else can fail, so the measurements are never lost.
  writePartial(options.outDir, 'samples.json', { dataset: options.dataset, seed: options.seed, samples });
  const pairs = samples.map((sample) => [sample.code, sample.measuredMs] as const);
  const earlier = options.adaptation?.reuse;
  // Numbers mean the same in another run only where they are the space's codes.
  const reused =
    options.space.enumerable &&
    earlier?.dataset === options.dataset &&
    earlier.samples.length === pairs.length &&
    earlier.samples.every(([code, ms], i) => code === pairs[i]![0] && ms === pairs[i]![1]);
  let record: AdaptationRecord;
  let model: LatencyModel | undefined;
  if (reused) {
    record = earlier;
    logger.info('latency model: the same samples as a cached fit, reusing it');
  } else {
    model = deviceModel.fit(
      { cells: sampleCells, latenciesMs: [...measurement.latenciesMs] },
      options.dataset,
    );
    const fit: LatencyFitSummary = {
      looMapePercent: model.looError.mape,
      looRmseMs: model.looError.rmseMs,
      noiseSd: model.parameters.noiseSd,
      modeWeights: model.parameters.modeWeights,
    };
    record = {
      dataset: options.dataset,
      samples: pairs,
      fit,
      predicted: flooredPrediction(predictNumbered(model, numbering), pairs),
    };
  }
  logger.info(
    `latency model: leave-one-out error ${record.fit.looMapePercent.toFixed(1)}% over ${samples.length} samples`,
  );
  if (options.space.enumerable) options.adaptation?.onAdapted?.(record);
  return {
    samples,
    measurementsSpent: measurement.measurementsSpent,
    fit: record.fit,
    predicted: record.predicted,
    ...(model ? { model } : {}),
  };
}

/**
 * The model's predictions for every numbered architecture: all at once where the model can (an
 * enumerable space), else one by one for those numbered so far, after the first `from` (whose
 * predictions `base` already has).
 */
export function predictNumbered(
  model: LatencyModel,
  numbering: Numbering,
  base?: { mean: Float64Array; std: Float64Array },
): { mean: Float64Array; std: Float64Array } {
  if (model.predictAll) return model.predictAll();
  const mean = new Float64Array(numbering.size);
  const std = new Float64Array(numbering.size);
  const from = base ? Math.min(base.mean.length, numbering.size) : 0;
  if (base) {
    mean.set(base.mean.subarray(0, from));
    std.set(base.std.subarray(0, from));
  }
  for (let number = from; number < numbering.size; number++) {
    const prediction = model.predict(numbering.architectureOf(number));
    mean[number] = prediction.meanMs;
    std[number] = prediction.stdMs;
  }
  return { mean, std };
}

/**
 * A linear latency model can predict near or below zero for cells far from every sample when a fit
 * is poor (a loaded machine, an odd device). No network is cheaper than its fixed part, and the
 * design always measures some of the cheapest cells, so half the fastest measured sample is a safe
 * floor: without it a knee target or a budget check could be set by a prediction of 0.0002 ms.
 */
export const PREDICTION_FLOOR_FRACTION = 0.5;

export function predictionFloor(measuredMs: Iterable<number>): number {
  return PREDICTION_FLOOR_FRACTION * Math.min(...measuredMs);
}

export function flooredPrediction(
  predicted: { mean: Float64Array; std: Float64Array },
  samples: readonly (readonly [number, number])[],
): { mean: Float64Array; std: Float64Array } {
  const floor = predictionFloor(samples.map(([, ms]) => ms));
  return { mean: predicted.mean.map((m) => Math.max(m, floor)), std: predicted.std };
}

/** The task scores with NaN (never searched, verified or reported) where `device` has no latency. */
export function measurableScores(scores: Float64Array, device: Device, space: SearchSpace): Float64Array {
  const hasData = device.hasData?.bind(device);
  if (!hasData) return scores;
  return Float64Array.from(scores, (score, code) => (hasData(space.fromCode(code)) ? score : Number.NaN));
}

/** Writes what a run has so far, so a later failure loses none of it. */
export function writePartial(outDir: string | undefined, name: string, value: unknown): void {
  if (!outDir) return;
  ensureWritableFolder(outDir, '--out');
  writeFileSync(path.join(outDir, name), `${JSON.stringify(value, null, 2)}\n`);
}
