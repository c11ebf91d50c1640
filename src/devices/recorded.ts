// Recorded devices: replay a latency table of the wide shape `index,<arch column>,<one column per
// device>` (rows keyed by the space's architecture column: `arch_str` in NB201's tables, `arch` in
// FBNet's and NAS-Bench-Macro's and in what `measure-table --space S` writes; empty cell = not
// available), for any column name, with optional seeded multiplicative noise so that replaying
// imitates measuring.
import { readFileSync } from 'node:fs';

import { UsageError } from '../errors.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { splitCsvLine } from '../util/csv.js';
import { quote, quoteList, quotePath } from '../util/quote.js';
import { Random } from '../util/random.js';
import type { Device, Measurement } from './device.js';

/**
 * A parsed wide latency table: one Float64Array per device column, NaN = no data. In an
 * enumerable space the arrays are indexed by architecture code (every architecture has a slot);
 * elsewhere by the table's row order, the architectures listed in `architectures`.
 */
export interface LatencyTable {
  readonly source: string;
  readonly space: SearchSpace;
  readonly columns: readonly string[];
  readonly latencies: ReadonlyMap<string, Float64Array>;
  /** The `# ...` lines above the header, without the '#' (measure-table's settings line is one). */
  readonly comments: readonly string[];
  /** An architecture's slot in the latency arrays; undefined when the table has no row for it. */
  slot(architecture: Architecture): number | undefined;
}

const tableShape = (space: SearchSpace) => `a header 'index,${space.archColumn},<device columns>'`;

/** Parses a wide latency table of `space`'s architectures; every problem names the file, the row and the column. */
export function parseLatencyTable(text: string, source: string, space: SearchSpace): LatencyTable {
  const TABLE_SHAPE = tableShape(space);
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    throw new UsageError(
      `${source}: not a text file (binary data, a NUL byte at character ${nul}); expected a CSV table with ${TABLE_SHAPE}`,
    );
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const comments: string[] = [];
  while (lines[comments.length]?.startsWith('#')) comments.push(lines[comments.length]!.slice(1).trim());
  const headerRow = comments.length;
  if (lines.length === headerRow)
    throw new UsageError(`${source}: the file is empty; expected ${TABLE_SHAPE}`);
  const headerWhere = `${source}: row ${headerRow + 1} (header)`;
  const header = splitCsvLine(lines[headerRow]!, headerWhere).map((h) => h.trim());
  const archName = space.archColumn;
  const archColumn = header.indexOf(archName);
  if (archColumn < 0) {
    throw new UsageError(
      `${headerWhere} has no '${archName}' column (found: ${quoteList(header)}); expected ${TABLE_SHAPE}`,
    );
  }
  const deviceColumns = header.flatMap((name, i) =>
    i === archColumn || name === 'index' || name === '' ? [] : [i],
  );
  const rows = lines.length - headerRow - 1;
  const slots = space.enumerable ? space.size : rows;
  const latencies = new Map<string, Float64Array>();
  for (const i of deviceColumns) latencies.set(header[i]!, new Float64Array(slots).fill(Number.NaN));
  // The row each architecture (by key) was given in, and its slot.
  const seenAt = new Map<string, { readonly row: number; readonly slot: number }>();
  for (let r = headerRow + 1; r < lines.length; r++) {
    const rowNumber = r + 1;
    const where = `${source}: row ${rowNumber}`;
    const fields = splitCsvLine(lines[r]!, where);
    if (fields.length !== header.length) {
      throw new UsageError(`${where}: ${fields.length} fields, the header has ${header.length}`);
    }
    let architecture: Architecture;
    try {
      architecture = space.parse(fields[archColumn]!);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UsageError(`${where}, column '${archName}': ${why}`);
    }
    const key = space.key(architecture);
    const earlier = seenAt.get(key);
    if (earlier !== undefined)
      throw new UsageError(
        `${where}, column '${archName}': ${space.format(architecture)} already given in row ${earlier.row}`,
      );
    const code = space.enumerable ? space.code(architecture) : seenAt.size;
    seenAt.set(key, { row: rowNumber, slot: code });
    for (const i of deviceColumns) {
      const raw = fields[i]!.trim();
      if (raw === '') continue;
      // Decimal, with an exponent as numeric tools write small values (3.2e-05); never hex.
      const value = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(value) || value <= 0) {
        // A zero latency is no measurement: it would pass here and break the latency model later.
        throw new UsageError(
          `${where}, column ${quote(header[i]!)}: ${quote(raw)} is not a latency; expected a positive number of ms or an empty cell`,
        );
      }
      latencies.get(header[i]!)![code] = value;
    }
  }
  return {
    source,
    space,
    columns: deviceColumns.map((i) => header[i]!),
    latencies,
    comments,
    // An enumerable space's arrays have a slot for every code (NaN where no row gave it).
    slot: space.enumerable
      ? (architecture) => space.code(architecture)
      : (architecture) => seenAt.get(space.key(architecture))?.slot,
  };
}

