// Measuring architectures of any search space on this machine: the fingerprint, the architectures
// (given, or a seeded random sample), and one run of the measurement protocol through the space's
// own networks. measureArchitectures is the one measure flow: `simnas measure --space` reaches it
// through measureSpaceSample, NB201's main job (with its designed default sample) through the
// pipeline's runMainJob.
import { UsageError } from '../errors.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import { type HardwareFingerprint, hardwareFingerprint } from './fingerprint.js';
import {
  measureCells,
  type MeasureOptions,
  type MeasurementResult,
  validateMeasureOptions,
} from './measure.js';
import { randomSampleArchitectures } from './sample-cells.js';

/** Architectures measured when none are given and no sample size is (the paper's 10 probes). */
export const DEFAULT_SPACE_SAMPLE = 10;

export interface SpaceMeasureJob {
  readonly space: SearchSpace;
  readonly architectures?: readonly Architecture[];
  /** Measure this many random architectures (drawn under the measurement seed) instead. */
  readonly sample?: number;
  readonly measure: MeasureOptions;
  readonly interactiveProgress?: boolean;
}

export interface SpaceMeasureResult {
  readonly space: string;
  readonly fingerprint: HardwareFingerprint;
  readonly cellSource: 'given' | 'random';
  readonly measurement: MeasurementResult;
}

export interface ArchitecturesMeasureJob {
  readonly space: SearchSpace;
  readonly architectures: readonly Architecture[];
  /** Validated measurement settings. */
  readonly measure: MeasureOptions;
  /** How the progress group names what it measures, e.g. "10 cell(s)". */
  readonly what: string;
  readonly interactiveProgress?: boolean;
}

/** Fingerprints this machine and measures `architectures` with one run of the live protocol. */
export async function measureArchitectures(
  job: ArchitecturesMeasureJob,
  logger: Logger,
): Promise<{ fingerprint: HardwareFingerprint; measurement: MeasurementResult }> {
  const fingerprint = await hardwareFingerprint();
  logger.info(`hardware ${fingerprint.tag} [${fingerprint.hash}]`);
  const measurement = await logger.group(`measuring ${job.what} on ${fingerprint.tag}`, () =>
    measureCells(job.architectures, job.measure, {
      space: job.space,
      logger,
      ...(job.interactiveProgress !== undefined ? { interactiveProgress: job.interactiveProgress } : {}),
    }),
  );
  return { fingerprint, measurement };
}

export async function measureSpaceSample(job: SpaceMeasureJob, logger: Logger): Promise<SpaceMeasureResult> {
  const { space } = job;
  const given = job.architectures ?? [];
  if (given.length > 0 && job.sample !== undefined) {
    throw new UsageError('give either architectures or a sample size, not both');
  }
  // A dataset the space does not have fails here, before anything slow.
  if (!space.datasets.includes(job.measure.dataset)) {
    throw new UsageError(
      `unknown dataset '${job.measure.dataset}' for the ${space.id} space; expected one of ${space.datasets.join(', ')}`,
    );
  }
  const measure = validateMeasureOptions(job.measure);
  const architectures =
    given.length > 0
      ? [...given]
      : randomSampleArchitectures(space, job.sample ?? DEFAULT_SPACE_SAMPLE, measure.seed);
  const { fingerprint, measurement } = await measureArchitectures(
    {
      space,
      architectures,
      measure,
      what: `${architectures.length} ${space.id} architecture(s)`,
      ...(job.interactiveProgress !== undefined ? { interactiveProgress: job.interactiveProgress } : {}),
    },
    logger,
  );
  return { space: space.id, fingerprint, cellSource: given.length > 0 ? 'given' : 'random', measurement };
}
