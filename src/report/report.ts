// The report of one search: report.json (the full result, versioned, with seeds and versions),
// report.md (what a person reads; the same Markdown goes to the job summary and the PR comment)
// and pareto.svg. Written by every front end through `writeReport`.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { SearchResult } from '../pipeline.js';
import { SIMNAS_VERSION } from '../version.js';
import { tradeoffSvg, type ChartPoint } from './chart.js';
import { renderMarkdown } from './markdown.js';

export const REPORT_SCHEMA = 'simnas-report';
export const REPORT_SCHEMA_VERSION = 1;

/** Where a report was produced, when a CI front end (the action) ran it. */
export interface RunContext {
  /** The name the hardware is reported and commented under (the runner's label, or derived). */
  readonly hardwareTag: string;
  /** Outcome of each cache the run used: hit, miss, disabled, or a warning's short text. */
  readonly caches: Readonly<Record<string, string>>;
  readonly event?: string;
  readonly sha?: string;
}

export interface SearchReport extends SearchResult {
  readonly schema: typeof REPORT_SCHEMA;
  readonly schemaVersion: number;
  readonly simnasVersion: string;
  readonly nodeVersion: string;
  readonly run?: RunContext;
}

export function toReport(result: SearchResult, run?: RunContext): SearchReport {
  return {
    schema: REPORT_SCHEMA,
    schemaVersion: REPORT_SCHEMA_VERSION,
    simnasVersion: SIMNAS_VERSION,
    nodeVersion: process.version,
    ...result,
    ...(run ? { run } : {}),
  };
}

export function chartPoints(report: SearchReport): ChartPoint[] {
  const recommended = report.recommendation.code;
  const front = report.front.map((p) => ({ ...p, onFront: true, recommended: p.code === recommended }));
  // One point per cell: the sample that competes as a candidate is in both lists.
  const seen = new Set(front.map((p) => p.code));
  const measured: ChartPoint[] = [];
  for (const m of [...report.samples, ...report.verified]) {
    if (seen.has(m.code) || !Number.isFinite(m.taskScore ?? Number.NaN)) continue;
    seen.add(m.code);
    measured.push({
      cell: m.cell,
      latencyMs: m.measuredMs,
      taskScore: m.taskScore!,
      latencySource: 'measured',
      onFront: false,
      recommended: m.code === recommended,
    });
  }
  return [...front, ...measured];
}

export interface ReportFiles {
  readonly json: string;
  readonly markdown: string;
  readonly svg: string;
}

export async function writeReport(report: SearchReport, outDir: string): Promise<ReportFiles> {
  mkdirSync(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'report.json'),
    markdown: path.join(outDir, 'report.md'),
    svg: path.join(outDir, 'pareto.svg'),
  };
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.markdown, renderMarkdown(report));
  writeFileSync(
    files.svg,
    await tradeoffSvg(chartPoints(report), {
      title: `${report.dataset} on ${hardwareName(report)}`,
      budgetMs: report.budget.ms,
      budgetSource: report.budget.source,
    }),
  );
  return files;
}

/** The hardware's name in titles: the run's tag, else the fingerprint's, else the device's. */
export function hardwareName(report: SearchReport): string {
  return report.run?.hardwareTag ?? report.fingerprint?.tag ?? report.device.name;
}
