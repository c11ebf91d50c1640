// Commands about the search space itself (no hardware involved): `simnas cell` (an architecture's
// encoding), `simnas export` (the network as ONNX and the architecture in the form the space's
// public model definition takes, so that what simnas recommends can be trained) and the shared
// rendering of a space's description rows, which `describe` also prints.
import { writeFileSync } from 'node:fs';

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
import { datasetOf, DEFAULT_SPACE_ID } from '../spaces/index.js';
import type { ArchitectureRow, SearchSpace } from '../spaces/space.js';
import { UsageError } from '../errors.js';
import { refusalNamed } from '../options.js';
import { positiveInteger, printJson, seedValue, spaceOption } from './options.js';

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

/**
 * The space's dataset named by `--dataset` (its first when none is), or a UsageError naming the
 * option and listing the space's own: the option accepts every space's datasets before the space is known.
 */
export function spaceDataset(space: SearchSpace, given: string | undefined): string {
  return refusalNamed('--dataset', () => datasetOf(space, given));
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

  program
    .command('export')
    .description(
      "write an architecture's network as ONNX and print it in the form its space's public model definition takes",
    )
    .argument('<arch>', "NB201 cell string, or block names joined by '-' (--space fbnet|macro)")
    .addOption(spaceOption())
    .option('--dataset <name>', "one of the space's datasets (its first by default)")
    .option('--onnx <file>', 'write the network here (inference form, weights freshly initialised)')
    .option('--batch-size <n>', 'fixed batch dimension of the network', positiveInteger, 1)
    .option('--seed <n>', 'seed of the weight initialisation', seedValue, 0)
    .option('--json', 'print JSON')
    .action(exportArchitecture);
}

interface ExportFlags {
  readonly space: SearchSpace;
  readonly dataset?: string;
  readonly onnx?: string;
  readonly batchSize: number;
  readonly seed: number;
  readonly json?: boolean;
}

function exportArchitecture(text: string, options: ExportFlags): void {
  const { space } = options;
  const architecture = space.parse(text);
  const dataset = spaceDataset(space, options.dataset);
  const publicForm = space.publicForm(architecture, dataset);
  if (options.onnx !== undefined) {
    const network = space.network(architecture, {
      dataset,
      batchSize: options.batchSize,
      seed: options.seed,
    });
    try {
      writeFileSync(options.onnx, network.bytes);
    } catch (error) {
      throw new UsageError(`--onnx: cannot write '${options.onnx}': ${(error as Error).message}`);
    }
  }
  const info = {
    space: space.id,
    architecture: space.format(architecture),
    dataset,
    ...space.counts(architecture, dataset),
    publicForm,
    ...(options.onnx !== undefined ? { onnx: options.onnx } : {}),
  };
  if (options.json) return printJson(info);
  process.stdout.write(
    `${info.architecture}  (${space.title}, ${dataset})\n` +
      (options.onnx !== undefined
        ? `wrote ${options.onnx} (batch ${options.batchSize}, seed ${options.seed})\n`
        : '') +
      `train it with ${publicForm.definition}:\n${JSON.stringify(publicForm.config)}\n`,
  );
}
