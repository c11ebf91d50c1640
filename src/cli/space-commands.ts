// Commands about the search space itself (no hardware involved): `simnas cell`.
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
import { printJson } from './options.js';

export function registerSpaceCommands(program: Command): void {
  program
    .command('cell')
    .description('parse a cell string and show its encoding and live edges')
    .argument(
      '<cell>',
      'NB201 cell string, e.g. |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|',
    )
    .option('--json', 'print JSON')
    .action((text: string, options: { json?: boolean }) => {
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
