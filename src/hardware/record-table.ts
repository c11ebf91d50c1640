// Records this machine's latency for every cell of the space into a table of the wide shape the
// recorded devices replay (`index,arch_str,<column>`), so that a team can benchmark the latency
// model and the search on their own hardware (`simnas bench latency|search --table`) or replay it
// with `--device table:CSV:COLUMN`. Each distinct network (effective cell: dead edges pruned, as
// the live device builds it) is measured once, in chunks that are each one interleaved protocol
// run; the file is rewritten after every chunk, and a rerun measures only what is still missing.
import { existsSync, renameSync, writeFileSync } from 'node:fs';

import { readLatencyTable } from '../devices/recorded.js';
import { UsageError } from '../errors.js';
import { allCells, decodeCell, effectiveCell, encodeCell, formatCell, SPACE_SIZE } from '../space/cell.js';
import { ensureWritableFile } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { measureCells, type MeasureOptions } from './measure.js';
import { buildNb201Model } from './nb201-model.js';
import { quote, quoteList, quotePath } from '../util/quote.js';

export interface RecordTableOptions {
  readonly out: string;
  /** The device column's name. */
  readonly column: string;
  /** Distinct networks per protocol run (and between two writes of the file). */
  readonly chunk: number;
  /** Stop after this many new networks (a partial table is still a uniform sample). */
  readonly limit?: number;
  readonly measure: MeasureOptions;
}

export interface RecordTableResult {
  readonly out: string;
  readonly column: string;
  /** Distinct networks measured by this call, and in the file in all. */
  readonly measuredNow: number;
  readonly networksDone: number;
  readonly networksTotal: number;
  /** Cells of the space with a latency in the file, of all the space's cells. */
  readonly cellsDone: number;
  readonly cellsTotal: number;
  readonly wallMs: number;
}

/** Cells grouped by the network they deploy as: effective cell code -> every cell code sharing it. */
function networks(): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const cell of allCells()) {
    const key = encodeCell(effectiveCell(cell));
    const codes = groups.get(key);
    if (codes) codes.push(encodeCell(cell));
    else groups.set(key, [encodeCell(cell)]);
  }
  return groups;
}

/** The first line of a recorded table: the settings its latencies were measured under. */
const SETTINGS_PREFIX = 'simnas measure-table:';

/** The measurement settings that change latencies, as the table records them (key=value). */
function settingsOf(measure: MeasureOptions): Record<string, string> {
  return {
    dataset: measure.dataset,
    batch: String(measure.batchSize),
    threads: String(measure.threads),
    provider: measure.provider.trim().toLowerCase(),
    warmup: String(measure.warmupRuns),
    rounds: String(measure.rounds),
  };
}

const formatSettings = (settings: Record<string, string>): string =>
  Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');

