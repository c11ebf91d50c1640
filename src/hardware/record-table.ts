// Records this machine's latency for architectures of a search space into a table of the wide
// shape the recorded devices replay (`index,<arch column>,<column>`: `arch_str` for NB201, `arch`
// for FBNet and NAS-Bench-Macro, as in their published tables), so that a team can benchmark the
// latency model and the search on their own hardware (`simnas bench latency|search --table`) or
// replay it with `--device table:CSV:COLUMN`. The rows are every architecture of an enumerable
// space, or those listed in the `arch` (or `arch_str`) column of a CSV (`--archs`, e.g. the 5,000
// of FBNet's shared table, whose `index` they keep). Each distinct network (what the space deploys:
// NB201 prunes dead edges) is measured once, in chunks that are each one interleaved protocol run;
// the file is rewritten after every chunk, and a rerun measures only what is still missing.
//
// The table's first line records the measurement settings (`# simnas measure-table: dataset=...`):
// a rerun under other settings is refused instead of mixing two devices in one column.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import { parseArchitectureField, splitCsvLine } from '../util/csv.js';
import { UsageError } from '../errors.js';
import { DEFAULT_SPACE_ID, spaceById } from '../spaces/index.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { ensureWritableFile } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { quote, quoteList, quotePath } from '../util/quote.js';
import { Random } from '../util/random.js';
import { measureCells, type MeasureOptions } from './measure.js';

export interface RecordTableOptions {
  readonly out: string;
  /** The device column's name. */
  readonly column: string;
  /** Distinct networks per protocol run (and between two writes of the file). */
  readonly chunk: number;
  /** Stop after this many new networks (a partial table is still a uniform sample). */
  readonly limit?: number;
  readonly measure: MeasureOptions;
  /** The space (default nb201). */
  readonly space?: SearchSpace;
  /** A CSV whose `arch` (or `arch_str`) column lists the architectures to record; required where the space cannot be enumerated. */
  readonly archs?: string;
}

export interface RecordTableResult {
  readonly out: string;
  readonly column: string;
  /** Distinct networks measured by this call, and in the file in all. */
  readonly measuredNow: number;
  readonly networksDone: number;
  readonly networksTotal: number;
  /** Architectures (rows) with a latency in the file, of all rows. */
  readonly cellsDone: number;
  readonly cellsTotal: number;
  readonly wallMs: number;
}

interface TableRow {
  readonly index: string;
  readonly architecture: Architecture;
}

