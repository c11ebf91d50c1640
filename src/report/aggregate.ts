// Cross-hardware aggregation: merges the report.json files of several `simnas search` runs (one
// per runner in a release matrix, or collected by hand) into one table of what each machine should
// run. Reports are validated on the way in, because they come from other machines and other simnas
// versions; everything after reading is pure, so the table is testable without files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { errnoCode, UsageError } from '../errors.js';
import { DEFAULT_SPACE_ID, SPACE_IDS, spaceById } from '../spaces/index.js';
import { COMMENT_LIMIT } from './markdown.js';
import { REPORT_SCHEMA, REPORT_SCHEMA_VERSION } from './schema.js';
import { quotePath } from '../util/quote.js';

export const AGGREGATE_SCHEMA = 'simnas-aggregate';
export const AGGREGATE_SCHEMA_VERSION = 1;
export const REPORT_FILE = 'report.json';

/** Markers around the rendered section, so release notes can be updated in place on a re-run. */
export const SECTION_START = '<!-- simnas-aggregate -->';
export const SECTION_END = '<!-- /simnas-aggregate -->';

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

// Only the fields the table shows are required; the rest of a report may grow freely within
// schemaVersion 1 (zod drops unknown keys).
const reportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  schemaVersion: z.number().int().min(1),
  simnasVersion: z.string(),
  // A report names its space when it is not the default (reports before spaces are all NB201's).
  space: z.enum(SPACE_IDS as [string, ...string[]]).optional(),
  // One of the space's datasets (checked below, once the space is known).
  dataset: z.string(),
  seed: z.number().int(),
  strategy: z.string(),
  device: z.object({ kind: z.string(), name: z.string() }),
  fingerprint: z.object({ tag: z.string().min(1), hash: z.string().min(1) }).optional(),
  run: z.object({ hardwareTag: z.string().min(1) }).optional(),
  // Not required to be positive: a knee target comes from predictions, and a report that simnas
  // wrote is shown as it is rather than refused.
  budget: z.object({ ms: finite, source: z.enum(['given', 'knee']) }),
  measurements: z.object({
    samples: z.number().int().nonnegative(),
    verification: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
  recommendation: z.object({
    code: z.number().int(),
    cell: z.string(),
    measuredMs: finite,
    predictedMs: finite,
    predictedStdMs: finite,
    taskScore: finite,
    withinBudget: z.boolean(),
    // Absent in reports from before a sample could be told apart: those count as verified.
    source: z.enum(['verification', 'sample']).optional(),
  }),
});

/** One report, reduced to what the cross-hardware table needs. */
export interface AggregateRow {
  /** The file it came from. */
  readonly source: string;
  readonly hardwareTag: string;
  /** Fingerprint hash; absent for recorded (table) devices, which have no fingerprint. */
  readonly fingerprintHash?: string;
  readonly deviceKind: string;
  /** One of the report's space's datasets. */
  readonly dataset: string;
  readonly budgetMs: number;
  readonly budgetSource: 'given' | 'knee';
  readonly cell: string;
  readonly cellCode: number;
  readonly measuredMs: number;
  readonly predictedMs: number;
  readonly predictedStdMs: number;
  readonly taskScore: number;
  /**
   * The recommended cell is a sample (measured to fit the latency model), so its predicted value
   * is a fit to that measurement; false for a verified cell and for reports that do not say.
   */
  readonly recommendedSample: boolean;
  readonly withinBudget: boolean;
  readonly measurements: number;
  readonly strategy: string;
  readonly seed: number;
  readonly simnasVersion: string;
  /** Another report covers the same hardware (fingerprint hash, or device) and dataset. */
  readonly duplicate: boolean;
}

export interface Aggregate {
  readonly schema: typeof AGGREGATE_SCHEMA;
  readonly schemaVersion: number;
  /** Sorted by dataset, then hardware tag. */
  readonly rows: readonly AggregateRow[];
  /** What a reader must know before comparing rows: mixed datasets or budgets, duplicates. */
  readonly notes: readonly string[];
}