export function readLatencyTable(path: string, space: SearchSpace): LatencyTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read latency table ${quotePath(path)}: ${why}`);
  }
  return parseLatencyTable(text, path, space);
}

export interface RecordedOptions {
  /** Multiplicative measurement noise sd (0.03 = 3%); 0 replays the table exactly. */
  readonly noise?: number;
  readonly seed?: number;
}

/** Replays one column of a latency table as a device. */
export class RecordedDevice implements Device {
  readonly kind = 'recorded' as const;
  private readonly random: Random;
  private readonly noise: number;

  private constructor(
    readonly name: string,
    readonly source: string,
    private readonly values: Float64Array,
    private readonly table: LatencyTable,
    options: RecordedOptions,
  ) {
    this.noise = options.noise ?? 0;
    if (!(this.noise >= 0 && this.noise < 1)) {
      throw new UsageError(`noise ${this.noise} is out of range; expected a fraction in [0, 1), e.g. 0.03`);
    }
    this.random = new Random(options.seed ?? 0).child(`recorded:${name}`);
  }

  /** Column `column` of the table at `path`, whose rows are architectures of `space`. */
  static fromCsv(
    path: string,
    column: string,
    space: SearchSpace,
    options: RecordedOptions = {},
  ): RecordedDevice {
    return RecordedDevice.fromTable(readLatencyTable(path, space), column, options);
  }

  static fromTable(table: LatencyTable, column: string, options: RecordedOptions = {}): RecordedDevice {
    const values = table.latencies.get(column);
    if (!values) {
      throw new UsageError(
        `${table.source}: no column ${quote(column)}; the device columns are: ${table.columns.join(', ')}`,
      );
    }
    return new RecordedDevice(column, table.source, values, table, options);
  }

  measurementNoise(): number {
    return this.noise;
  }

  /** True latencies (ms) by architecture code (enumerable spaces; else by row), NaN where the table has no data. */
  allLatencies(): Float64Array {
    return this.values;
  }

  /** The recorded latency of an architecture, NaN when the table has none. */
  private latencyOf(architecture: Architecture): number {
    const slot = this.table.slot(architecture);
    return slot === undefined ? Number.NaN : this.values[slot]!;
  }

  hasData(architecture: Architecture): boolean {
    return !Number.isNaN(this.latencyOf(architecture));
  }

  /** Refuses to draw `count` sample cells from a column with data for fewer cells. */
  requireCells(count: number): void {
    const available = this.availableCount();
    if (available < count) {
      throw new UsageError(
        `${this.source}: column '${this.name}' has data for ${available} cells, ` +
          `fewer than the ${count} samples requested (--samples)`,
      );
    }
  }

  /** Cells with data. */
  availableCount(): number {
    let count = 0;
    for (const value of this.values) if (!Number.isNaN(value)) count++;
    return count;
  }

  async measure(architectures: readonly Architecture[]): Promise<Measurement> {
    const latenciesMs = Float64Array.from(architectures, (architecture) => {
      const value = this.latencyOf(architecture);
      if (Number.isNaN(value)) {
        throw new UsageError(
          `${this.source}: column '${this.name}' has no latency for ${this.table.space.format(architecture)}`,
        );
      }
      return this.noise > 0 ? value * Math.exp(this.noise * this.random.normal()) : value;
    });
    return { latenciesMs, measurementsSpent: architectures.length };
  }
}
