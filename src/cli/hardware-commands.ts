// Commands about this machine: `simnas fingerprint`, `simnas measure`, `simnas start` (the main
// job, what `npm start` runs) and `simnas bench measure`. Options in, results out; the work is in
// src/hardware/, src/pipeline/ and src/bench/measure-bench.ts.
import type { Command, Option } from 'commander';

import { describeFingerprint, hardwareFingerprint } from '../hardware/fingerprint.js';
import { describeProtocol, formatLatencyTable } from '../hardware/format.js';
import type { CertifyBenchOptions } from '../bench/certify-bench.js';
import type { MeasureBenchOptions } from '../bench/measure-bench.js';
import { measureSpaceSample } from '../hardware/measure-job.js';
import { decimalIn, OPTIONS, refusalNamed, type OptionSpec } from '../options.js';
import { datasetOf, DEFAULT_SPACE_ID } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/space.js';
import {
  measureOptionsFrom,
  runMainJob,
  type MainJobOptions,
  type MainJobResult,
} from '../pipeline/index.js';
import { recordLatencyTable } from '../hardware/record-table.js';
import { stderrLogger } from '../util/log.js';
import {
  datasetOption,
  loadList,
  nonNegativeInteger,
  pathValue,
  positiveInteger,
  positiveNumber,
  printJson,
  seedValue,
  spaceOption,
  specOption,
} from './options.js';

interface MeasureFlags {
  space: SearchSpace;
  dataset?: string;
  threads?: number;
  provider?: string;
  batch?: number;
  seed?: number;
  warmup?: number;
  rounds?: number;
  budget?: number;
  json?: boolean;
}

const positiveSeconds = decimalIn('a positive number of seconds, e.g. 30 or 2.5', (v) => v > 0).parse;

/** A shared option without its default: the measurement's own defaults apply when it is absent. */
const measureOption = <T>(spec: OptionSpec<T>, description: string): Option =>
  specOption({ ...spec, defaultText: undefined }, description);

function addMeasureOptions(command: Command): Command {
  return command
    .addOption(spaceOption())
    .option(
      '--dataset <name>',
      "network input/classes: the space's first by default (nb201: cifar10, cifar100 or ImageNet16-120; fbnet: cifar100 or imagenet; macro: cifar10)",
    )
    .addOption(measureOption(OPTIONS.threads, 'onnxruntime intra-op threads (default 1)'))
    .addOption(measureOption(OPTIONS.provider, 'onnxruntime execution provider (default cpu)'))
    .addOption(measureOption(OPTIONS.batch, 'batch size (default 1)'))
    .addOption(
      measureOption(OPTIONS.seed, 'seed of weights, inputs, visiting order and random cells (default 0)'),
    )
    .option('--warmup <n>', 'untimed runs per cell (default 5)', positiveInteger)
    .option('--rounds <n>', 'interleaved timed rounds, at least 3 (default 40)', positiveInteger)
    .option(
      '--budget <seconds>',
      'stop timing rounds after this wall time (at least 3 rounds run)',
      positiveSeconds,
    )
    .option('--json', 'print one JSON object');
}

/** The dataset flag checked against the space; absent, the main job's default or the space's first. */
function datasetFlag(flags: MeasureFlags): string | undefined {
  if (flags.dataset === undefined)
    return flags.space.id === DEFAULT_SPACE_ID ? undefined : flags.space.datasets[0];
  return refusalNamed('--dataset', () => datasetOf(flags.space, flags.dataset));
}

function mainJobOptions(flags: MeasureFlags): MainJobOptions {
  return {
    dataset: datasetFlag(flags),
    threads: flags.threads,
    provider: flags.provider,
    batchSize: flags.batch,
    seed: flags.seed,
    warmupRuns: flags.warmup,
    rounds: flags.rounds,
    timeBudgetMs: flags.budget === undefined ? undefined : flags.budget * 1000,
  };
}

function printMainJob(result: Pick<MainJobResult, 'fingerprint' | 'measurement'>): void {
  process.stdout.write(
    `${describeFingerprint(result.fingerprint)}\n${formatLatencyTable(result.measurement)}\n` +
      `${describeProtocol(result.measurement.protocol, result.measurement.wallMs)}\n`,
  );
}