/** Every architecture of an enumerable space in code order, or the rows of an `--archs` CSV. */
function tableRows(space: SearchSpace, archs: string | undefined): TableRow[] {
  if (archs === undefined) {
    if (!space.enumerable) {
      throw new UsageError(
        `the ${space.id} space has ${space.size.toPrecision(3)} architectures and cannot be recorded whole; ` +
          `pass --archs CSV with an 'arch' column listing the ones to measure`,
      );
    }
    return Array.from({ length: space.size }, (_, code) => ({
      index: String(code),
      architecture: space.fromCode(code),
    }));
  }
  let text: string;
  try {
    text = readFileSync(archs, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--archs ${quotePath(archs)}: cannot read it (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = splitCsvLine((lines[0] ?? '').replace(/^\uFEFF/, ''), `${archs}: row 1 (header)`).map((h) =>
    h.trim(),
  );
  const archAt = [space.archColumn, 'arch', 'arch_str']
    .map((name) => header.indexOf(name))
    .find((i) => i >= 0);
  if (archAt === undefined || lines.length < 2) {
    throw new UsageError(
      `--archs ${quotePath(archs)}: expected a header with an '${space.archColumn}' column and at least one row (found: ${header.join(', ')})`,
    );
  }
  const indexAt = header.indexOf('index');
  const seen = new Set<string>();
  return lines.slice(1).flatMap((line, r) => {
    const where = `${archs}: row ${r + 2}`;
    const fields = splitCsvLine(line, where);
    const architecture = parseArchitectureField(space, fields[archAt], where, header[archAt]!);
    const key = space.key(architecture);
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ index: indexAt >= 0 ? fields[indexAt]!.trim() : String(r), architecture }];
  });
}

/** Rows grouped by the network they deploy as: network key -> row numbers sharing it. */
function networks(space: SearchSpace, rows: readonly TableRow[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  rows.forEach((row, r) => {
    const key = space.key(space.deployed(row.architecture));
    const members = groups.get(key);
    if (members) members.push(r);
    else groups.set(key, [r]);
  });
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

/** The settings a table's comment lines record, or undefined when it has none. */
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
 * Latencies by row (NaN = not measured) of an earlier run of the same column under the same
 * settings, if any. Another column, or other settings, would mix two devices in one column.
 */
function earlierLatencies(
  space: SearchSpace,
  options: RecordTableOptions,
  rows: readonly TableRow[],
  logger: Logger,
): Float64Array {
  const { out, column } = options;
  const latencies = new Float64Array(rows.length).fill(Number.NaN);
  if (!existsSync(out)) return latencies;
  const all = readFileSync(out, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  const comments = all.filter((line) => line.startsWith('#')).map((line) => line.slice(1).trim());
  const lines = all.filter((line) => !line.startsWith('#'));
  const header = splitCsvLine(lines[0] ?? '', `${out}: row 1 (header)`).map((h) => h.trim());
  const archAt = header.indexOf(space.archColumn);
  const columns = header.filter((name, i) => i !== archAt && name !== 'index' && name !== '');
  const valueAt = header.indexOf(column);
  if (archAt < 0 || valueAt < 0 || columns.length !== 1) {
    // measure-table writes one column per file: a multi-column table is never resumed in place.
    const fix =
      columns.length === 1 && archAt >= 0
        ? `pass --column ${columns[0]!} to resume it, or another --out`
        : 'pass another --out (measure-table writes one device column per file)';
    throw new UsageError(
      `--out ${quotePath(out)} exists with the column(s) ${quoteList(columns)}; resuming needs ` +
        `exactly the one column ${quote(column)}: ${fix}`,
    );
  }
  const wanted = settingsOf(options.measure);
  const recorded = recordedSettings(comments);
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
  const rowOf = new Map(rows.map((row, r) => [space.key(row.architecture), r]));
  lines.slice(1).forEach((line, r) => {
    const fields = splitCsvLine(line, `${out}: row ${r + 2}`);
    const raw = fields[valueAt]?.trim() ?? '';
    const at = rowOf.get(space.key(space.parse(fields[archAt] ?? '')));
    if (raw !== '' && at !== undefined) latencies[at] = Number(raw);
  });
  return latencies;
}

function writeTable(
  space: SearchSpace,
  options: RecordTableOptions,
  rows: readonly TableRow[],
  latencies: Float64Array,
): void {
  const { out, column } = options;
  const lines = [
    `# ${SETTINGS_PREFIX} ${formatSettings(settingsOf(options.measure))}`,
    `index,${space.archColumn},${column}`,
  ];
  rows.forEach((row, r) => {
    const value = latencies[r]!;
    lines.push(
      `${row.index},${space.format(row.architecture)},${Number.isNaN(value) ? '' : value.toPrecision(6)}`,
    );
  });
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
  const space = options.space ?? spaceById(DEFAULT_SPACE_ID);
  const rows = tableRows(space, options.archs);
  const latencies = earlierLatencies(space, options, rows, logger);
  // Written once before measuring, so a path that cannot be written is refused before any work.
  try {
    writeTable(space, options, rows, latencies);
  } catch (error) {
    throw new UsageError(
      `--out ${quotePath(options.out)}: cannot write the table there (${error instanceof Error ? error.message : String(error)}); ` +
        'pass a file in a folder that can be created or written',
    );
  }
  const groups = networks(space, rows);
  // A seeded random order: load drifting during a long run spreads over the space as noise
  // instead of biasing one kind of cell, and a partial table is a uniform sample.
  const pending = new Random(options.measure.seed)
    .child('record-table')
    .shuffled(sortedKeys(space, rows, groups))
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
        keys.map((key) => deployedOf(space, rows, groups, key)),
        options.measure,
        { space },
      );
      result.cells.forEach((latency, i) => {
        for (const r of groups.get(keys[i]!)!) latencies[r] = latency.medianMs;
      });
      measuredNow += keys.length;
      writeTable(space, options, rows, latencies);
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
    cellsTotal: rows.length,
    wallMs: performance.now() - started,
  };
}

/**
 * Network keys in a fixed order before shuffling: by integer code in enumerable spaces (NB201's
 * order since its first tables, so a seed still gives the same measuring order), else as text.
 */
function sortedKeys(
  space: SearchSpace,
  rows: readonly TableRow[],
  groups: ReadonlyMap<string, readonly number[]>,
): string[] {
  const keys = [...groups.keys()];
  if (!space.enumerable) return keys.sort();
  const codeOf = new Map(keys.map((key) => [key, space.code(deployedOf(space, rows, groups, key))]));
  return keys.sort((a, b) => codeOf.get(a)! - codeOf.get(b)!);
}

/** The network a group of rows deploys as. */
function deployedOf(
  space: SearchSpace,
  rows: readonly TableRow[],
  groups: ReadonlyMap<string, readonly number[]>,
  key: string,
): Architecture {
  return space.deployed(rows[groups.get(key)![0]!]!.architecture);
}

function countDone(latencies: Float64Array, groups: ReadonlyMap<string, readonly number[]>): number {
  let done = 0;
  for (const codes of groups.values()) if (!Number.isNaN(latencies[codes[0]!]!)) done++;
  return done;
}
