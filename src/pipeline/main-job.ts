// The main job's measuring half (`simnas measure`, the action's warm-up): fingerprint this machine
// and measure a set of cells with the live protocol.
import { UsageError } from '../errors.js';
import { hardwareFingerprint, type HardwareFingerprint } from '../hardware/fingerprint.js';
import {
  DEFAULT_MEASURE_OPTIONS,
  measureCells,
  type MeasureOptions,
  type MeasurementResult,
  validateMeasureOptions,
} from '../hardware/measure.js';
import { buildNb201Model } from '../hardware/nb201-model.js';
import { defaultSampleCells, randomSampleCells } from '../hardware/sample-cells.js';
import type { Cell } from '../spaces/nb201/cell.js';
import type { Logger } from '../util/log.js';

/** Where the measured cells came from. */
export type CellSource = 'default' | 'given' | 'random';

export interface MainJobOptions extends Partial<MeasureOptions> {
  /** Cells to measure; default: the 10 default sample cells of the dataset. */
  readonly cells?: readonly Cell[];
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
): { cells: Cell[]; source: CellSource } {
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
  const fingerprint = await hardwareFingerprint();
  logger.info(`hardware ${fingerprint.tag} [${fingerprint.hash}]`);
  const measurement = await logger.group(`measuring ${cells.length} cell(s) on ${fingerprint.tag}`, () =>
    measureCells(cells, measureOptions, {
      buildModel: buildNb201Model,
      logger,
      interactiveProgress: options.interactiveProgress,
    }),
  );
  return { fingerprint, cellSource: source, measurement };
}
