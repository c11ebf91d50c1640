// The precomputed proxy table: our own values for every effective cell and dataset, committed as
// data/proxy-table.jsonl. Line 1 is the metadata (generator, settings, coverage, normalisation
// bounds); every further line is one effective cell: [code, then naswot, synflow, logsynflow for
// each dataset in DATASETS order], naswot null for -Infinity. Lines can be appended while a build
// runs, so an interrupted build leaves a valid, partial table; cells it does not cover are computed
// on demand. Values are keyed by the effective cell: every cell with the same live edges shares
// one row (see init by position in src/spaces/nb201/network.ts).
import { readFileSync } from 'node:fs';

import { UsageError } from '../../../errors.js';
import { SPACE_SIZE, allCells, decodeCell, effectiveCell, encodeCell, isConnected } from '../cell.js';
import { DATASETS, type Dataset } from '../datasets.js';
import { SIMNAS_VERSION } from '../../../version.js';
import { boundsOf, cellFeatures, normaliserOf, type ScoreBounds, type ScoreNormaliser } from './score.js';
import { packageFile } from '../../../util/package-files.js';
import { quotePath } from '../../../util/quote.js';

/** Bump whenever a proxy's computation changes: tables with another value are stale. */
export const PROXY_ALGORITHM = 'simnas-proxies-1';
export const TABLE_FILE_NAME = 'proxy-table.jsonl';
export const VALUES_PER_DATASET = 3;

/** What the values depend on besides the cell; a table is used only when these match. */
export interface TableSettings {
  readonly seeds: readonly number[];
  readonly batchSize: number;
  /** Synthetic generator id and seed (the table is never built from a user's folder). */
  readonly images: string;
  readonly imageSeed: number;
}

export interface TableMetadata {
  readonly kind: 'simnas-proxy-table';
  readonly algorithm: string;
  readonly simnasVersion: string;
  readonly settings: TableSettings;
  readonly columns: readonly string[];
  readonly network: string;
  readonly generated: {
    readonly startedAt: string;
    readonly updatedAt: string;
    readonly node: string;
    readonly platform: string;
    readonly cpuSeconds?: number;
  };
  readonly coverage: {
    readonly effectiveCells: number;
    readonly effectiveCellsTotal: number;
    readonly cells: number;
    readonly cellsTotal: number;
  };
  readonly bounds: Readonly<Record<Dataset, ScoreBounds>>;
}

export interface TableRowValues {
  readonly naswot: number;
  readonly synflow: number;
  readonly logsynflow: number;
}

export const TABLE_COLUMNS: readonly string[] = [
  'effective_cell_code',
  ...DATASETS.flatMap((d) => [`${d}.naswot`, `${d}.synflow`, `${d}.logsynflow`]),
];

/** The committed table next to the package (data/), found from src/ or from the dist/ bundle. */
export function defaultTablePath(): string {
  return packageFile('data', TABLE_FILE_NAME);
}

/** Effective-cell codes of the whole space, each once, in code order (9,445 of them). */
export function effectiveCodes(): number[] {
  const codes = new Set<number>();
  for (const cell of allCells()) codes.add(encodeCell(effectiveCell(cell)));
  return [...codes].sort((a, b) => a - b);
}

export class ProxyTable {
  private readonly rowBounds: Readonly<Record<Dataset, ScoreBounds>>;
  private readonly rowNormalisers: Readonly<Record<Dataset, ScoreNormaliser>>;

  constructor(
    readonly metadata: TableMetadata,
    private readonly rows: ReadonlyMap<number, Float64Array>,
  ) {
    this.rowBounds = boundsOfRows(rows);
    this.rowNormalisers = normalisersOfRows(rows, metadata.settings.batchSize);
  }

  /**
   * Min and max of naswot and logsynflow over the connected rows of `dataset` (for FreeREA's
   * min-max rule). Recomputed from the rows rather than read from the metadata, which a running
   * build only refreshes at the end; for a finished table the two agree.
   */
  bounds(dataset: Dataset): ScoreBounds {
    return this.rowBounds[dataset];
  }

  /** The distributions the task score ranks against: connected cells, each row weighted by its cells. */
  normaliser(dataset: Dataset): ScoreNormaliser {
    return this.rowNormalisers[dataset];
  }

  get size(): number {
    return this.rows.size;
  }

  /** Effective-cell codes present. */
  codes(): number[] {
    return [...this.rows.keys()];
  }

  /** Values of `cell` (any cell; looked up by its effective cell), or undefined if not covered. */
  lookup(code: number, dataset: Dataset): TableRowValues | undefined {
    const row = this.rows.get(encodeCell(effectiveCell(decodeCell(code))));
    if (!row) return undefined;
    const at = DATASETS.indexOf(dataset) * VALUES_PER_DATASET;
    return { naswot: row[at]!, synflow: row[at + 1]!, logsynflow: row[at + 2]! };
  }

  /** True when values computed under `settings` would equal this table's. */
  matches(settings: TableSettings): boolean {
    return this.metadata.algorithm === PROXY_ALGORITHM && sameSettings(this.metadata.settings, settings);
  }

  /** True when the image-free proxies (synflow, logsynflow) are valid under `settings`. */
  matchesWeights(settings: TableSettings): boolean {
    return (
      this.metadata.algorithm === PROXY_ALGORITHM &&
      this.metadata.settings.seeds.join(',') === settings.seeds.join(',')
    );
  }
}

