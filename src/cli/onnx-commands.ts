// `simnas describe`: the size of a cell's NB201 network, as published (nominal) and as deployed.
import type { Command } from 'commander';

import { describeCell } from '../onnx/cost.js';
import { parseCell } from '../space/cell.js';
import { parseDataset } from '../space/datasets.js';
import { printJson } from './program.js';

export function registerOnnxCommands(program: Command): void {
  program
    .command('describe')
    .description(
      "params and FLOPs of a cell's NB201 network, nominal (as published) and deployed (dead edges pruned)",
    )
    .argument(
      '<cell>',
      'NB201 cell string, e.g. |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|',
    )
    .option('--dataset <name>', 'cifar10, cifar100 or ImageNet16-120', 'cifar10')
    .option('--json', 'print JSON')
    .action((text: string, options: { dataset: string; json?: boolean }) => {
      const description = describeCell(parseCell(text), parseDataset(options.dataset));
      if (options.json) return printJson(description);
      const { nominal, deployed } = description;
      const edges = description.liveEdges.map((e) => `  ${e.edge}  ${e.op}`).join('\n');
      process.stdout.write(
        `${description.cell}  (${description.dataset})\n` +
          `nominal   params ${nominal.paramsM.toFixed(6)} M  FLOPs ${nominal.flopsM.toFixed(6)} M\n` +
          `deployed  params ${deployed.paramsM.toFixed(6)} M  FLOPs ${deployed.flopsM.toFixed(6)} M\n` +
          (description.connected ? `live edges:\n${edges}\n` : 'no live edges: every cell outputs zeros\n'),
      );
    });
}
