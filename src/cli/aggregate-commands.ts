// `simnas aggregate`: merges report.json files from several machines into one cross-hardware table
// (Markdown, or JSON). Options in, results out: the merge is src/report/aggregate.ts.
import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import { errnoCode, UsageError } from '../errors.js';
import { readAndAggregate, renderAggregateMarkdown, spliceSection } from '../report/aggregate.js';
import { ensureWritableFile } from '../util/folders.js';
import { pathValue, printJson } from './options.js';
import { quotePath } from '../util/quote.js';

interface AggregateFlags {
  out?: string;
  into?: string;
  json?: boolean;
}

function readDocument(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    const why = code === 'EISDIR' ? 'it is a folder, not a file' : (code ?? String(error));
    throw new UsageError(`--into ${quotePath(file)}: cannot read (${why}); pass an existing Markdown file`);
  }
}

/** Writes `text`, turning a failure the checks could not foresee (a race, a full disk) into usage. */
function writeDocument(file: string, text: string, option: string): void {
  try {
    writeFileSync(file, text);
  } catch (error) {
    const why = errnoCode(error) ?? String(error);
    throw new UsageError(`${option} ${quotePath(file)}: cannot write it (${why}); pass a writable file path`);
  }
}

export function runAggregateCommand(paths: string[], flags: AggregateFlags): void {
  // Output paths before the reports, as every command checks what it will write before the work.
  if (flags.out !== undefined) ensureWritableFile(flags.out, '--out');
  const document = flags.into !== undefined ? readDocument(flags.into) : undefined;
  if (flags.into !== undefined) ensureWritableFile(flags.into, '--into');
  const aggregate = readAndAggregate(paths);
  const markdown = renderAggregateMarkdown(aggregate);
  if (flags.out) writeDocument(flags.out, markdown, '--out');
  if (flags.into && document !== undefined) {
    writeDocument(flags.into, spliceSection(document, markdown), '--into');
  }
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
    .option('--out <file.md>', 'write the Markdown table to this file (default: print it)', pathValue)
    .option(
      '--into <file.md>',
      'replace the simnas section of this existing file (e.g. release notes) with the table, or append it',
      pathValue,
    )
    .option('--json', 'print the rows and notes as JSON (schema simnas-aggregate)')
    .action(runAggregateCommand);
}
