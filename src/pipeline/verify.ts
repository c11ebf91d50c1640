// Stage 2, last step: verify the best candidates by measuring them, one at a time, refitting the
// latency model after each, and apply the recommendation rule to what was measured.
import type { Device } from '../devices/device.js';
import { LIVE_REPEATABILITY } from '../devices/live.js';
import { fitLatencyModel, type LatencyModel } from '../devices/latency-model.js';
import { recommend, type Recommendation, type VerifiedCell } from '../search/recommend.js';
import type { Evaluations } from '../search/strategies.js';
import {
  bestCertified,
  certifiedThresholdMs,
  chooseCandidates,
  computesSomething,
  DEFAULT_MARGIN_Z,
  LAST_CHANCE_MIN_PASS,
  SELECTION_BIAS_SDS,
} from '../search/verification.js';
import type { Architecture } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import { median } from '../util/stats.js';
import { predictionFloor } from './adapt.js';
import type { AdaptedDevice, MeasuredCell, VerifyOptions } from './types.js';

/** The measured cells with the relative sd of their measurement, where it is known per cell. */
export function withNoise(
  samples: readonly MeasuredCell[],
  verified: readonly VerifiedCell[],
  noise: number | ReadonlyMap<number, number>,
): { samples: MeasuredCell[]; verified: (VerifiedCell & Pick<MeasuredCell, 'relativeNoise'>)[] } {
  const noiseOf = (code: number): { relativeNoise?: number } => {
    const value = typeof noise === 'number' ? undefined : noise.get(code);
    return value === undefined ? {} : { relativeNoise: value };
  };
  return {
    samples: samples.map((cell) => ({ ...cell, ...noiseOf(cell.code) })),
    verified: verified.map((cell) => ({ ...cell, ...noiseOf(cell.code) })),
  };
}

/** One noise level for cells not measured yet: the median of those seen so far, or the live floor. */
export function typicalNoise(noise: number | ReadonlyMap<number, number>): number {
  if (typeof noise === 'number') return noise;
  return noise.size > 0 ? median([...noise.values()]) : LIVE_REPEATABILITY;
}

/**
 * Chooses the candidates to measure among the evaluated cells (the set with the best expected
 * certified score, see src/search/verification.ts), measures them and applies the
 * recommendation rule. The best sample already certified competes without a new measurement.
 */