export function registerHardwareCommands(program: Command, bench: Command): void {
  program
    .command('fingerprint')
    .description('identify this machine and runtime (hash and tag used to key measurements)')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const fingerprint = await hardwareFingerprint();
      if (flags.json) return printJson(fingerprint);
      process.stdout.write(`${describeFingerprint(fingerprint)}\n`);
    });

  addMeasureOptions(
    program
      .command('measure')
      .description(
        'measure cell latencies on this machine with onnxruntime-node (default: the 10 sample cells; ' +
          'other spaces: 10 random architectures)',
      )
      .argument(
        '[cells...]',
        "architectures in the space's text form: NB201 cell strings, e.g. |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|, " +
          "or FBNet/Macro block names joined by '-'",
      )
      .option('--sample <n>', 'measure n random cells (drawn under --seed) instead', positiveInteger),
  ).action(async (cellTexts: string[], flags: MeasureFlags & { sample?: number }) => {
    const architectures = cellTexts.map((text) => flags.space.parse(text));
    if (flags.space.id !== DEFAULT_SPACE_ID) {
      // The pipeline's main job (designed default cells) is NB201's; other spaces measure directly.
      const result = await measureSpaceSample(
        {
          space: flags.space,
          architectures,
          ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
          measure: measureOptionsFrom(mainJobOptions(flags)),
        },
        stderrLogger,
      );
      if (flags.json) return printJson(result);
      return printMainJob(result);
    }
    const result = await runMainJob(
      { ...mainJobOptions(flags), cells: architectures as MainJobOptions['cells'], sample: flags.sample },
      stderrLogger,
    );
    if (flags.json) return printJson(result);
    printMainJob(result);
  });

  addMeasureOptions(
    program
      .command('measure-table')
      .description(
        "measure every cell on this machine into a latency table (index,arch_str,<column>) for 'bench latency|search --table' " +
          'or --device table:CSV:COLUMN; each distinct network once, resumable',
      )
      .requiredOption('--out <csv>', 'the table to write (an earlier partial one is resumed)', pathValue)
      .option(
        '--archs <csv>',
        "record the architectures in this CSV's arch (or arch_str) column instead of the whole space " +
          '(required for fbnet, e.g. ../shared/data/fbnet/fbnet_latency_help.csv); rows keep its index',
        pathValue,
      )
      .option('--column <name>', "the device column (default: this machine's hardware tag)")
      .option('--chunk <n>', 'networks per interleaved protocol run and file write', positiveInteger, 200)
      .option(
        '--limit <n>',
        'stop after n more networks (a partial table is a uniform sample)',
        positiveInteger,
      ),
  ).action(
    async (
      flags: MeasureFlags & { out: string; archs?: string; column?: string; chunk: number; limit?: number },
    ) => {
      const result = await recordLatencyTable(
        {
          space: flags.space,
          ...(flags.archs !== undefined ? { archs: flags.archs } : {}),
          out: flags.out,
          column: flags.column ?? (await hardwareFingerprint()).tag,
          chunk: flags.chunk,
          ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
          measure: measureOptionsFrom(mainJobOptions(flags)),
        },
        stderrLogger,
      );
      if (flags.json) return printJson(result);
      process.stdout.write(
        `${result.out}: column ${result.column}, ${result.networksDone} of ${result.networksTotal} networks ` +
          `(${result.cellsDone} of ${result.cellsTotal} cells); ${result.measuredNow} measured in ${(result.wallMs / 1000).toFixed(0)} s\n`,
      );
    },
  );

  bench
    .command('certify')
    .description(
      'does a certification keep its promise under load: false certification and rejection, A-vs-A, search stability',
    )
    .option('--load <list>', 'busy background processes to run, e.g. 0,1,2', loadList, [0, 1, 2])
    .option('--trials <n>', 'verifications of each cell per load', positiveInteger, 10)
    .option('--cells <n>', 'cells with a reference latency', positiveInteger, 4)
    .option('--ab-runs <n>', 'A-vs-A reviews per load (0: none)', nonNegativeInteger, 20)
    .option('--stability-runs <n>', 'cold search runs per setting (0: none)', nonNegativeInteger, 10)
    .option('--stability-load <list>', 'loads at which search stability is measured', loadList, [0])
    .option('--stability-budget <ms>', 'the budget of the stability runs with a budget', positiveNumber, 2)
    .option('--seed <n>', 'seed of the cells, weights, inputs and visiting order', seedValue, 0)
    .addOption(datasetOption('cifar10, cifar100 or ImageNet16-120'))
    .option('--json', 'print one JSON object')
    .action(
      async (flags: {
        load: number[];
        trials: number;
        cells: number;
        abRuns: number;
        stabilityRuns: number;
        stabilityLoad: number[];
        stabilityBudget: number;
        seed: number;
        dataset: CertifyBenchOptions['dataset'];
        json?: boolean;
      }) => {
        // Loaded on demand: benchmarks stay out of the pipeline's import graph.
        const { formatCertifyBench, runCertifyBench } = await import('../bench/certify-bench.js');
        const result = await runCertifyBench(
          {
            loads: flags.load,
            trials: flags.trials,
            cells: flags.cells,
            dataset: flags.dataset,
            seed: flags.seed,
            referenceRepeats: 3,
            referenceRounds: 60,
            abRuns: flags.abRuns,
            stabilityRuns: flags.stabilityRuns,
            stabilityLoads: flags.stabilityLoad,
            stabilityBudgetMs: flags.stabilityBudget,
          },
          stderrLogger,
        );
        if (flags.json) return printJson(result);
        process.stdout.write(`${formatCertifyBench(result)}\n`);
      },
    );

  bench
    .command('measure')
    .description('repeatability of live measurement: the same random cells measured twice, independently')
    .option('--cells <n>', 'number of random cells', positiveInteger, 30)
    .option('--seed <n>', 'seed of the cells, weights and inputs', seedValue, 0)
    .addOption(datasetOption('cifar10, cifar100 or ImageNet16-120'))
    .option('--threads <n>', 'onnxruntime intra-op threads (default 1)', positiveInteger)
    .option('--json', 'print one JSON object')
    .action(
      async (flags: {
        cells: number;
        seed: number;
        dataset: MeasureBenchOptions['dataset'];
        threads?: number;
        json?: boolean;
      }) => {
        // Loaded on demand: benchmarks stay out of the pipeline's import graph.
        const { formatMeasureBench, runMeasureBench } = await import('../bench/measure-bench.js');
        const result = await runMeasureBench(
          {
            cells: flags.cells,
            seed: flags.seed,
            dataset: flags.dataset,
            measure: flags.threads === undefined ? {} : { threads: flags.threads },
          },
          stderrLogger,
        );
        if (flags.json) return printJson(result);
        process.stdout.write(`${formatMeasureBench(result)}\n`);
      },
    );
}
