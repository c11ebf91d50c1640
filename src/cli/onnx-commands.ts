// `simnas describe`: the size of a cell's NB201 network, as published (nominal) and as deployed.
// `simnas bench onnx`: how long building, serializing and loading that network takes.
import type { Command } from 'commander';

import { describeCell } from '../onnx/cost.js';
import { timeCells } from '../onnx/timing.js';
import { allCells, parseCell } from '../space/cell.js';
import type { Dataset } from '../space/datasets.js';
import { stderrLogger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { datasetOption, positiveInteger, printJson, seedValue } from './options.js';

const CELL_EXAMPLE = '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|';

export function registerOnnxCommands(program: Command, bench: Command): void {
  program
    .command('describe')
    .description(
      "params and FLOPs of a cell's NB201 network, nominal (as published) and deployed (dead edges pruned)",
    )
    .argument('<cell>', `NB201 cell string, e.g. ${CELL_EXAMPLE}`)
    .addOption(datasetOption())
    .option('--json', 'print JSON')
    .action((text: string, options: { dataset: Dataset; json?: boolean }) => {
      const description = describeCell(parseCell(text), options.dataset);
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

  bench
    .command('onnx')
    .description('time building, serializing and loading (ORT session) NB201 networks for random cells')
    .option('--cells <n>', 'how many random cells to time', positiveInteger, 30)
    .addOption(datasetOption('cifar10, cifar100 or ImageNet16-120'))
    .option('--batch-size <n>', 'fixed batch dimension of the network', positiveInteger, 1)
    .option('--full', 'time the eager graph (every edge computes) instead of the pruned one')
    .option('--threads <n>', 'ORT intra-op threads', positiveInteger, 1)
    .option('--seed <n>', 'seed of the cell sample', seedValue, 0)
    .option('--json', 'print JSON')
    .action(
      async (options: {
        cells: number;
        dataset: Dataset;
        batchSize: number;
        full?: boolean;
        threads: number;
        seed: number;
        json?: boolean;
      }) => {
        const cells = new Random(options.seed).child('bench onnx').sample(allCells(), options.cells);
        const settings = {
          dataset: options.dataset,
          batchSize: options.batchSize,
          prune: !options.full,
          threads: options.threads,
        };
        const progress = createProgress({ label: 'bench onnx', total: cells.length, logger: stderrLogger });
        const summary = await timeCells(cells, settings, () => progress.tick());
        progress.done();
        const result = { ...settings, seed: options.seed, ...summary };
        if (options.json) return printJson(result);
        const row = (name: string, t: typeof summary.median) =>
          `${name.padEnd(7)}build ${t.buildMs.toFixed(1)} ms  serialize ${t.serializeMs.toFixed(1)} ms  ` +
          `session ${t.sessionMs.toFixed(1)} ms  first run ${t.firstRunMs.toFixed(1)} ms  ` +
          `model ${(t.modelBytes / 2 ** 20).toFixed(2)} MiB\n`;
        process.stdout.write(
          `${summary.samples} random cells, ${settings.dataset}, batch ${settings.batchSize}, ` +
            `${settings.prune ? 'pruned' : 'full'} graph, ${settings.threads} ORT thread(s), measured now\n` +
            row('median', summary.median) +
            row('p90', summary.p90),
        );
      },
    );
}