/** A report file's text with the path that names it in errors. */
export interface ReportText {
  readonly source: string;
  readonly text: string;
}

type UnduplicatedRow = Omit<AggregateRow, 'duplicate'>;

/** Validates one report.json; every error names the file and, where it can, the key. */
export function parseReport({ source, text }: ReportText): UnduplicatedRow {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not a simnas report (not JSON: ${(error as Error).message})`);
  }
  // Schema and version first, so a foreign file or a newer report gets a message that says so
  // rather than a list of keys it lacks.
  const header = z
    .object({ schema: z.unknown().optional(), schemaVersion: z.unknown().optional() })
    .safeParse(json);
  if (!header.success || header.data.schema !== REPORT_SCHEMA) {
    const schema = header.success ? header.data.schema : undefined;
    const found = schema === undefined ? 'no schema key' : `schema ${JSON.stringify(schema)}`;
    throw new UsageError(
      `${source} is not a simnas report (${found}; expected schema "${REPORT_SCHEMA}", the report.json that 'simnas search' writes)`,
    );
  }
  const version = header.data.schemaVersion;
  if (typeof version === 'number' && version > REPORT_SCHEMA_VERSION) {
    throw new UsageError(
      `${source}: report schemaVersion ${version} was written by a newer simnas; this simnas reads ` +
        `schemaVersion ${REPORT_SCHEMA_VERSION}. Upgrade simnas to aggregate it.`,
    );
  }
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(root)';
    throw new UsageError(`${source} is not a valid simnas report: key '${key}': ${issue.message}`);
  }
  const report = parsed.data;
  const space = spaceById(report.space ?? DEFAULT_SPACE_ID);
  if (!space.datasets.includes(report.dataset)) {
    throw new UsageError(
      `${source} is not a valid simnas report: key 'dataset': ${JSON.stringify(report.dataset)} is not a ` +
        `dataset of the ${space.id} space; expected one of ${space.datasets.join(', ')}`,
    );
  }
  const rec = report.recommendation;
  return {
    source,
    // The action's hardware tag (a runner label) names the row; else the fingerprint's own tag.
    hardwareTag:
      report.run?.hardwareTag ?? report.fingerprint?.tag ?? `${report.device.kind}:${report.device.name}`,
    ...(report.fingerprint ? { fingerprintHash: report.fingerprint.hash } : {}),
    deviceKind: report.device.kind,
    dataset: report.dataset,
    budgetMs: report.budget.ms,
    budgetSource: report.budget.source,
    cell: rec.cell,
    cellCode: rec.code,
    measuredMs: rec.measuredMs,
    predictedMs: rec.predictedMs,
    predictedStdMs: rec.predictedStdMs,
    taskScore: rec.taskScore,
    recommendedSample: rec.source === 'sample',
    withinBudget: rec.withinBudget,
    measurements: report.measurements.total,
    strategy: report.strategy,
    seed: report.seed,
    simnasVersion: report.simnasVersion,
  };
}

/** Two reports describe the same machine when their fingerprint hashes (or recorded devices) match. */
const hardwareIdentity = (row: UnduplicatedRow): string =>
  `${row.dataset}\u0000${row.fingerprintHash ?? `${row.deviceKind}:${row.hardwareTag}`}`;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Merges parsed reports into sorted, flagged rows with notes. Pure. */
export function aggregateReports(reports: readonly ReportText[]): Aggregate {
  if (reports.length === 0)
    throw new UsageError('no reports to aggregate; give report.json files or folders');
  const parsed = reports.map(parseReport);
  const counts = new Map<string, number>();
  for (const row of parsed) counts.set(hardwareIdentity(row), (counts.get(hardwareIdentity(row)) ?? 0) + 1);
  const rows = parsed
    .map((row) => ({ ...row, duplicate: counts.get(hardwareIdentity(row))! > 1 }))
    .sort(
      (a, b) =>
        compareText(a.dataset, b.dataset) ||
        compareText(a.hardwareTag, b.hardwareTag) ||
        compareText(a.fingerprintHash ?? '', b.fingerprintHash ?? '') ||
        compareText(a.source, b.source),
    );
  return { schema: AGGREGATE_SCHEMA, schemaVersion: AGGREGATE_SCHEMA_VERSION, rows, notes: notesFor(rows) };
}

const ms = (value: number): string => `${value.toPrecision(3)} ms`;
const budgetText = (row: AggregateRow): string => `${ms(row.budgetMs)} (${row.budgetSource})`;

function notesFor(rows: readonly AggregateRow[]): string[] {
  const notes: string[] = [];
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  if (datasets.length > 1) {
    notes.push(
      `Reports cover ${datasets.length} datasets (${datasets.join(', ')}); compare rows within a dataset only.`,
    );
  }
  const budgets = [...new Set(rows.map(budgetText))];
  if (budgets.length > 1) {
    const knee = rows.some((r) => r.budgetSource === 'knee')
      ? ' A knee target is chosen per machine from its own predicted front.'
      : '';
    notes.push(`Budgets differ between reports (${budgets.join(', ')}).${knee}`);
  }
  const duplicates = new Map<string, AggregateRow[]>();
  for (const row of rows.filter((r) => r.duplicate)) {
    const key = hardwareIdentity(row);
    duplicates.set(key, [...(duplicates.get(key) ?? []), row]);
  }
  for (const group of duplicates.values()) {
    const first = group[0]!;
    notes.push(
      `${group.length} reports for the same hardware ${first.hardwareTag}` +
        `${first.fingerprintHash ? ` (\`${first.fingerprintHash}\`)` : ''} on ${first.dataset}, ` +
        `all kept (reports carry no timestamp): ${group.map((r) => r.source).join(', ')}.`,
    );
  }
  const versions = [...new Set(rows.map((r) => r.simnasVersion))];
  if (versions.length > 1) notes.push(`Reports come from several simnas versions (${versions.join(', ')}).`);
  return notes;
}

// GFM splits table cells at every '|', even inside code spans (cell strings are full of them),
// unless it is escaped; inside a code span the escaped pipe renders as a plain '|'.
const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

function markdownRow(row: AggregateRow): string {
  const hardware =
    `${escapeCell(row.hardwareTag)}${row.fingerprintHash ? ` \`${row.fingerprintHash}\`` : ''}` +
    (row.duplicate ? ' ⚠️ duplicate' : '');
  return [
    '',
    hardware,
    row.dataset,
    budgetText(row),
    `\`${escapeCell(row.cell)}\``,
    `${ms(row.measuredMs)}${isTable(row) ? ' (table)' : ''}`,
    row.recommendedSample
      ? `fitted ${ms(row.predictedMs)} (a sample)`
      : `${ms(row.predictedMs)} ± ${ms(row.predictedStdMs)}`,
    row.taskScore.toFixed(4),
    row.withinBudget ? '✅ yes' : '⚠️ no',
    String(row.measurements),
    row.simnasVersion,
    '',
  ]
    .join(' | ')
    .trim();
}

