// Commands about the search space itself (no hardware involved): `simnas cell` (an architecture's
// encoding) and the shared rendering of a space's description rows, which `describe` also prints.
import type { Command } from 'commander';

import {
  effectiveCell,
  encodeCell,
  formatCell,
  liveEdges,
  parseCell,
  edgeLabel,
  OPS,
} from '../spaces/nb201/cell.js';
import { DEFAULT_SPACE_ID } from '../spaces/index.js';
import type { ArchitectureRow, SearchSpace } from '../spaces/space.js';
import { printJson, spaceOption } from './options.js';

/** A space's description rows as an aligned text table (numbers right-aligned). */
export function formatRows(rows: readonly ArchitectureRow[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((title, c) => Math.max(title.length, ...cells.map((row) => row[c]!.length)));
  const numeric = columns.map((_, c) => rows.every((row) => typeof row[columns[c]!] === 'number'));
  const line = (values: readonly string[]) =>
    values
      .map((value, c) => (numeric[c] ? value.padStart(widths[c]!) : value.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

/** What `cell` prints for spaces other than NB201: the text form, the key (and code), the layers. */
function describeEncoding(space: SearchSpace, text: string, json: boolean | undefined): void {
  const architecture = space.parse(text);
  const info = {
    space: space.id,
    architecture: space.format(architecture),
    key: space.key(architecture),
    ...(space.enumerable ? { code: space.code(architecture) } : {}),
    layers: space.describe(architecture, space.datasets[0]!),
  };
  if (json) return printJson(info);
  process.stdout.write(
    `${info.architecture}\nkey ${info.key}${info.code !== undefined ? `  code ${info.code}` : ''}\n` +
      `${formatRows(info.layers)}\n`,
  );
}

export function registerSpaceCommands(program: Command): void {
  program
    .command('cell')
    .description('parse a cell string and show its encoding and live edges (other spaces: key and layers)')
    .argument(
      '<cell>',
      "NB201 cell string, e.g. |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|, or block names joined by '-' (--space fbnet|macro)",
    )
    .addOption(spaceOption())
    .option('--json', 'print JSON')
    .action((text: string, options: { space: SearchSpace; json?: boolean }) => {
      if (options.space.id !== DEFAULT_SPACE_ID) return describeEncoding(options.space, text, options.json);
      const cell = parseCell(text);
      const live = liveEdges(cell);
      const info = {
        cell: formatCell(cell),
        code: encodeCell(cell),
        effective: formatCell(effectiveCell(cell)),
        edges: cell.map((op, i) => ({ edge: edgeLabel(i), op: OPS[op], live: live[i] })),
      };
      if (options.json) return printJson(info);
      process.stdout.write(
        `${info.cell}\ncode ${info.code}\neffective ${info.effective}\n` +
          info.edges.map((e) => `  ${e.edge}  ${e.op}${e.live ? '' : '  (dead)'}`).join('\n') +
          '\n',
      );
    });
}
