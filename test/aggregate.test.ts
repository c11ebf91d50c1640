// `simnas aggregate`: reports from real searches (recorded devices, injected task scores) merged
// into the cross-hardware table; validation messages that name the file and key; the folder
// layout download-artifact produces; the release-notes splice; CLI exit codes.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { runCli } from '../src/cli/program.js';
import { UsageError } from '../src/errors.js';
import { fingerprintFromFacts, type HardwareFacts } from '../src/hardware/fingerprint.js';
import { runSearch, type SearchJobOptions } from '../src/pipeline/index.js';
import {
  aggregateReports,
  findReportFiles,
  parseReport,
  renderAggregateMarkdown,
  SECTION_END,
  SECTION_START,
  spliceSection,
  type Aggregate,
} from '../src/report/aggregate.js';
import { toReport, type SearchReport } from '../src/report/report.js';
import { silentLogger } from '../src/util/log.js';
import { quantile } from '../src/util/stats.js';
import { capture } from './support/capture.js';
import { syntheticDeviceTable, toyTaskScores } from './support/search-fixtures.js';
import { nb201Space } from '../src/spaces/nb201/space.js';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'simnas-aggregate-'));

afterEach(() => {
  vi.restoreAllMocks();
});

/** Two synthetic devices in one wide latency table. */
function deviceTable(): { file: string; fast: Float64Array; slow: Float64Array } {
  const { file, latencies } = syntheticDeviceTable(tempDir(), 'devices.csv', {
    fast_board: 21,
    slow_board: 22,
  });
  return { file, fast: latencies.fast_board!, slow: latencies.slow_board! };
}

function facts(cpuModel: string, logicalCores: number): HardwareFacts {
  return {
    cpuModel,
    logicalCores,
    memoryBytes: 8 * 1024 ** 3,
    platform: 'linux',
    osRelease: '6.8.0',
    arch: 'arm64',
    gpus: [],
    onnxruntimeVersion: '1.30.0',
    executionProviders: [{ name: 'cpu', bundled: true }],
    nodeVersion: 'v24.0.0',
    runner: {},
  };
}

/** What a live run on that machine would carry: the same report, live, with its fingerprint. */
const onMachine = (report: SearchReport, machine: HardwareFacts): SearchReport => ({
  ...report,
  device: { kind: 'live', name: 'this machine' },
  fingerprint: fingerprintFromFacts(machine),
});

const text = (source: string, value: unknown): { source: string; text: string } => ({
  source,
  text: JSON.stringify(value),
});

const rpi = facts('Cortex-A76', 4);
const orin = facts('ARMv8 Processor rev 1 (v8l)', 12);

