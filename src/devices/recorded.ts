// Recorded devices: replay a latency table of the wide shape `index,arch_str,<one column per
// device>` (rows keyed by `arch_str`, empty cell = not available), for any column name, with
// optional seeded multiplicative noise so that replaying imitates measuring.
import { readFileSync } from 'node:fs';

import { type Cell, encodeCell, formatCell, parseCell, SPACE_SIZE } from '../spaces/nb201/cell.js';
import { UsageError } from '../errors.js';
import { Random } from '../util/random.js';
import type { Device, Measurement } from './device.js';
import { quote, quoteList, quotePath } from '../util/quote.js';

/** A parsed wide latency table: one Float64Array per device column, indexed by cell code, NaN = no data. */
export interface LatencyTable {
  readonly source: string;
  readonly columns: readonly string[];
  readonly latencies: ReadonlyMap<string, Float64Array>;
  /** The `# ...` lines above the header, without the '#' (measure-table's settings line is one). */
  readonly comments: readonly string[];
}

const TABLE_SHAPE = "a header 'index,arch_str,<device columns>'";

/** Splits one CSV line into fields, honouring double quotes ("" inside quotes is a quote). */
export function splitCsvLine(line: string, where: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      wasQuoted = false;
    } else if (ch === '"' && field.length === 0 && !wasQuoted) {
      quoted = true;
      wasQuoted = true;
    } else if (wasQuoted) {
      throw new UsageError(
        `${where}: unexpected ${quote(ch)} after a closing quote; quote whole fields only`,
      );
    } else {
      field += ch;
    }
  }
  if (quoted) throw new UsageError(`${where}: unterminated quoted field (fields cannot span lines)`);
  fields.push(field);
  return fields;
}

/** Parses a wide latency table; every problem names the file, the row and the column. */
export function parseLatencyTable(text: string, source: string): LatencyTable {
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
  const archColumn = header.indexOf('arch_str');
  if (archColumn < 0) {
    throw new UsageError(
      `${headerWhere} has no 'arch_str' column (found: ${quoteList(header)}); expected ${TABLE_SHAPE}`,
    );
  }
  const deviceColumns = header.flatMap((name, i) =>
    i === archColumn || name === 'index' || name === '' ? [] : [i],
  );
  const latencies = new Map<string, Float64Array>();
  for (const i of deviceColumns) latencies.set(header[i]!, new Float64Array(SPACE_SIZE).fill(Number.NaN));
  const seenAt = new Map<number, number>();
  for (let r = headerRow + 1; r < lines.length; r++) {
    const rowNumber = r + 1;
    const where = `${source}: row ${rowNumber}`;
    const fields = splitCsvLine(lines[r]!, where);
    if (fields.length !== header.length) {
      throw new UsageError(`${where}: ${fields.length} fields, the header has ${header.length}`);
    }
    let cell: Cell;
    try {
      cell = parseCell(fields[archColumn]!);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UsageError(`${where}, column 'arch_str': ${why}`);
    }
    const code = encodeCell(cell);
    const earlier = seenAt.get(code);
    if (earlier !== undefined)
      throw new UsageError(
        `${where}, column 'arch_str': cell ${formatCell(cell)} already given in row ${earlier}`,
      );
    seenAt.set(code, rowNumber);
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
  return { source, columns: deviceColumns.map((i) => header[i]!), latencies, comments };
}

export function readLatencyTable(path: string): LatencyTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read latency table ${quotePath(path)}: ${why}`);
  }
  return parseLatencyTable(text, path);
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
    options: RecordedOptions,
  ) {
    this.noise = options.noise ?? 0;
    if (!(this.noise >= 0 && this.noise < 1)) {
      throw new UsageError(`noise ${this.noise} is out of range; expected a fraction in [0, 1), e.g. 0.03`);
    }
    this.random = new Random(options.seed ?? 0).child(`recorded:${name}`);
  }

  static fromCsv(path: string, column: string, options: RecordedOptions = {}): RecordedDevice {
    return RecordedDevice.fromTable(readLatencyTable(path), column, options);
  }

  static fromTable(table: LatencyTable, column: string, options: RecordedOptions = {}): RecordedDevice {
    const values = table.latencies.get(column);
    if (!values) {
      throw new UsageError(
        `${table.source}: no column ${quote(column)}; the device columns are: ${table.columns.join(', ')}`,
      );
    }
    return new RecordedDevice(column, table.source, values, options);
  }

  measurementNoise(): number {
    return this.noise;
  }

  /** True latencies (ms) by cell code, NaN where the table has no data. */
  allLatencies(): Float64Array {
    return this.values;
  }

  hasData(cell: Cell): boolean {
    return !Number.isNaN(this.values[encodeCell(cell)]!);
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

  async measure(cells: readonly Cell[]): Promise<Measurement> {
    const latenciesMs = Float64Array.from(cells, (cell) => {
      const value = this.values[encodeCell(cell)]!;
      if (Number.isNaN(value)) {
        throw new UsageError(
          `${this.source}: column '${this.name}' has no latency for cell ${formatCell(cell)}`,
        );
      }
      return this.noise > 0 ? value * Math.exp(this.noise * this.random.normal()) : value;
    });
    return { latenciesMs, measurementsSpent: cells.length };
  }
}