/** The settings a table's comment line records, or undefined when it has none. */
function recordedSettings(comments: readonly string[]): Record<string, string> | undefined {
  const line = comments.find((comment) => comment.startsWith(SETTINGS_PREFIX));
  if (line === undefined) return undefined;
  return Object.fromEntries(
    line
      .slice(SETTINGS_PREFIX.length)
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
}

/**
 * Latencies by cell code (NaN = not measured) of an earlier run of the same column under the same
 * settings, if any. Another column, or other settings, would mix two devices in one column.
 */
function earlierLatencies(options: RecordTableOptions, logger: Logger): Float64Array {
  const { out, column } = options;
  if (!existsSync(out)) return new Float64Array(SPACE_SIZE).fill(Number.NaN);
  const table = readLatencyTable(out);
  const values = table.latencies.get(column);
  if (!values || table.columns.length !== 1) {
    // measure-table writes one column per file: a multi-column table is never resumed in place.
    const fix =
      table.columns.length === 1
        ? `pass --column ${table.columns[0]!} to resume it, or another --out`
        : 'pass another --out (measure-table writes one device column per file)';
    throw new UsageError(
      `--out ${quotePath(out)} exists with the column(s) ${quoteList(table.columns)}; resuming needs ` +
        `exactly the one column ${quote(column)}: ${fix}`,
    );
  }
  const wanted = settingsOf(options.measure);
  const recorded = recordedSettings(table.comments);
  if (recorded === undefined) {
    logger.warn(
      `${out} records no measurement settings (an older table?): resuming it as if measured with ${formatSettings(wanted)}`,
    );
  } else if (formatSettings(recorded) !== formatSettings(wanted)) {
    throw new UsageError(
      `--out ${quotePath(out)} was measured with ${formatSettings(recorded)}; this run asks for ` +
        `${formatSettings(wanted)}: resuming would mix the two in one column. Pass the same options, or another --out`,
    );
  }
  return Float64Array.from(values);
}

function writeTable(out: string, column: string, latencies: Float64Array, measure: MeasureOptions): void {
  const lines = [`# ${SETTINGS_PREFIX} ${formatSettings(settingsOf(measure))}`, `index,arch_str,${column}`];
  for (let code = 0; code < SPACE_SIZE; code++) {
    const value = latencies[code]!;
    lines.push(`${code},${formatCell(decodeCell(code))},${Number.isNaN(value) ? '' : value.toPrecision(6)}`);
  }
  // Written beside and renamed, so an interrupted write never leaves half a table to resume from.
  writeFileSync(`${out}.partial`, `${lines.join('\n')}\n`);
  renameSync(`${out}.partial`, out);
}

export async function recordLatencyTable(
  options: RecordTableOptions,
  logger: Logger,
): Promise<RecordTableResult> {
  if (!/^[A-Za-z0-9_.-]+$/.test(options.column)) {
    throw new UsageError(
      `column name ${quote(options.column)} is not accepted; use letters, digits, '_', '.' or '-' (e.g. xeon_2c_cifar10)`,
    );
  }
  // Its folder is created here, once, by a check that cannot hang where recursive mkdir does (/proc).
  ensureWritableFile(options.out, '--out');
  const started = performance.now();
  const latencies = earlierLatencies(options, logger);
  // Written once before measuring, so a path that cannot be written is refused before any work.
  try {
    writeTable(options.out, options.column, latencies, options.measure);
  } catch (error) {
    throw new UsageError(
      `--out ${quotePath(options.out)}: cannot write the table there (${error instanceof Error ? error.message : String(error)}); ` +
        'pass a file in a folder that can be created or written',
    );
  }
  const groups = networks();
  // A seeded random order: load drifting during a long run spreads over the space as noise
  // instead of biasing one kind of cell, and a partial table is a uniform sample.
  const pending = new Random(options.measure.seed)
    .child('record-table')
    .shuffled([...groups.keys()].sort((a, b) => a - b))
    .filter((key) => Number.isNaN(latencies[groups.get(key)![0]!]!))
    .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
  logger.info(
    `${pending.length} networks to measure now; ${countDone(latencies, groups)} of ${groups.size} ` +
      `already in ${options.out}`,
  );
  const progress = createProgress({ label: 'latency table', total: pending.length, logger });
  let measuredNow = 0;
  try {
    for (let start = 0; start < pending.length; start += options.chunk) {
      const keys = pending.slice(start, start + options.chunk);
      const result = await measureCells(
        keys.map((key) => decodeCell(key)),
        options.measure,
        { buildModel: buildNb201Model },
      );
      for (const latency of result.cells) {
        for (const code of groups.get(latency.code)!) latencies[code] = latency.medianMs;
      }
      measuredNow += keys.length;
      writeTable(options.out, options.column, latencies, options.measure);
      progress.tick(keys.length);
    }
  } finally {
    progress.done();
  }
  const networksDone = countDone(latencies, groups);
  return {
    out: options.out,
    column: options.column,
    measuredNow,
    networksDone,
    networksTotal: groups.size,
    cellsDone: latencies.filter((v) => !Number.isNaN(v)).length,
    cellsTotal: SPACE_SIZE,
    wallMs: performance.now() - started,
  };
}

function countDone(latencies: Float64Array, groups: ReadonlyMap<number, readonly number[]>): number {
  let done = 0;
  for (const codes of groups.values()) if (!Number.isNaN(latencies[codes[0]!]!)) done++;
  return done;
}