describe('simnas aggregate', () => {
  let fastReport: SearchReport;
  let slowReport: SearchReport;
  let budgetMs: number;

  beforeAll(async () => {
    const table = deviceTable();
    budgetMs = quantile(table.fast, 0.4);
    const options = (column: string, overrides: Partial<SearchJobOptions>): SearchJobOptions => ({
      space: nb201Space,
      dataset: 'cifar10',
      samples: 10,
      verify: 5,
      strategy: 'random',
      device: { kind: 'table', path: table.file, column, noise: 0 },
      seed: 3,
      evaluations: 300,
      taskScores: toyTaskScores,
      ...overrides,
    });
    fastReport = toReport(await runSearch(options('fast_board', { budgetMs }), silentLogger));
    slowReport = toReport(await runSearch(options('slow_board', {}), silentLogger));
  });

  it('puts one row per report, sorted by dataset then hardware tag, with the recommendation', () => {
    const aggregate = aggregateReports([
      text('rpi5/report.json', onMachine(fastReport, rpi)),
      text('orin/report.json', onMachine(slowReport, orin)),
      text('table/report.json', { ...slowReport, dataset: 'cifar100' }),
    ]);
    expect(aggregate.schema).toBe('simnas-aggregate');
    expect(aggregate.rows.map((r) => [r.dataset, r.hardwareTag])).toEqual([
      ['cifar10', 'linux-arm64-armv8-rev-1-12c'],
      ['cifar10', 'linux-arm64-cortex-a76-4c'],
      ['cifar100', 'table:slow_board'],
    ]);
    const rpiRow = aggregate.rows[1]!;
    expect(rpiRow).toMatchObject({
      source: 'rpi5/report.json',
      fingerprintHash: fingerprintFromFacts(rpi).hash,
      budgetMs,
      budgetSource: 'given',
      cell: fastReport.recommendation.cell,
      measuredMs: fastReport.recommendation.measuredMs,
      withinBudget: fastReport.recommendation.withinBudget,
      measurements: fastReport.measurements.total,
      duplicate: false,
    });
    expect(aggregate.rows[2]!.fingerprintHash).toBeUndefined();
    expect(aggregate.notes.some((n) => /2 datasets \(cifar10, cifar100\)/.test(n))).toBe(true);
    expect(aggregate.notes.some((n) => /Budgets differ/.test(n) && /knee/.test(n))).toBe(true);

    const markdown = renderAggregateMarkdown(aggregate);
    const tableLines = markdown.split('\n').filter((line) => line.startsWith('| '));
    expect(tableLines).toHaveLength(4);
    expect(tableLines[2]).toContain(`| linux-arm64-cortex-a76-4c \`${fingerprintFromFacts(rpi).hash}\` |`);
    // Pipes in the cell string are escaped so the table keeps its 10 columns.
    expect(tableLines[2]).toContain(`\`${fastReport.recommendation.cell.replaceAll('|', '\\|')}\``);
    expect(tableLines[2]!.split(/(?<!\\)\|/)).toHaveLength(12);
    expect(tableLines[2]).toContain(`${fastReport.recommendation.measuredMs.toPrecision(3)} ms`);
    expect(tableLines[2]).toContain(`${budgetMs.toPrecision(3)} ms (given)`);
    expect(tableLines[1]).toContain('(knee)');
    // Live rows were measured on their hardware; the table row's latency is a lookup, marked so.
    expect(tableLines[2]).not.toContain('(table)');
    expect(tableLines[3]).toContain(`${slowReport.recommendation.measuredMs.toPrecision(3)} ms (table) |`);
    expect(markdown).toContain(
      'Measured latency is a real measurement on that hardware; in rows marked (table) it is a lookup in a recorded latency table',
    );
    expect(markdown.startsWith(SECTION_START)).toBe(true);
    expect(markdown.trimEnd().endsWith(SECTION_END)).toBe(true);
  });

  it('says what "measured" means for the kinds of row present, and marks a sample pick as fitted', () => {
    const footer = (reports: SearchReport[]): string =>
      renderAggregateMarkdown(aggregateReports(reports.map((r, i) => text(`${i}/report.json`, r))))
        .split('\n')
        .find((line) => line.startsWith('Measured latency'))!;
    const tableOnly = footer([fastReport, { ...slowReport, dataset: 'cifar100' }]);
    expect(tableOnly).toMatch(/^Measured latency is a lookup in a recorded latency table/);
    expect(tableOnly).not.toContain('real measurement');
    const liveOnly = footer([onMachine(fastReport, rpi), onMachine(slowReport, orin)]);
    expect(liveOnly).toMatch(/^Measured latency is a real measurement on that hardware and decides/);
    expect(liveOnly).not.toContain('table');

    const sampleRec = { ...fastReport.recommendation, source: 'sample' as const, predictedMs: 1.234 };
    const aggregate = aggregateReports([text('s/report.json', { ...fastReport, recommendation: sampleRec })]);
    expect(aggregate.rows[0]!.recommendedSample).toBe(true);
    expect(renderAggregateMarkdown(aggregate)).toContain('| fitted 1.23 ms (a sample) |');
    // Reports from before the field: a verified cell, as they always were.
    const { source: _source, ...older } = fastReport.recommendation;
    expect(
      aggregateReports([text('o/report.json', { ...fastReport, recommendation: older })]).rows[0]!
        .recommendedSample,
    ).toBe(false);
  });

  it('keeps and flags two reports of the same hardware and dataset', () => {
    const aggregate = aggregateReports([
      text('a/report.json', onMachine(fastReport, rpi)),
      text('b/report.json', onMachine(slowReport, rpi)),
      text('c/report.json', onMachine(fastReport, orin)),
    ]);
    expect(aggregate.rows.map((r) => r.duplicate)).toEqual([false, true, true]);
    const note = aggregate.notes.find((n) => n.startsWith('2 reports for the same hardware'));
    expect(note).toContain('a/report.json, b/report.json');
    expect(renderAggregateMarkdown(aggregate).match(/⚠️ duplicate/g)).toHaveLength(2);
    // A different dataset on the same machine is another question, not a duplicate.
    const otherDataset = aggregateReports([
      text('a/report.json', onMachine(fastReport, rpi)),
      text('b/report.json', { ...onMachine(fastReport, rpi), dataset: 'cifar100' }),
    ]);
    expect(otherDataset.rows.some((r) => r.duplicate)).toBe(false);
  });

  it('drops rows from the end, with a note, to stay under the character limit', () => {
    const reports = Array.from({ length: 40 }, (_, i) =>
      text(`r${i}/report.json`, onMachine(fastReport, facts(`Board ${String(i).padStart(2, '0')}`, 4))),
    );
    const aggregate = aggregateReports(reports);
    const full = renderAggregateMarkdown(aggregate);
    expect(full).not.toContain('omitted');
    const limit = Math.floor(full.length / 2);
    const cut = renderAggregateMarkdown(aggregate, limit);
    expect(cut.length).toBeLessThanOrEqual(limit);
    const shown = cut.split('\n').filter((line) => line.startsWith('| ') && line.includes('-board-')).length;
    expect(shown).toBeGreaterThan(5);
    expect(shown).toBeLessThan(40);
    expect(cut).toContain(`_${40 - shown} more row(s) omitted`);
    expect(cut).toContain(SECTION_END);
  });

  it('rejects bad reports, naming the file and the key', () => {
    const bad =
      (value: unknown): (() => unknown) =>
      () =>
        parseReport(text('x/report.json', value));
    expect(() => parseReport({ source: 'x/report.json', text: '{"schema": ' })).toThrow(
      /^x\/report\.json is not a simnas report \(not JSON/,
    );
    expect(bad({ schema: 'simnas-controller', schemaVersion: 1 })).toThrow(
      /x\/report\.json is not a simnas report \(schema "simnas-controller"; expected schema "simnas-report"/,
    );
    expect(bad([1, 2])).toThrow(/not a simnas report \(no schema key/);
    expect(bad({ ...fastReport, schemaVersion: 2 })).toThrow(
      /x\/report\.json: report schemaVersion 2 was written by a newer simnas; this simnas reads schemaVersion 1/,
    );
    const { measuredMs: _dropped, ...noMeasured } = fastReport.recommendation;
    expect(bad({ ...fastReport, recommendation: noMeasured })).toThrow(
      /x\/report\.json is not a valid simnas report: key 'recommendation\.measuredMs'/,
    );
    expect(bad({ ...fastReport, dataset: 'mnist' })).toThrow(/key 'dataset'/);
    expect(bad({ ...fastReport, budget: { ms: '5ms', source: 'given' } })).toThrow(/key 'budget\.ms'/);
    expect(bad({ ...fastReport, schema: 'simnas-report' })).not.toThrow();
    expect(() => aggregateReports([])).toThrow(UsageError);
  });

  it('finds report.json in folders and one level down, each file once', () => {
    const root = tempDir();
    for (const name of ['simnas-report-rpi5', 'simnas-report-orin', 'empty']) {
      mkdirSync(path.join(root, name));
    }
    writeFileSync(path.join(root, 'simnas-report-rpi5', 'report.json'), '{}');
    writeFileSync(path.join(root, 'simnas-report-orin', 'report.json'), '{}');
    const direct = path.join(root, 'simnas-report-rpi5', 'report.json');
    expect(findReportFiles([root, direct])).toEqual([
      path.join(root, 'simnas-report-orin', 'report.json'),
      direct,
    ]);
    expect(() => findReportFiles([path.join(root, 'empty')])).toThrow(/no report\.json in folder '.*empty'/);
    expect(() => findReportFiles([path.join(root, 'missing')])).toThrow(/cannot read '.*missing': ENOENT/);
  });

  it('replaces its own section in release notes and appends one otherwise', () => {
    const section = renderAggregateMarkdown(
      aggregateReports([text('a/report.json', onMachine(fastReport, rpi))]),
    );
    const notes = "## What's changed\n\n- faster cells\n";
    const once = spliceSection(notes, section);
    expect(once.startsWith(notes.trimEnd())).toBe(true);
    expect(once).toContain(section.trimEnd());
    const updated = section.replace('1 hardware report', 'one hardware report');
    const twice = spliceSection(`${once}\nFooter\n`, updated);
    expect(twice.split(SECTION_START)).toHaveLength(2);
    expect(twice).toContain('one hardware report');
    expect(twice.endsWith('\nFooter\n')).toBe(true);
    expect(spliceSection('', section)).toBe(section.trimEnd() + '\n');
  });

  describe('command line', () => {
    function writeArtifacts(): string {
      const root = tempDir();
      for (const [name, report] of [
        ['simnas-report-rpi5', onMachine(fastReport, rpi)],
        ['simnas-report-orin', onMachine(slowReport, orin)],
      ] as const) {
        mkdirSync(path.join(root, name));
        writeFileSync(path.join(root, name, 'report.json'), JSON.stringify(report));
      }
      return root;
    }

    it('prints JSON rows for a download-artifact folder and writes the Markdown', async () => {
      const root = writeArtifacts();
      const out = path.join(root, 'aggregate.md');
      const stdout = capture(process.stdout);
      capture(process.stderr);
      expect(await runCli(['node', 'simnas', 'aggregate', root, '--out', out, '--json'])).toBe(0);
      const printed = JSON.parse(stdout()) as Aggregate;
      expect(printed).toMatchObject({ schema: 'simnas-aggregate', schemaVersion: 1 });
      expect(printed.rows.map((r) => r.cell)).toEqual([
        slowReport.recommendation.cell,
        fastReport.recommendation.cell,
      ]);
      expect(readFileSync(out, 'utf8')).toBe(renderAggregateMarkdown(printed));
    });

    it('updates a notes file in place with --into', async () => {
      const root = writeArtifacts();
      const notes = path.join(root, 'notes.md');
      writeFileSync(notes, 'Release 1.2.3\n');
      capture(process.stdout);
      capture(process.stderr);
      expect(await runCli(['node', 'simnas', 'aggregate', root, '--into', notes])).toBe(0);
      expect(await runCli(['node', 'simnas', 'aggregate', root, '--into', notes])).toBe(0);
      const text = readFileSync(notes, 'utf8');
      expect(text.startsWith('Release 1.2.3\n\n')).toBe(true);
      expect(text.split(SECTION_START)).toHaveLength(2);
    });

    it.each([
      ['a foreign JSON file', '{"schema":"other"}', /not a simnas report \(schema "other"/],
      ['a file that is not JSON', 'Release notes', /not a simnas report \(not JSON/],
    ])('exits 2 for %s', async (_label, content, message) => {
      const file = path.join(tempDir(), 'report.json');
      writeFileSync(file, content);
      const stderr = capture(process.stderr);
      capture(process.stdout);
      expect(await runCli(['node', 'simnas', 'aggregate', file])).toBe(2);
      expect(stderr()).toContain(file);
      expect(stderr()).toMatch(message);
    });

    it('exits 2 without arguments and for a missing path', async () => {
      const stderr = capture(process.stderr);
      capture(process.stdout);
      expect(await runCli(['node', 'simnas', 'aggregate'])).toBe(2);
      expect(await runCli(['node', 'simnas', 'aggregate', '/nonexistent/reports'])).toBe(2);
      expect(stderr()).toMatch(/cannot read '\/nonexistent\/reports'/);
    });
  });
});
