// What report.json holds: the search result with its schema, versions and run context. Kept apart
// from the writers (report.ts) so the renderers (markdown.ts, aggregate.ts) can read a report's
// shape without importing the module that calls them.
import type { SearchResult } from '../pipeline/index.js';
import { SIMNAS_VERSION } from '../version.js';

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
  /** The key of the pull-request comment (`simnas comment --report` posts under it). */
  readonly commentKey?: string;
  /** The pull request the run was for, with its head commit. */
  readonly pullRequest?: { readonly number: number; readonly headSha?: string };
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

/** The hardware's name in titles: the run's tag, else the fingerprint's, else the device's. */
export function hardwareName(report: SearchReport): string {
  return report.run?.hardwareTag ?? report.fingerprint?.tag ?? report.device.name;
}
