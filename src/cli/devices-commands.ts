// `simnas devices design|adapt` and `simnas bench latency`: options in, results out. The models
// live in src/devices/, the benchmark in src/bench/latency-bench.ts.
import { Option, type Command } from 'commander';

import {
  DEFAULT_DESIGN_VARIANTS,
  formatLatencyBench,
  runLatencyBench,
  type LatencyBenchOptions,
} from '../bench/latency-bench.js';
import {
  formatLayeredLatencyBench,
  readLayeredTable,
  runLayeredLatencyBench,
} from '../bench/layered-latency-bench.js';
import { layeredSpaceById } from '../bench/layered-spaces.js';
import { designLayeredSamples } from '../devices/layered-model.js';
import { LAYERED_MECHANISMS, type LayeredMechanism } from '../devices/layered-synthetic.js';
import { UsageError } from '../errors.js';
import { OPTIONS } from '../options.js';
import { designSampleCells } from '../devices/design.js';
import { DEFAULT_BANK_SEED } from '../devices/prior.js';
import { readLatencyTable, RecordedDevice } from '../devices/recorded.js';
import { adaptToDevice } from '../pipeline/index.js';
import { DEFAULT_SPACE_ID, spaceById } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/space.js';
import { stderrLogger } from '../util/log.js';
import {
  datasetOption,
  fractionValue,
  listOf,
  nameList,
  positiveInteger,
  printJson,
  samplesOption,
  seedValue,
  spaceOption,
  specOption,
} from './options.js';
import { spaceDataset } from './space-commands.js';

const mechanismNames = listOf('prior mechanisms', LAYERED_MECHANISMS.join(','));

/** Parses `--without`: names of the layered prior's mechanisms, refusing any other. */
function mechanismList(value: string): LayeredMechanism[] {
  return mechanismNames(value).map((name) => {
    if (!(LAYERED_MECHANISMS as readonly string[]).includes(name)) {
      throw new UsageError(
        `'${name}' is not a mechanism of the layered prior; expected some of ${LAYERED_MECHANISMS.join(', ')}`,
      );
    }
    return name as LayeredMechanism;
  });
}