/** A recorded device (`--device table:CSV:COLUMN`): its latencies are looked up, not measured. */
const isTable = (row: AggregateRow): boolean => row.deviceKind === 'table';

/**
 * What "measured" means in the table: a measurement on the hardware for live rows, a lookup with
 * simulated noise for table rows; only the kinds present are described.
 */
function measuredText(rows: readonly AggregateRow[]): string {
  const table =
    'a lookup in a recorded latency table (plus the simulated noise of the run), not a measurement made by that run';
  const live = 'a real measurement on that hardware';
  if (rows.every(isTable)) return `Measured latency is ${table},`;
  if (!rows.some(isTable)) return `Measured latency is ${live}`;
  return `Measured latency is ${live}; in rows marked (table) it is ${table},`;
}

function renderWith(aggregate: Aggregate, shownRows: number): string {
  const rows = aggregate.rows;
  const overBudget = rows.filter((r) => !r.withinBudget).length;
  const lines = [
    SECTION_START,
    `### simnas: recommended cells across ${rows.length} hardware report${rows.length === 1 ? '' : 's'}`,
    '',
    ...aggregate.notes.map((note) => `> ${note}`),
    ...(aggregate.notes.length > 0 ? [''] : []),
    '| hardware | dataset | budget | recommended cell | measured | predicted | task score | within budget | measurements | simnas |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.slice(0, shownRows).map(markdownRow),
    '',
  ];
  if (shownRows < rows.length) {
    lines.push(
      `_${rows.length - shownRows} more row(s) omitted to stay under ${COMMENT_LIMIT.toLocaleString('en-US')} characters; ` +
        `\`simnas aggregate --json\` lists them all._`,
      '',
    );
  }
  lines.push(
    `${measuredText(rows)} and decides "within budget"; predicted is the ` +
      `latency model's mean ± sd. Budget "knee" means none was given and the knee of the predicted front was the target.` +
      (overBudget > 0 ? ` ${overBudget} recommendation(s) measured over budget.` : ''),
    SECTION_END,
    '',
  );
  return lines.join('\n');
}

