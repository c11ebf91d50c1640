// The main job's measuring half (`simnas measure`, the action's warm-up): NB201's cells (given,
// random, or the dataset's designed default sample), measured by the one measure flow
// (hardware/measure-job.ts) with the live protocol.
import { UsageError } from '../errors.js';
import type { HardwareFingerprint } from '../hardware/fingerprint.js';
import {
  DEFAULT_MEASURE_OPTIONS,
  type MeasureOptions,
  type MeasurementResult,
  validateMeasureOptions,
} from '../hardware/measure.js';
import { measureArchitectures } from '../hardware/measure-job.js';
import { defaultSampleCells, randomSampleCells } from '../hardware/sample-cells.js';
import { DEFAULT_SPACE_ID, spaceById, type Architecture } from '../spaces/index.js';
import type { Logger } from '../util/log.js';

/** Where the measured cells came from. */
export type CellSource = 'default' | 'given' | 'random';

export interface MainJobOptions extends Partial<MeasureOptions> {
  /** Cells to measure; default: the 10 default sample cells of the dataset. */
  readonly cells?: readonly Architecture[];
  /** Draw this many random cells (under `seed`) instead of the default set. */
  readonly sample?: number;
  /** Progress bar on/off; default: on a TTY. */
  readonly interactiveProgress?: boolean;
}

export interface MainJobResult {
  readonly fingerprint: HardwareFingerprint;
  readonly cellSource: CellSource;
  readonly measurement: MeasurementResult;
}

/** Fills in defaults for every measurement setting the caller left out. */
export function measureOptionsFrom(options: MainJobOptions): MeasureOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([key, value]) => value !== undefined && key in DEFAULT_MEASURE_OPTIONS),
  ) as Partial<MeasureOptions>;
  return { ...DEFAULT_MEASURE_OPTIONS, ...defined };
}

export function selectCells(
  options: MainJobOptions,
  measure: MeasureOptions,
): { cells: Architecture[]; source: CellSource } {
  if (options.cells && options.cells.length > 0 && options.sample !== undefined) {
    throw new UsageError('give either cells or a sample size, not both');
  }
  if (options.cells && options.cells.length > 0) return { cells: [...options.cells], source: 'given' };
  if (options.sample !== undefined) {
    return { cells: randomSampleCells(options.sample, measure.seed), source: 'random' };
  }
  return { cells: defaultSampleCells(measure.dataset), source: 'default' };
}

export async function runMainJob(options: MainJobOptions, logger: Logger): Promise<MainJobResult> {
  // Validate before the slow parts so a bad provider or setting fails at once.
  const measureOptions = validateMeasureOptions(measureOptionsFrom(options));
  const { cells, source } = selectCells(options, measureOptions);
  const { fingerprint, measurement } = await measureArchitectures(
    {
      // The main job measures NB201 cells: its default sample is NB201's designed one.
      space: spaceById(DEFAULT_SPACE_ID),
      architectures: cells,
      measure: measureOptions,
      what: `${cells.length} cell(s)`,
      ...(options.interactiveProgress !== undefined
        ? { interactiveProgress: options.interactiveProgress }
        : {}),
    },
    logger,
  );
  return { fingerprint, cellSource: source, measurement };
}
