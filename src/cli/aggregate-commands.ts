// `simnas aggregate`: merges report.json files from several machines into one cross-hardware table
// (Markdown, or JSON). Options in, results out: the merge is src/report/aggregate.ts.
import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import { UsageError } from '../errors.js';
import { readAndAggregate, renderAggregateMarkdown, spliceSection } from '../report/aggregate.js';
import { printJson } from './program.js';

interface AggregateFlags {
  out?: string;
  into?: string;
  json?: boolean;
}

function readDocument(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--into '${file}': cannot read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

export function runAggregateCommand(paths: string[], flags: AggregateFlags): void {
  const aggregate = readAndAggregate(paths);
  const markdown = renderAggregateMarkdown(aggregate);
  if (flags.out) writeFileSync(flags.out, markdown);
  if (flags.into) writeFileSync(flags.into, spliceSection(readDocument(flags.into), markdown));
  for (const note of aggregate.notes) process.stderr.write(`simnas: note: ${note}\n`);
  if (flags.json) return printJson(aggregate);
  if (!flags.out && !flags.into) {
    process.stdout.write(markdown);
    return;
  }
  const written = [flags.out, flags.into].filter(Boolean).join(' and ');
  process.stdout.write(`aggregated ${aggregate.rows.length} report(s) into ${written}\n`);
}

export function registerAggregateCommands(program: Command): void {
  program
    .command('aggregate')
    .description(
      'merge report.json files from several machines into one cross-hardware Markdown table; ' +
        'a folder contributes its report.json and those one level down (downloaded artifacts)',
    )
    .argument('<reports...>', 'report.json files or folders')
    .option('--out <file.md>', 'write the Markdown table to this file (default: print it)')
    .option(
      '--into <file.md>',
      'replace the simnas section of this existing file (e.g. release notes) with the table, or append it',
    )
    .option('--json', 'print the rows and notes as JSON (schema simnas-aggregate)')
    .action(runAggregateCommand);
}