/** The cross-hardware table; rows are dropped from the end, with a note, to stay within `limit`. */
export function renderAggregateMarkdown(aggregate: Aggregate, limit = COMMENT_LIMIT): string {
  let low = 0;
  let high = aggregate.rows.length;
  if (renderWith(aggregate, high).length <= limit) return renderWith(aggregate, high);
  // Text length grows with the rows shown: binary-search the most that fit.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (renderWith(aggregate, mid).length <= limit) low = mid;
    else high = mid - 1;
  }
  const text = renderWith(aggregate, low);
  if (text.length > limit) {
    throw new UsageError(`the aggregate notes alone exceed ${limit} characters; aggregate fewer reports`);
  }
  return text;
}

/**
 * Puts `section` into `document` (e.g. release notes): replaces an earlier simnas section in
 * place, so re-running the workflow updates rather than repeats it, or appends one.
 */
export function spliceSection(document: string, section: string): string {
  const start = document.indexOf(SECTION_START);
  const end = start < 0 ? -1 : document.indexOf(SECTION_END, start);
  const body = section.trimEnd();
  if (start >= 0 && end >= 0) {
    return `${document.slice(0, start)}${body}${document.slice(end + SECTION_END.length)}`;
  }
  const head = document.trimEnd();
  return `${head}${head.length > 0 ? '\n\n' : ''}${body}\n`;
}

/**
 * Expands arguments into report files: a file is taken as is; a folder contributes its own
 * report.json and the report.json of each subfolder (the layout actions/download-artifact gives
 * several artifacts). The same file named twice is read once.
 */
export function findReportFiles(paths: readonly string[]): string[] {
  const found: string[] = [];
  for (const given of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(given).isDirectory();
    } catch (error) {
      throw new UsageError(`cannot read ${quotePath(given)}: ${errnoCode(error) ?? String(error)}`);
    }
    if (!isDirectory) {
      found.push(given);
      continue;
    }
    const inFolder = [given, ...subfolders(given)]
      .map((folder) => path.join(folder, REPORT_FILE))
      .filter(isFile);
    if (inFolder.length === 0) {
      throw new UsageError(`no ${REPORT_FILE} in folder ${quotePath(given)} or its subfolders`);
    }
    found.push(...inFolder);
  }
  const seen = new Set<string>();
  return found.filter((file) => {
    const key = path.resolve(file);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function subfolders(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(folder, entry.name))
    .sort();
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Reads the reports named by files and folders (see `findReportFiles`) and aggregates them. */
export function readAndAggregate(paths: readonly string[]): Aggregate {
  const texts = findReportFiles(paths).map((source) => {
    try {
      return { source, text: readFileSync(source, 'utf8') };
    } catch (error) {
      throw new UsageError(`cannot read report ${quotePath(source)}: ${(error as Error).message}`);
    }
  });
  return aggregateReports(texts);
}
