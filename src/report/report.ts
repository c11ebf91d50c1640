// The report of one search: report.json (the full result, versioned, with seeds and versions),
// report.md (what a person reads; the same Markdown goes to the job summary and the PR comment)
// and pareto.svg. Written by every front end through `writeReport`.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { tradeoffSvg, type ChartPoint } from './chart.js';
import { renderMarkdown } from './markdown.js';
import { hardwareName, type SearchReport } from './schema.js';

export {
  hardwareName,
  REPORT_SCHEMA,
  REPORT_SCHEMA_VERSION,
  toReport,
  type RunContext,
  type SearchReport,
} from './schema.js';

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

/** Where a report's files are in a report folder. */
export function reportFiles(outDir: string): ReportFiles {
  return {
    json: path.join(outDir, 'report.json'),
    markdown: path.join(outDir, 'report.md'),
    svg: path.join(outDir, 'pareto.svg'),
  };
}

export async function writeReport(report: SearchReport, outDir: string): Promise<ReportFiles> {
  mkdirSync(outDir, { recursive: true });
  const files = reportFiles(outDir);
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