export function registerDevicesCommands(program: Command, bench: Command): void {
  const devices = program
    .command('devices')
    .description('device models: sample design, adaptation from measurements');

  devices
    .command('design')
    .description('the cells to measure on a new device (I-optimal under the synthetic-device prior)')
    .addOption(spaceOption())
    .addOption(specOption(OPTIONS.dataset))
    .addOption(samplesOption('number of cells'))
    .option('--json', 'print JSON')
    .action((options: { space: SearchSpace; dataset?: string; samples: number; json?: boolean }) => {
      const dataset = spaceDataset(options.space, options.dataset);
      if (options.space.id !== DEFAULT_SPACE_ID) {
        const space = layeredSpaceById(options.space.id);
        const architectures = designLayeredSamples(space, options.samples, { dataset }).map((arch) =>
          space.format(arch),
        );
        if (options.json) return printJson({ space: space.id, dataset, architectures });
        process.stdout.write(`${architectures.join('\n')}\n`);
        return;
      }
      const cells = designSampleCells(options.samples, { dataset }).map((cell) => options.space.format(cell));
      if (options.json) return printJson({ dataset, cells });
      process.stdout.write(`${cells.join('\n')}\n`);
    });

  devices
    .command('adapt')
    .description("fit the latency model to a recorded device's designed samples and report its fit")
    .requiredOption('--table <csv>', 'wide latency table: index,arch_str,<device columns>')
    .requiredOption('--device <column>', 'device column of the table')
    .addOption(datasetOption('cifar10, cifar100 or ImageNet16-120'))
    .addOption(samplesOption('number of designed cells to measure'))
    .option('--noise <fraction>', 'multiplicative measurement noise', fractionValue, 0.03)
    .option('--seed <n>', 'noise seed', seedValue, 0)
    .option('--json', 'print JSON')
    .action(
      async (options: {
        table: string;
        device: string;
        dataset: string;
        samples: number;
        noise: number;
        seed: number;
        json?: boolean;
      }) => {
        const device = RecordedDevice.fromCsv(options.table, options.device, spaceById(DEFAULT_SPACE_ID), {
          noise: options.noise,
          seed: options.seed,
        });
        const adapted = await adaptToDevice(
          device,
          {
            space: spaceById(DEFAULT_SPACE_ID),
            dataset: options.dataset,
            samples: options.samples,
            seed: options.seed,
          },
          stderrLogger,
        );
        const summary = {
          device: device.name,
          samples: adapted.samples.map(({ cell, measuredMs }) => ({ cell, measuredMs })),
          looMape: adapted.fit.looMapePercent,
          looRmseMs: adapted.fit.looRmseMs,
          noiseSd: adapted.fit.noiseSd,
          modeWeights: adapted.fit.modeWeights,
        };
        if (options.json) return printJson(summary);
        process.stdout.write(
          `${device.name}: ${summary.samples.length} cells measured; leave-one-out error ${summary.looMape.toFixed(1)}% ` +
            `(RMSE ${summary.looRmseMs.toFixed(3)} ms), noise sd ${(100 * summary.noiseSd).toFixed(1)}%\n`,
        );
      },
    );

  bench
    .command('latency')
    .description('latency model from 10 designed samples vs naive baseline and ceiling, on recorded devices')
    .addOption(spaceOption())
    .requiredOption(
      '--table <csv>',
      'wide latency table: index,arch_str,<device columns> (fbnet: index,arch,op_idx,<device columns>)',
    )
    .option('--devices <a,b,...>', 'device columns (default: all)', nameList)
    .addOption(samplesOption('measured cells per device'))
    .option('--seeds <n>', 'noise / baseline seeds per device', positiveInteger, 20)
    .option('--noise <fraction>', 'multiplicative measurement noise', fractionValue, 0.03)
    .option(
      '--designs <n>',
      'variants the seeds rotate through, each a design and a prior from other bank draws (1: the shipped ones only)',
      positiveInteger,
      DEFAULT_DESIGN_VARIANTS,
    )
    .option(
      '--unknown-noise',
      'do not tell the model the noise level (intervals then cover noisy measurements)',
    )
    .addOption(specOption(OPTIONS.dataset, "dataset of the prior; default: the space's first"))
    // The default's description names it as the shipped bank's seed, so the help says so once.
    .addOption(
      new Option('--bank-seed <n>', 'seed of the synthetic bank the prior is learned from (the design stays)')
        .argParser(seedValue)
        .default(DEFAULT_BANK_SEED, `${DEFAULT_BANK_SEED}, the shipped bank`),
    )
    .addOption(
      new Option(
        '--design-bank-seed <n>',
        'seed of the synthetic bank the sample designs are computed against',
      )
        .argParser(seedValue)
        .default(DEFAULT_BANK_SEED, `${DEFAULT_BANK_SEED}, the shipped bank`),
    )
    .option(
      '--without <mechanisms>',
      `layered spaces: leave these mechanisms out of the prior, to show what they bring (${LAYERED_MECHANISMS.join(', ')})`,
      mechanismList,
    )
    .option('--json', 'print one JSON object')
    .action(
      async (options: {
        space: SearchSpace;
        table: string;
        without?: LayeredMechanism[];
        devices?: string[];
        samples: number;
        seeds: number;
        noise: number;
        designs: number;
        unknownNoise?: boolean;
        dataset?: string;
        bankSeed: number;
        designBankSeed: number;
        json?: boolean;
      }) => {
        const dataset = spaceDataset(options.space, options.dataset);
        if (options.space.id !== DEFAULT_SPACE_ID) {
          const space = layeredSpaceById(options.space.id);
          const layered = await runLayeredLatencyBench({
            space,
            table: readLayeredTable(options.table, space),
            bankSeed: options.bankSeed,
            designBankSeed: options.designBankSeed,
            designs: options.designs,
            knownNoise: !options.unknownNoise,
            devices: options.devices,
            samples: options.samples,
            seeds: options.seeds,
            noise: options.noise,
            dataset,
            ...(options.without ? { without: options.without } : {}),
            logger: stderrLogger,
          });
          if (options.json) return printJson(layered);
          process.stdout.write(`${formatLayeredLatencyBench(layered)}\n`);
          return;
        }
        if (options.without) {
          throw new UsageError(
            `--without leaves mechanisms out of the prior of layered spaces; the ${options.space.id} prior has none to leave out (use --space fbnet)`,
          );
        }
        const result = await runLatencyBench({
          bankSeed: options.bankSeed,
          designBankSeed: options.designBankSeed,
          designs: options.designs,
          knownNoise: !options.unknownNoise,
          table: readLatencyTable(options.table, options.space),
          devices: options.devices,
          samples: options.samples,
          seeds: options.seeds,
          noise: options.noise,
          dataset: dataset as LatencyBenchOptions['dataset'],
          logger: stderrLogger,
        });
        if (options.json) return printJson(result);
        process.stdout.write(`${formatLatencyBench(result)}\n`);
      },
    );
}