export function sameSettings(a: TableSettings, b: TableSettings): boolean {
  return (
    a.seeds.join(',') === b.seeds.join(',') &&
    a.batchSize === b.batchSize &&
    a.images === b.images &&
    a.imageSeed === b.imageSeed
  );
}

/** Parses a table file; UsageError naming the file and line when it is not one. */
export function readTable(path: string): ProxyTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `proxy table ${quotePath(path)}: cannot read it (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  if (lines.length === 0) throw new UsageError(`proxy table ${quotePath(path)}: the file is empty`);
  const metadata = parseLine(path, 1, lines[0]!) as TableMetadata;
  if (metadata?.kind !== 'simnas-proxy-table') {
    throw new UsageError(`proxy table ${quotePath(path)}: line 1 is not simnas proxy-table metadata`);
  }
  const rows = new Map<number, Float64Array>();
  const width = TABLE_COLUMNS.length;
  for (let i = 1; i < lines.length; i++) {
    const row = parseLine(path, i + 1, lines[i]!);
    if (!Array.isArray(row) || row.length !== width) {
      throw new UsageError(
        `proxy table ${quotePath(path)} line ${i + 1}: expected an array of ${width} values`,
      );
    }
    const code = row[0];
    if (
      !Number.isInteger(code) ||
      code < 0 ||
      code >= SPACE_SIZE ||
      encodeCell(effectiveCell(decodeCell(code))) !== code
    ) {
      throw new UsageError(
        `proxy table ${quotePath(path)} line ${i + 1}: '${String(code)}' is not an effective-cell code`,
      );
    }
    rows.set(
      code,
      Float64Array.from(row.slice(1), (v: unknown) => (v === null ? Number.NEGATIVE_INFINITY : Number(v))),
    );
  }
  return new ProxyTable(metadata, rows);
}

function parseLine(path: string, line: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `proxy table ${quotePath(path)} line ${line}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** One row as written: the code, then values with -Infinity as null, 12 significant digits. */
export function formatRow(code: number, values: readonly number[]): string {
  const cells = values.map((v) => (Number.isFinite(v) ? Number(v.toPrecision(12)) : null));
  return JSON.stringify([code, ...cells]);
}

/** How many of the 15,625 cells share each effective cell. */
let cellsPerEffective: Map<number, number> | undefined;
function cellCount(code: number): number {
  if (!cellsPerEffective) {
    cellsPerEffective = new Map();
    for (const cell of allCells()) {
      const key = encodeCell(effectiveCell(cell));
      cellsPerEffective.set(key, (cellsPerEffective.get(key) ?? 0) + 1);
    }
  }
  return cellsPerEffective.get(code) ?? 0;
}

function normalisersOfRows(
  rows: ReadonlyMap<number, Float64Array>,
  batchSize: number,
): Record<Dataset, ScoreNormaliser> {
  const live = [...rows.entries()].filter(([code]) => isConnected(decodeCell(code)));
  return Object.fromEntries(
    DATASETS.map((dataset, d) => {
      const at = d * VALUES_PER_DATASET;
      const cells = live.map(([code, row]) => ({
        features: cellFeatures(decodeCell(code), dataset),
        values: { naswot: row[at]!, synflow: row[at + 1]!, logsynflow: row[at + 2]!, skip: 0 },
        weight: cellCount(code),
      }));
      return [dataset, normaliserOf(cells, dataset, batchSize)];
    }),
  ) as Record<Dataset, ScoreNormaliser>;
}

/** Min and max of naswot and logsynflow per dataset over the connected cells among `rows`. */
function boundsOfRows(rows: ReadonlyMap<number, Float64Array>): Record<Dataset, ScoreBounds> {
  const live = [...rows.entries()].filter(([code]) => isConnected(decodeCell(code))).map(([, row]) => row);
  return Object.fromEntries(
    DATASETS.map((dataset, d) => {
      const at = d * VALUES_PER_DATASET;
      return [
        dataset,
        {
          naswot: boundsOf(live.map((row) => row[at]!)),
          logsynflow: boundsOf(live.map((row) => row[at + 2]!)),
        },
      ];
    }),
  ) as Record<Dataset, ScoreBounds>;
}

/** Metadata describing `rows` (coverage and normalisation bounds recomputed from them). */
export function describeRows(
  rows: ReadonlyMap<number, Float64Array>,
  settings: TableSettings,
  generated: TableMetadata['generated'],
): TableMetadata {
  let cells = 0;
  for (let code = 0; code < SPACE_SIZE; code++) {
    if (rows.has(encodeCell(effectiveCell(decodeCell(code))))) cells++;
  }
  const bounds = boundsOfRows(rows);
  return {
    kind: 'simnas-proxy-table',
    algorithm: PROXY_ALGORITHM,
    simnasVersion: SIMNAS_VERSION,
    settings,
    columns: TABLE_COLUMNS,
    network:
      'NB201 C=16 N=5, pruned to live edges, Kaiming-normal fan_in init per position (src/spaces/nb201/network.ts); ' +
      'naswot: BN with batch statistics, float32 onnxruntime; synflow/logsynflow: BN bypassed, |weights|, ' +
      'all-ones input, float64',
    generated,
    coverage: {
      effectiveCells: rows.size,
      effectiveCellsTotal: effectiveCodes().length,
      cells,
      cellsTotal: SPACE_SIZE,
    },
    bounds,
  };
}