export async function verifyCandidates(
  device: Device,
  adapted: AdaptedDevice,
  evaluations: Evaluations,
  options: VerifyOptions,
  logger: Logger,
): Promise<{
  verified: VerifiedCell[];
  measurementsSpent: number;
  measured: Map<number, number>;
  recommendation: Recommendation;
}> {
  const { space } = options;
  const architectureOf = options.architectureOf ?? ((code: number) => space.fromCode(code));
  const usable = (code: number): boolean => space.isUsable(architectureOf(code));
  const marginZ = options.marginZ ?? DEFAULT_MARGIN_Z;
  const noiseNow = (): number | ReadonlyMap<number, number> =>
    typeof options.noise === 'number' ? options.noise : options.noise();
  const measured = new Map(adapted.samples.map((s) => [s.code, s.measuredMs]));
  // One at a time: each outcome tells the next choice whether to be bolder or safer, and the
  // search stops early once no unmeasured cell could beat the best certified one.
  const toMeasure: number[] = [];
  let measurementsSpent = 0;
  let predicted = adapted.predicted;
  // Cells worth re-predicting after a refit: plausible under the sample fit (the refit moves
  // predictions by a fraction of their sd, not by many sds), so a refit costs milliseconds.
  const plausible = [...evaluations.keys()].filter(
    (code) =>
      !Number.isNaN(options.scores[code]!) &&
      adapted.predicted.mean[code]! - 3 * adapted.predicted.std[code]! <= options.budgetMs,
  );
  // Without a budget the knee is what the target was drawn around: it is measured first.
  const kneeFirst = options.knee !== undefined && !measured.has(options.knee) ? options.knee : undefined;
  while (toMeasure.length < options.verify) {
    const noise = noiseNow();
    // The last measurement with no candidate certified yet: a likely pass beats one more bold bet.
    const lastChance =
      toMeasure.length === options.verify - 1 &&
      !toMeasure.some(
        (code) => measured.get(code)! <= certifiedThresholdMs(options.budgetMs, code, { noise, marginZ }),
      );
    const [next] =
      toMeasure.length === 0 && kneeFirst !== undefined
        ? [kneeFirst]
        : chooseCandidates({
            pool: evaluations.keys(),
            scores: options.scores,
            predicted,
            budgetMs: options.budgetMs,
            count: 1,
            margin: { noise, marginZ },
            expectedNoise: typicalNoise(noise),
            measured,
            usable,
            selectionBiasSds: SELECTION_BIAS_SDS,
            ...(lastChance ? { minPass: LAST_CHANCE_MIN_PASS } : {}),
          });
    if (next === undefined) break;
    const result = await logger.group(
      `verifying candidate ${toMeasure.length + 1} by measuring it: ${space.format(architectureOf(next))}`,
      () => device.measure([architectureOf(next)]),
    );
    toMeasure.push(next);
    measured.set(next, result.latenciesMs[0]!);
    measurementsSpent += result.measurementsSpent;
    if (options.refitDataset && toMeasure.length < options.verify) {
      // Only cells that could still beat the best certified one are candidates from here on.
      const floor =
        bestCertified(measured, options.scores, options.budgetMs, { noise: noiseNow(), marginZ }, usable)
          ?.score ?? -Infinity;
      const contenders = plausible.filter((code) => options.scores[code]! > floor && !measured.has(code));
      const fit =
        options.fitModel ??
        ((samples: { cells: Architecture[]; latenciesMs: number[] }) =>
          fitLatencyModel(samples, { dataset: options.refitDataset }));
      predicted = refitPredictions(architectureOf, measured, contenders, adapted.predicted, fit);
    }
  }
  const margin = { noise: noiseNow(), marginZ };
  // The best certified sample competes for free; with none, the fastest sample is the fallback
  // (among samples that compute something, unless none does).
  const scored = adapted.samples.filter((s) => !Number.isNaN(options.scores[s.code]!));
  const computing = scored.filter((s) => computesSomething(s.code, options.scores, usable));
  const extra =
    bestCertified(
      new Map(scored.map((s) => [s.code, s.measuredMs])),
      options.scores,
      options.budgetMs,
      margin,
      usable,
    )?.code ??
    (computing.length > 0 ? computing : scored).reduce<MeasuredCell | undefined>(
      (fastest, s) => (!fastest || s.measuredMs < fastest.measuredMs ? s : fastest),
      undefined,
    )?.code;
  // A knee that was one of the samples (so not measured first) competes as a sample of its own.
  const kneeSample =
    options.knee !== undefined && kneeFirst === undefined && options.knee !== extra ? [options.knee] : [];
  const candidates = [
    ...toMeasure.map((code) => ({ code, source: 'verification' as const })),
    ...[...(extra !== undefined ? [extra] : []), ...kneeSample].map((code) => ({
      code,
      source: 'sample' as const,
    })),
  ];
  const verified: VerifiedCell[] = candidates.map(({ code, source }) => ({
    code,
    cell: space.format(architectureOf(code)),
    measuredMs: measured.get(code)!,
    predictedMs: adapted.predicted.mean[code]!,
    predictedStdMs: adapted.predicted.std[code]!,
    taskScore: options.scores[code]!,
    source,
  }));
  return {
    verified,
    measurementsSpent,
    measured,
    recommendation: recommend(verified, options.budgetMs, margin, options.knee),
  };
}

/** Predictions of a model refitted to every measurement so far, for `codes`; others keep `base`. */
function refitPredictions(
  architectureOf: (code: number) => Architecture,
  measured: ReadonlyMap<number, number>,
  codes: readonly number[],
  base: AdaptedDevice['predicted'],
  fit: (samples: { cells: Architecture[]; latenciesMs: number[] }) => LatencyModel,
): AdaptedDevice['predicted'] {
  const codesMeasured = [...measured.keys()];
  const model = fit({
    cells: codesMeasured.map(architectureOf),
    latenciesMs: codesMeasured.map((c) => measured.get(c)!),
  });
  const mean = Float64Array.from(base.mean);
  const std = Float64Array.from(base.std);
  const floor = predictionFloor(measured.values());
  for (const code of codes) {
    const prediction = model.predict(architectureOf(code));
    mean[code] = Math.max(prediction.meanMs, floor);
    std[code] = prediction.stdMs;
  }
  return { mean, std };
}
