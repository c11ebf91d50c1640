// Benchmark of the live measurement protocol's repeatability: the same random cells measured twice,
// independently (fresh sessions, one full measurement after the other), compared by rank
// (Spearman rho) and by value (median relative difference). Also reports the wall time per cell,
// everything included (network build, session creation, warm-up, timing, release).
// Reads no ground truth. Targets on a 2-core machine: rho >= 0.98, median |relative
// difference| <= 3%, <= 1.5 s per cell.
import { hardwareFingerprint, type HardwareFingerprint } from '../hardware/fingerprint.js';
import {
  DEFAULT_MEASURE_OPTIONS,
  measureCells,
  type MeasureOptions,
  type MeasurementProtocol,
} from '../hardware/measure.js';
import { randomSampleCells } from '../hardware/sample-cells.js';
import { spaceById } from '../spaces/index.js';
import { formatCell } from '../spaces/nb201/cell.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import type { Logger } from '../util/log.js';
import { median, spearman } from '../util/stats.js';

export interface MeasureBenchOptions {
  readonly cells: number;
  readonly seed: number;
  readonly dataset: Dataset;
  /** Protocol overrides (threads, rounds, ...); defaults are the CLI's. */
  readonly measure?: Partial<MeasureOptions>;
}

export const MEASURE_BENCH_TARGETS = {
  minSpearman: 0.98,
  maxMedianRelativeDifference: 0.03,
  maxWallMsPerCell: 1500,
} as const;

export interface MeasureBenchRow {
  readonly cell: string;
  readonly firstMs: number;
  readonly secondMs: number;
  /** |first - second| / mean(first, second). */
  readonly relativeDifference: number;
}

export interface MeasureBenchResult {
  readonly fingerprint: HardwareFingerprint;
  readonly protocol: MeasurementProtocol;
  readonly rows: readonly MeasureBenchRow[];
  readonly spearman: number;
  readonly medianRelativeDifference: number;
  /** Wall time of each pass divided by the number of cells. */
  readonly wallMsPerCell: readonly [number, number];
  readonly noisyCells: readonly [number, number];
  /** Cores other processes kept busy during each pass's timing (see MeasurementProtocol). */
  readonly backgroundCores: readonly [number, number];
  readonly targets: typeof MEASURE_BENCH_TARGETS;
  readonly targetsMet: {
    readonly spearman: boolean;
    readonly relativeDifference: boolean;
    readonly wall: boolean;
  };
}

/** |a - b| relative to their mean; symmetric, so neither pass is privileged. */
export function relativeDifference(a: number, b: number): number {
  const center = (a + b) / 2;
  return center > 0 ? Math.abs(a - b) / center : 0;
}

export async function runMeasureBench(
  options: MeasureBenchOptions,
  logger: Logger,
): Promise<MeasureBenchResult> {
  const measureOptions: MeasureOptions = {
    ...DEFAULT_MEASURE_OPTIONS,
    ...options.measure,
    dataset: options.dataset,
    seed: options.seed,
  };
  const cells = randomSampleCells(options.cells, options.seed);
  const fingerprint = await hardwareFingerprint();
  logger.info(
    `measure bench: ${cells.length} random cells (seed ${options.seed}) on ${fingerprint.tag}, twice`,
  );
  const hooks = { space: spaceById('nb201'), logger };
  const first = await logger.group('pass 1', () => measureCells(cells, measureOptions, hooks));
  const second = await logger.group('pass 2', () => measureCells(cells, measureOptions, hooks));
  const rows = cells.map((cell, index): MeasureBenchRow => {
    const firstMs = first.cells[index]!.medianMs;
    const secondMs = second.cells[index]!.medianMs;
    return {
      cell: formatCell(cell),
      firstMs,
      secondMs,
      relativeDifference: relativeDifference(firstMs, secondMs),
    };
  });
  const rho = spearman(
    rows.map((row) => row.firstMs),
    rows.map((row) => row.secondMs),
  );
  const medianDifference = median(rows.map((row) => row.relativeDifference));
  const wallMsPerCell: [number, number] = [first.wallMs / cells.length, second.wallMs / cells.length];
  return {
    fingerprint,
    protocol: first.protocol,
    rows,
    spearman: rho,
    medianRelativeDifference: medianDifference,
    wallMsPerCell,
    noisyCells: [first.cells.filter((c) => c.noisy).length, second.cells.filter((c) => c.noisy).length],
    backgroundCores: [first.protocol.backgroundCores, second.protocol.backgroundCores],
    targets: MEASURE_BENCH_TARGETS,
    targetsMet: {
      spearman: rho >= MEASURE_BENCH_TARGETS.minSpearman,
      relativeDifference: medianDifference <= MEASURE_BENCH_TARGETS.maxMedianRelativeDifference,
      wall: Math.max(...wallMsPerCell) <= MEASURE_BENCH_TARGETS.maxWallMsPerCell,
    },
  };
}

export function formatMeasureBench(result: MeasureBenchResult): string {
  const mark = (met: boolean): string => (met ? 'met' : 'MISSED');
  const lines = result.rows.map(
    (row) =>
      `  ${row.firstMs.toFixed(3).padStart(8)} ${row.secondMs.toFixed(3).padStart(8)} ` +
      `${(row.relativeDifference * 100).toFixed(1).padStart(5)}%  ${row.cell}`,
  );
  return [
    `hardware ${result.fingerprint.tag} [${result.fingerprint.hash}]`,
    `  pass 1   pass 2   |diff|  cell (median ms per run)`,
    ...lines,
    `Spearman rho between passes: ${result.spearman.toFixed(4)} (target >= ${result.targets.minSpearman}: ${mark(result.targetsMet.spearman)})`,
    `median |relative difference|: ${(result.medianRelativeDifference * 100).toFixed(2)}% ` +
      `(target <= ${result.targets.maxMedianRelativeDifference * 100}%: ${mark(result.targetsMet.relativeDifference)})`,
    `wall time per cell incl. build and session creation: ${result.wallMsPerCell.map((ms) => (ms / 1000).toFixed(2)).join(' s / ')} s ` +
      `(target <= ${result.targets.maxWallMsPerCell / 1000} s: ${mark(result.targetsMet.wall)})`,
    `background load: ${result.backgroundCores.map((cores) => cores.toFixed(2)).join(' / ')} of ` +
      `${result.protocol.logicalCores} cores busy with other processes during pass 1 / pass 2`,
    `noisy cells: ${result.noisyCells.join(' / ')}; protocol: ${result.protocol.warmupRuns} warm-up, ` +
      `${result.protocol.rounds} rounds, visits >= ${result.protocol.minVisitMs} ms, ${result.protocol.threads} thread(s), ${result.protocol.provider}`,
  ].join('\n');
}
