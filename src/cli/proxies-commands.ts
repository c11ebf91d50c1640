// `simnas proxies build|show`: the precomputed proxy table and on-demand proxies of one cell.
// `simnas bench proxies`: our proxies and task score against published values and accuracies.
import { Option, type Command } from 'commander';

import { invalidValue, UsageError } from '../errors.js';
import { buildProxyTable, runTableWorker } from '../spaces/nb201/proxies/build.js';
import { ProxyProvider } from '../spaces/nb201/proxies/provider.js';
import { defaultProxyCacheDir } from '../proxies/network-proxies.js';
import { NETWORK_REFERENCE_SIZE, createNetworkTaskScorer, scoresInTable } from '../proxies/task-scorer.js';
import { defaultTablePath } from '../spaces/nb201/proxies/table.js';
import { formatCell, parseCell } from '../spaces/nb201/cell.js';
import {
  DATASETS,
  DATASETS_ACCEPTED,
  parseDataset,
  UnknownDatasetError,
  type Dataset,
} from '../spaces/nb201/datasets.js';
import { integerAtLeast } from '../options.js';
import { stderrLogger } from '../util/log.js';
import type { SearchSpace } from '../spaces/space.js';
import { pathValue, positiveInteger, printJson, spaceOption } from './options.js';

const CELL_EXAMPLE = '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|';

const nonNegativeInteger = integerAtLeast(0).parse;

/** `--dataset` of the commands that also take `all`; the message lists `all` with the datasets. */
function datasetsOrAll(value: string): readonly Dataset[] {
  if (value.trim().toLowerCase() === 'all') return DATASETS;
  try {
    return [parseDataset(value)];
  } catch (error) {
    if (error instanceof UnknownDatasetError) {
      throw invalidValue(value, 'is not a dataset', `${DATASETS_ACCEPTED} or all`);
    }
    throw error;
  }
}

function allDatasetsOption(): Option {
  return new Option('--dataset <name>', 'cifar10, cifar100, ImageNet16-120 or all')
    .argParser(datasetsOrAll)
    .default(DATASETS, 'all');
}

