// `simnas describe`: the size of a cell's NB201 network, as published (nominal) and as deployed;
// in other spaces, params and MACs and the layer table.
// `simnas bench onnx`: how long building, serializing and loading that network takes.
import type { Command } from 'commander';

import { describeCell } from '../spaces/nb201/cost.js';
import { timeArchitectures, type TimingSummary } from '../onnx/timing.js';
import { refusalNamed } from '../options.js';
import { DEFAULT_SPACE_ID } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/space.js';
import { parseCell } from '../spaces/nb201/cell.js';
import { parseDataset } from '../spaces/nb201/datasets.js';
import { stderrLogger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { positiveInteger, printJson, seedValue, spaceOption } from './options.js';
import { formatRows, spaceDataset } from './space-commands.js';

const CELL_EXAMPLE = '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|';

export function registerOnnxCommands(program: Command, bench: Command): void {
  program
    .command('describe')
    .description(
      "params and FLOPs of a cell's NB201 network, nominal (as published) and deployed (dead edges pruned); " +
        'other spaces: params, MACs and a table of the layers',
    )
    .argument(
      '<cell>',
      `NB201 cell string, e.g. ${CELL_EXAMPLE}, or block names joined by '-' (--space fbnet|macro)`,
    )
    .addOption(spaceOption())
    .option(
      '--dataset <name>',
      "cifar10, cifar100 or ImageNet16-120 (other spaces: the space's, its first by default)",
    )
    .option('--json', 'print JSON')
    .action((text: string, options: { space: SearchSpace; dataset?: string; json?: boolean }) => {
      if (options.space.id !== DEFAULT_SPACE_ID) return describeLayers(options.space, text, options);
      const dataset = refusalNamed('--dataset', () => parseDataset(options.dataset ?? 'cifar10'));
      const description = describeCell(parseCell(text), dataset);
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
    .description(
      'time building, serializing and loading (ORT session) networks for random cells (or architectures of --space)',
    )
    .option('--cells <n>', 'how many random cells (architectures) to time', positiveInteger, 30)
    .addOption(spaceOption())
    .option(
      '--dataset <name>',
      "cifar10, cifar100 or ImageNet16-120 (other spaces: the space's, its first by default)",
    )
    .option('--batch-size <n>', 'fixed batch dimension of the network', positiveInteger, 1)
    .option(
      '--full',
      "time the eager graph (every operation computes: NB201's dead edges and none edges) instead of the deployed one",
    )
    .option('--threads <n>', 'ORT intra-op threads', positiveInteger, 1)
    .option('--seed <n>', 'seed of the cell sample', seedValue, 0)
    .option('--json', 'print JSON')
    .action(benchNetworks);
}

function timingRows(summary: TimingSummary): string {
  const row = (name: string, t: typeof summary.median) =>
    `${name.padEnd(7)}build ${t.buildMs.toFixed(1)} ms  serialize ${t.serializeMs.toFixed(1)} ms  ` +
    `session ${t.sessionMs.toFixed(1)} ms  first run ${t.firstRunMs.toFixed(1)} ms  ` +
    `model ${(t.modelBytes / 2 ** 20).toFixed(2)} MiB\n`;
  return row('median', summary.median) + row('p90', summary.p90);
}

function describeLayers(
  space: SearchSpace,
  text: string,
  options: { dataset?: string; json?: boolean },
): void {
  const architecture = space.parse(text);
  const dataset = spaceDataset(space, options.dataset);
  const counts = space.counts(architecture, dataset);
  const layers = space.describe(architecture, dataset);
  if (options.json) {
    return printJson({
      space: space.id,
      architecture: space.format(architecture),
      dataset,
      ...counts,
      layers,
    });
  }
  process.stdout.write(
    `${space.format(architecture)}  (${space.title}, ${dataset})\n` +
      `params ${counts.paramsM.toFixed(6)} M  MACs ${counts.flopsM.toFixed(6)} M  ` +
      `(whole network: stem, layers, head, classifier; BatchNorm's scale and shift counted as params)\n` +
      `${formatRows(layers)}\n`,
  );
}

/** `bench onnx`: random architectures of the space, each built, serialized, loaded and run once. */
async function benchNetworks(options: {
  cells: number;
  space: SearchSpace;
  dataset?: string;
  batchSize: number;
  full?: boolean;
  threads: number;
  seed: number;
  json?: boolean;
}): Promise<void> {
  const { space } = options;
  const dataset = spaceDataset(space, options.dataset);
  const random = new Random(options.seed).child('bench onnx');
  const architectures = Array.from({ length: options.cells }, () => space.sample(random));
  const eager = options.full === true;
  const progress = createProgress({ label: 'bench onnx', total: architectures.length, logger: stderrLogger });
  const summary = await timeArchitectures(
    space,
    architectures,
    { dataset, batchSize: options.batchSize, seed: options.seed, eager },
    options.threads,
    () => progress.tick(),
  );
  progress.done();
  const readyMs = summary.median.buildMs + summary.median.serializeMs + summary.median.sessionMs;
  const settings = {
    space: space.id,
    dataset,
    batchSize: options.batchSize,
    eager,
    threads: options.threads,
  };
  if (options.json)
    return printJson({ ...settings, seed: options.seed, ...summary, readyMedianSumMs: readyMs });
  process.stdout.write(
    `${summary.samples} random ${space.id} architectures, ${dataset}, batch ${options.batchSize}, ` +
      `${eager ? 'eager graph (every operation computes), ' : ''}${options.threads} ORT thread(s), measured now\n` +
      timingRows(summary) +
      `built and loaded (build + serialize + session, sum of medians) ${readyMs.toFixed(1)} ms\n`,
  );
}