export function registerProxiesCommands(program: Command, bench: Command): void {
  const proxies = program.command('proxies').description('training-free accuracy proxies and the task score');

  proxies
    .command('build')
    .description('compute the proxy table for all cells and datasets (resumable; appends as it goes)')
    .option('--workers <n>', 'parallel worker processes', positiveInteger, 2)
    .option('--table <file>', 'table file', defaultTablePath())
    .option('--limit <n>', 'stop after this many new effective cells', positiveInteger)
    .option('--restart', 'discard a table built with other settings or by another algorithm')
    .action(async (options: { workers: number; table: string; limit?: number; restart?: boolean }) => {
      const metadata = await buildProxyTable({
        path: options.table,
        workers: options.workers,
        logger: stderrLogger,
        limit: options.limit,
        restart: options.restart,
        workerEntry: process.argv[1]!,
        workerArgs: ['proxies', 'worker'],
      });
      printJson(metadata.coverage);
    });

  proxies.command('worker', { hidden: true }).action(runTableWorker);

  proxies
    .command('show')
    .description(
      "an architecture's proxies and task score (NB201: from the table or on demand; other spaces: on demand, cached)",
    )
    .argument('<arch>', `architecture in the space's text form, e.g. ${CELL_EXAMPLE}`)
    .option(
      '--dataset <name>',
      "NB201: cifar10, cifar100, ImageNet16-120 or all (default all); other spaces: one of the space's datasets (default its first)",
    )
    .addOption(spaceOption())
    .option('--calibration-images <dir>', 'PNG/JPEG images for NASWOT instead of synthetic ones', pathValue)
    .option('--no-table', "compute every value now (the table still gives the task score's bounds)")
    .option('--json', 'print JSON')
    .action(
      async (
        text: string,
        options: {
          dataset?: string;
          space: SearchSpace;
          calibrationImages?: string;
          table: boolean;
          json?: boolean;
        },
      ) => {
        if (!scoresInTable(options.space)) {
          // A layered space: computed on demand, cached on disk.
          const space = options.space;
          const architecture = space.parse(text);
          const scorer = await createNetworkTaskScorer(space, {
            dataset: options.dataset?.trim(),
            calibrationImages: options.calibrationImages,
            logger: stderrLogger,
          });
          const started = performance.now();
          const values = await scorer.values(architecture);
          const taskScore = await scorer.score(architecture);
          const ms = performance.now() - started;
          const shown = { arch: space.format(architecture), dataset: scorer.dataset, values, taskScore, ms };
          if (options.json) return printJson(shown);
          process.stdout.write(
            `${scorer.dataset.padEnd(15)} naswot ${values.naswot.toFixed(3)}  relus ${values.relus}  ` +
              `params ${values.paramsM.toFixed(3)} M  FLOPs ${values.flopsM.toFixed(1)} M  task score ${taskScore.toFixed(4)}  (${ms.toFixed(0)} ms)\n`,
          );
          return;
        }
        const cell = parseCell(text);
        let datasets: readonly Dataset[] = DATASETS;
        try {
          if (options.dataset !== undefined) datasets = datasetsOrAll(options.dataset);
        } catch (error) {
          throw error instanceof UsageError ? new UsageError(`--dataset: ${error.message}`) : error;
        }
        const provider = ProxyProvider.create({
          calibrationImages: options.calibrationImages,
          useTableValues: options.table,
          logger: stderrLogger,
        });
        const results = [];
        for (const dataset of datasets) {
          const started = performance.now();
          const found = await provider.proxies(cell, dataset);
          results.push({ dataset, ...found, ms: performance.now() - started });
        }
        if (options.json) return printJson({ cell: formatCell(cell), results });
        for (const r of results) {
          const v = r.values;
          process.stdout.write(
            `${r.dataset.padEnd(15)} naswot ${v.naswot.toFixed(3)}  synflow ${v.synflow.toExponential(4)}  ` +
              `logsynflow ${v.logsynflow.toFixed(1)}  skip ${v.skip}  task score ${Number.isNaN(r.taskScore) ? 'n/a (no table)' : r.taskScore.toFixed(4)}  ` +
              `(${r.source}, ${r.ms.toFixed(0)} ms)\n`,
          );
        }
      },
    );

  bench
    .command('proxies')
    .description(
      'proxies and task score vs trained accuracy: NB201 with FreeREA published values, or a layered ' +
        'space (--space macro) on demand (reads ../shared)',
    )
    .requiredOption('--accuracy <csv>', 'nb201_accuracy.csv, or macro_accuracy.csv with --space macro')
    .option('--reference <csv>', 'nb201_proxies_freerea.csv (NB201 only)')
    .addOption(spaceOption())
    .addOption(allDatasetsOption())
    .option('--table <file>', 'proxy table (NB201)', defaultTablePath())
    .option('--accuracy-column <name>', "accuracy column of a layered space's table", 'mean_acc')
    .option('--limit <n>', 'layered spaces: score a seeded random sample of this many rows', positiveInteger)
    .option(
      '--cache-dir <dir>',
      `layered spaces: proxy cache folder (default ${defaultProxyCacheDir()})`,
      pathValue,
    )
    .option(
      '--reference-networks <n>',
      `layered spaces: random networks the task score is normalised over (default ${NETWORK_REFERENCE_SIZE})`,
      (text: string) => integerAtLeast(2).parse(text),
    )
    .option(
      '--timing-cells <n>',
      'random cells (networks) per dataset timed for on-demand computation (0: skip)',
      nonNegativeInteger,
      10,
    )
    .option(
      '--image-ablation <n>',
      'cells on which NASWOT with synthetic images and white noise is compared with FreeREA (0: skip)',
      nonNegativeInteger,
      0,
    )
    .option('--json', 'print JSON')
    .action(
      async (options: {
        accuracy: string;
        reference?: string;
        space: SearchSpace;
        dataset: readonly Dataset[];
        table: string;
        accuracyColumn: string;
        limit?: number;
        cacheDir?: string;
        referenceNetworks?: number;
        timingCells: number;
        imageAblation: number;
        json?: boolean;
      }) => {
        if (!scoresInTable(options.space)) {
          // Loaded on demand: benchmarks read ground truth, which the rest of simnas must never reach.
          const { formatNetworkProxiesBench, runNetworkProxiesBench } =
            await import('../bench/network-proxies-bench.js');
          const result = await runNetworkProxiesBench({
            space: options.space,
            accuracyCsv: options.accuracy,
            accuracyColumn: options.accuracyColumn,
            limit: options.limit,
            timingNetworks: options.timingCells,
            cacheDir: options.cacheDir,
            referenceSize: options.referenceNetworks,
            logger: stderrLogger,
          });
          if (options.json) return printJson(result);
          process.stdout.write(formatNetworkProxiesBench(result));
          return;
        }
        if (!options.reference) {
          throw new UsageError(
            `bench proxies --space ${options.space.id} needs --reference <csv> (FreeREA's published proxies, nb201_proxies_freerea.csv)`,
          );
        }
        const datasets = options.dataset;
        const { formatProxiesBench, runProxiesBench } = await import('../bench/proxies-bench.js');
        const result = await runProxiesBench({
          accuracyCsv: options.accuracy,
          referenceCsv: options.reference,
          datasets,
          tablePath: options.table,
          timingCells: options.timingCells,
          imageAblationCells: options.imageAblation,
          logger: stderrLogger,
        });
        if (options.json) return printJson({ datasets: result.datasets });
        process.stdout.write(formatProxiesBench(result));
      },
    );
}
