// `simnas search` (the whole method on one device) and `simnas pretrain` (stage 1). Options in,
// results out: the flow is src/pipeline.ts, pretraining is src/controller/pretrain.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { MEASURED_VERIFICATION_NOISE } from '../devices/live.js';
import { Option, type Command } from 'commander';

import { PRIOR_HASH } from '../controller/prior.js';
import {
  CONTROLLER_FILE,
  DEFAULT_PRETRAIN,
  pretrain,
  type PretrainOptions,
  type PretrainResult,
} from '../controller/pretrain.js';
import { samplePrior, syntheticLatencies } from '../devices/synthetic.js';
import { UsageError } from '../errors.js';
import {
  checkEvaluations,
  DEFAULT_SEARCH,
  defaultEvaluations,
  resolveStrategy,
  runSearch,
  type DeviceSpec,
  type SearchJobOptions,
} from '../pipeline/index.js';
import { datasetOf, DEFAULT_SPACE_ID, spaceById, type SearchSpace } from '../spaces/index.js';
import { ProxyProvider } from '../spaces/nb201/proxies/provider.js';
import { reportFiles, toReport, writeReport } from '../report/report.js';
import { StagedFolder } from '../util/staged-folder.js';
import { integerIn, OPTIONS, refusalNamed } from '../options.js';
import { STRATEGIES, STRATEGY_CHOICES, type StrategyChoice } from '../search/strategies.js';
import {
  ARCHITECTURE_CONTROLLER_STRATEGIES,
  ARCHITECTURE_STRATEGIES,
  type AnyArchitectureStrategy,
} from '../search/architecture-search.js';
import { DEFAULT_BEST_KNOWN_FACTOR, DEFAULT_LAYERED_SEEDS } from '../bench/layered-search-bench.js';
import { spaceDataset } from './space-commands.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import { stderrLogger } from '../util/log.js';
import {
  fractionValue,
  listOf,
  nameList,
  pathValue,
  positiveInteger,
  printJson,
  samplesOption,
  spaceOption,
  seedValue,
  specOption,
} from './options.js';
import { quote } from '../util/quote.js';

/** `live`, or `table:CSV:COLUMN` (the last ':' separates the column, so paths may contain ':'). */
export function parseDeviceSpec(text: string, noise = 0): DeviceSpec {
  if (text === 'live') return { kind: 'live' };
  if (text.startsWith('table:')) {
    const rest = text.slice('table:'.length);
    const split = rest.lastIndexOf(':');
    if (split > 0 && split < rest.length - 1) {
      return { kind: 'table', path: rest.slice(0, split), column: rest.slice(split + 1), noise };
    }
  }
  throw new UsageError(
    `invalid device ${quote(text)}; expected 'live' (this machine) or 'table:CSV:COLUMN' (a recorded latency table)`,
  );
}

function parseStrategy(text: string): StrategyChoice {
  const found = STRATEGY_CHOICES.find((s) => s === text);
  if (!found)
    throw new UsageError(`unknown strategy ${quote(text)}; expected one of ${STRATEGY_CHOICES.join(', ')}`);
  return found;
}

interface SearchFlags {
  space: SearchSpace;
  budget?: number;
  dataset?: string;
  samples: number;
  verify: number;
  strategy: StrategyChoice;
  device: string;
  /** Undefined unless given, so that giving it with the live device can be warned about. */
  noise?: number;
  seed: number;
  controller?: string;
  evaluations?: number;
  calibrationImages?: string;
  computeMissingScores?: boolean;
  threads?: number;
  provider?: string;
  out: string;
  json?: boolean;
}

export function addSearchOptions(command: Command): Command {
  return (
    command
      .addOption(specOption(OPTIONS.budget, 'latency budget; default: the knee of the front'))
      .addOption(spaceOption())
      .addOption(specOption(OPTIONS.dataset))
      .addOption(specOption(OPTIONS.samples))
      .addOption(specOption(OPTIONS.verify))
      .addOption(specOption(OPTIONS.strategy))
      .option('--device <spec>', "'live' or 'table:CSV:COLUMN'", 'live')
      .option(
        '--noise <fraction>',
        'multiplicative noise on table latencies (recorded devices only; default 0)',
        fractionValue,
      )
      .addOption(specOption(OPTIONS.seed))
      .addOption(specOption(OPTIONS.controller, 'controller artifact (default: the bundled one)'))
      .option(
        '--evaluations <n>',
        'distinct architectures random, evolution and local search may evaluate (evolution needs 20 or more to ' +
          'start; default 500 in NB201, whose task scores are a table lookup, 64 where each is a forward pass)',
        positiveInteger,
      )
      .option(
        '--calibration-images <dir>',
        'PNG/JPEG folder for NASWOT instead of synthetic images',
        pathValue,
      )
      .option(
        '--compute-missing-scores',
        'compute task scores the proxy table lacks (about 1 s each) instead of searching only the cells it covers',
      )
      // No defaults here: given with a recorded device, they are warned about (ignoredDeviceOptions).
      .addOption(specOption({ ...OPTIONS.threads, defaultText: undefined }))
      .addOption(specOption({ ...OPTIONS.provider, defaultText: undefined }))
      .addOption(specOption(OPTIONS.reportDir))
      .option('--json', 'print the report as JSON')
  );
}

/**
 * Options that only one device kind uses, given with the other: a one-line warning each, not an
 * error (the search itself is still what was asked), so that they are not silently ignored.
 */
function ignoredDeviceOptions(flags: SearchFlags, device: DeviceSpec): string[] {
  const given = (option: string, value: unknown): string[] => (value === undefined ? [] : [option]);
  if (device.kind === 'live') {
    return given('--noise', flags.noise).map(
      (option) =>
        `${option} applies only to a recorded device (--device table:CSV:COLUMN); ignored for --device live`,
    );
  }
  return [...given('--threads', flags.threads), ...given('--provider', flags.provider)].map(
    (option) =>
      `${option} applies only to --device live; ignored for the recorded device ${quote(flags.device)}`,
  );
}

export function searchOptionsFrom(flags: SearchFlags): SearchJobOptions {
  const device = parseDeviceSpec(flags.device, flags.noise ?? 0);
  const live: DeviceSpec =
    device.kind === 'live'
      ? {
          kind: 'live',
          measure: {
            ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
            ...(flags.provider !== undefined ? { provider: flags.provider } : {}),
          },
        }
      : device;
  return {
    space: flags.space,
    dataset: refusalNamed('--dataset', () => datasetOf(flags.space, flags.dataset)),
    ...(flags.budget !== undefined ? { budgetMs: flags.budget } : {}),
    samples: flags.samples,
    verify: flags.verify,
    strategy: flags.strategy,
    device: live,
    seed: flags.seed,
    ...(flags.controller ? { controllerPath: flags.controller } : {}),
    ...(flags.evaluations !== undefined ? { evaluations: flags.evaluations } : {}),
    ...(flags.calibrationImages ? { calibrationImages: flags.calibrationImages } : {}),
    ...(flags.computeMissingScores ? { computeMissingScores: true } : {}),
    outDir: flags.out,
  };
}

export async function runSearchCommand(flags: SearchFlags): Promise<void> {
  const options = searchOptionsFrom(flags);
  for (const warning of ignoredDeviceOptions(flags, options.device)) stderrLogger.warn(warning);
  // Written whole: a failed search leaves an earlier report in --out as it was.
  const report = await StagedFolder.open(flags.out, '--out').run(async (folder) => {
    const written = toReport(await runSearch({ ...options, outDir: folder }, stderrLogger));
    await writeReport(written, folder);
    return written;
  });
  const files = reportFiles(flags.out);
  if (flags.json) return printJson(report);
  const rec = report.recommendation;
  process.stdout.write(
    [
      `recommended: ${rec.cell}`,
      `  measured ${rec.measuredMs.toPrecision(3)} ms (budget ${report.budget.ms.toPrecision(3)} ms, ${report.budget.source}), ` +
        `task score ${rec.taskScore.toFixed(4)}, ${rec.certified ? 'within budget' : rec.measuredMs <= report.budget.ms ? 'NOT certified (inside the noise margin)' : 'OVER budget'}`,
      `  ${rec.reason}`,
      `  ${report.measurements.total} real measurements (${report.measurements.samples} samples + ${report.measurements.verification} verification), ` +
        `${report.cellsEvaluated} ${flags.space.noun}s evaluated by ${report.strategy}, ${(report.wallMs / 1000).toFixed(1)} s`,
      ...(report.references ?? []).map(
        (r) =>
          `  beside ${r.name}: measured ${r.measuredMs.toPrecision(3)} ms, task score ${r.taskScore === null ? 'n/a' : r.taskScore.toFixed(4)}`,
      ),
      `report: ${files.json}, ${files.markdown}, ${files.svg}`,
      '',
    ].join('\n'),
  );
}

/**
 * Environment steps in one PPO iteration of `simnas pretrain` (parallel episodes x steps each):
 * pretraining runs whole iterations, so --steps is rounded up to a multiple of this.
 */
const PRETRAIN_ITERATION_STEPS = DEFAULT_PRETRAIN.episodes * DEFAULT_PRETRAIN.stepsPerEpisode;

const pretrainSteps = integerIn(
  1,
  Number.MAX_SAFE_INTEGER,
  `a positive integer (rounded up to whole PPO iterations of ${PRETRAIN_ITERATION_STEPS} steps: ` +
    `${DEFAULT_PRETRAIN.episodes} episodes x ${DEFAULT_PRETRAIN.stepsPerEpisode} steps)`,
).parse;

interface PretrainFlags {
  space: SearchSpace;
  dataset?: string;
  steps: number;
  seed: number;
  out: string;
}

interface SearchBenchFlags {
  space: SearchSpace;
  table: string;
  devices?: string[];
  accuracy?: string;
  dataset?: string;
  samples: number;
  verify: number;
  budgets: number[];
  seeds: number;
  noise: number;
  strategies: StrategyChoice[];
  controller?: string;
  evaluations?: number;
  unseen?: string[];
  bestKnownFactor: number;
  bestKnownStrategies?: string[];
  json?: boolean;
}

const budgetPercentiles = listOf('budget percentiles', 'p25,p50,p75');

/** `bench search --budgets`: percentiles p1..p99 of each device's latencies, as quantiles. */
function parseBudgetQuantiles(text: string): number[] {
  return budgetPercentiles(text).map((part) => {
    const match = /^p(\d{1,2})$/.exec(part);
    const percentile = match ? Number(match[1]) : 0;
    // p0 is the fastest cell's latency: only that cell fits, so there is nothing to search.
    if (percentile < 1) {
      throw new UsageError(
        `invalid budget percentile ${quote(part)}; expected p1 to p99, comma-separated, e.g. p25,p50,p75`,
      );
    }
    return percentile / 100;
  });
}

const DEFAULT_BENCH_BUDGETS = 'p25,p50,p75';

export function registerSearchCommands(program: Command, bench: Command): void {
  bench
    .command('search')
    .description('the whole search on recorded devices vs the oracle, each strategy and the naive baseline')
    .addOption(spaceOption())
    .requiredOption(
      '--table <csv>',
      'latency table (index,arch_str,<device columns>; index,arch,op_idx,<device columns> in layered spaces)',
    )
    .option('--devices <list>', 'comma-separated device columns (default: all)', nameList)
    .option('--accuracy <csv>', 'accuracy table with <dataset>_test_acc (nb201_accuracy.csv; NB201 only)')
    .addOption(specOption(OPTIONS.dataset))
    .addOption(samplesOption('sample cells per device'))
    .option('--verify <n>', 'verification measurements', positiveInteger, DEFAULT_SEARCH.verify)
    .addOption(
      new Option('--budgets <list>', 'budget percentiles (p1 to p99) of each device')
        .argParser(parseBudgetQuantiles)
        .default(parseBudgetQuantiles(DEFAULT_BENCH_BUDGETS), DEFAULT_BENCH_BUDGETS),
    )
    .option('--seeds <n>', 'seeds per device', positiveInteger, 10)
    .option(
      '--noise <fraction>',
      "multiplicative measurement noise (default: the live protocol's measured repeatability)",
      fractionValue,
      MEASURED_VERIFICATION_NOISE,
    )
    .addOption(
      new Option('--strategies <list>', "strategies to compare (auto: the space's default)")
        .argParser((text: string) => listOf('strategies', 'evolution,random')(text).map(parseStrategy))
        .default([...STRATEGIES], STRATEGIES.join(',')),
    )
    .option('--controller <file>', 'controller artifact (default: the bundled one)')
    .option(
      '--evaluations <n>',
      `cells for random/evolution (default: as many as the controller; layered spaces: as many as a search of the space spends by default)`,
      positiveInteger,
    )
    .option('--unseen <list>', 'devices not used to choose the prior, summarized separately', nameList)
    .option(
      '--best-known-factor <n>',
      'layered spaces: the best-known runs get this many times the evaluations, with exact latency',
      positiveInteger,
      DEFAULT_BEST_KNOWN_FACTOR,
    )
    .option(
      '--best-known-strategies <list>',
      'layered spaces: the strategies whose longer runs make the best-known (default: all of --strategies)',
      nameList,
    )
    .option('--json', 'print one JSON object')
    .action(async (flags: SearchBenchFlags, command: Command) => {
      if (flags.space.id !== DEFAULT_SPACE_ID) return layeredSearchBench(flags, command);
      if (!flags.accuracy) {
        throw new UsageError(
          `bench search --space ${DEFAULT_SPACE_ID} needs --accuracy <csv> (nb201_accuracy.csv: <dataset>_test_acc columns)`,
        );
      }
      const dataset = spaceDataset(flags.space, flags.dataset) as Dataset;
      const { formatSearchBench, runSearchBench } = await import('../bench/search-bench.js');
      const result = await runSearchBench({
        table: flags.table,
        ...(flags.devices ? { devices: flags.devices } : {}),
        accuracy: flags.accuracy,
        dataset,
        samples: flags.samples,
        verify: flags.verify,
        budgets: flags.budgets,
        seeds: flags.seeds,
        noise: flags.noise,
        // `auto` is what a search would run: the space's default (or the controller --controller names).
        strategies: [
          ...new Set(
            flags.strategies.map((strategy) =>
              resolveStrategy(
                {
                  strategy,
                  space: spaceById(DEFAULT_SPACE_ID),
                  dataset,
                  ...(flags.controller ? { controllerPath: flags.controller } : {}),
                },
                stderrLogger,
              ),
            ),
          ),
        ],
        ...(flags.controller ? { controllerPath: flags.controller } : {}),
        ...(flags.evaluations ? { evaluations: flags.evaluations } : {}),
        ...(flags.unseen ? { unseen: flags.unseen } : {}),
        logger: stderrLogger,
      });
      if (flags.json) return printJson(result);
      process.stdout.write(formatSearchBench(result));
    });

  addSearchOptions(
    program
      .command('search')
      // `npm start` runs `simnas start`: the main job is the search on this machine.
      .alias('start')
      .description('the main job: measure, adapt, search, verify and recommend a cell for this device'),
  ).action(runSearchCommand);

  program
    .command('pretrain')
    .description('pretrain the controller with PPO on synthetic devices (stage 1); resumes from --out')
    .addOption(specOption(OPTIONS.dataset))
    .option(
      '--steps <n>',
      `environment steps in total, rounded up to whole PPO iterations of ${PRETRAIN_ITERATION_STEPS}`,
      pretrainSteps,
      DEFAULT_PRETRAIN.timesteps,
    )
    .option('--seed <n>', 'seed', seedValue, DEFAULT_PRETRAIN.seed)
    .option('--out <dir>', 'output folder (controller.json, curve.csv, checkpoint.json)', 'controller-out')
    .addOption(spaceOption())
    .action(async (flags: PretrainFlags, command: Command) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const options = { outDir: flags.out, logger: stderrLogger, signal: stop.signal };
        const result =
          flags.space.id === DEFAULT_SPACE_ID
            ? await pretrainNb201(flags, options)
            : await pretrainLayered(flags, command, options);
        const last = result.curve[result.curve.length - 1];
        process.stdout.write(
          `controller: ${path.join(flags.out, CONTROLLER_FILE)}\ncurve: ${result.curvePath}\n` +
            (last
              ? `${last.iteration} iterations, ${last.timesteps} steps, ${last.seconds.toFixed(0)} s\n`
              : ''),
        );
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

async function pretrainNb201(flags: PretrainFlags, options: PretrainOptions): Promise<PretrainResult> {
  const provider = ProxyProvider.create({ logger: stderrLogger });
  const dataset = spaceDataset(flags.space, flags.dataset) as Dataset;
  const { scores, id } = await provider.allTaskScores(dataset);
  return pretrain(
    { ...DEFAULT_PRETRAIN, dataset, timesteps: flags.steps, seed: flags.seed },
    {
      space: spaceById(DEFAULT_SPACE_ID),
      taskScore: scores,
      taskScoreId: id,
      priorHash: PRIOR_HASH,
      sampleDeviceLatencies: (random) => syntheticLatencies(samplePrior(random, dataset)),
    },
    options,
  );
}

/** `pretrain --space <layered space>`: a stand-in of the task score, then PPO on layered devices. */
async function pretrainLayered(
  flags: PretrainFlags,
  command: Command,
  options: PretrainOptions,
): Promise<PretrainResult> {
  const { layeredSpaceById } = await import('../bench/layered-spaces.js');
  const { DEFAULT_LAYERED_PRETRAIN, pretrainLayeredController } =
    await import('../controller/architecture-pretrain.js');
  const { createTaskScorer } = await import('../proxies/task-scorer.js');
  const space = layeredSpaceById(flags.space.id);
  const dataset = spaceDataset(space, flags.dataset);
  const scorer = await createTaskScorer(space, { dataset, logger: stderrLogger });
  const steps =
    command.getOptionValueSource('steps') === 'default' ? DEFAULT_LAYERED_PRETRAIN.timesteps : flags.steps;
  return pretrainLayeredController(
    { ...DEFAULT_LAYERED_PRETRAIN, dataset, timesteps: steps, seed: flags.seed },
    scorer,
    options,
  );
}

/**
 * `bench search --space <layered space>`: strategies over architectures with the real task score
 * (src/bench/layered-search-bench.ts); `auto` is the space's default strategy.
 */
async function layeredSearchBench(flags: SearchBenchFlags, command: Command): Promise<void> {
  const { layeredSpaceById } = await import('../bench/layered-spaces.js');
  const { formatLayeredSearchBench, runLayeredSearchBench } =
    await import('../bench/layered-search-bench.js');
  const space = layeredSpaceById(flags.space.id);
  const dataset = spaceDataset(space, flags.dataset);
  const chosen =
    command.getOptionValueSource('strategies') === 'default'
      ? await defaultLayeredStrategies(
          space,
          dataset,
          flags.evaluations ?? defaultEvaluations(space),
          flags.controller,
        )
      : flags.strategies.map((strategy) =>
          resolveStrategy(
            { strategy, space, dataset, ...(flags.controller ? { controllerPath: flags.controller } : {}) },
            stderrLogger,
          ),
        );
  const accepted = [...ARCHITECTURE_STRATEGIES, ...ARCHITECTURE_CONTROLLER_STRATEGIES];
  const acceptedStrategy = (strategy: string): AnyArchitectureStrategy => {
    const found = accepted.find((s) => s === strategy);
    if (!found) {
      throw new UsageError(
        `--strategies: ${quote(strategy)} cannot run in the ${space.id} benchmark; expected auto or ${accepted.join(', ')}`,
      );
    }
    return found;
  };
  const strategies = [...new Set(chosen)].map(acceptedStrategy);
  const result = await runLayeredSearchBench({
    space,
    table: flags.table,
    ...(flags.devices ? { devices: flags.devices } : {}),
    dataset,
    samples: flags.samples,
    verify: flags.verify,
    budgets: flags.budgets,
    seeds: command.getOptionValueSource('seeds') === 'default' ? DEFAULT_LAYERED_SEEDS : flags.seeds,
    noise: flags.noise,
    strategies,
    ...(flags.controller ? { controllerPath: flags.controller } : {}),
    evaluations: flags.evaluations ?? defaultEvaluations(space),
    bestKnownFactor: flags.bestKnownFactor,
    ...(flags.bestKnownStrategies
      ? { bestKnownStrategies: flags.bestKnownStrategies.map(acceptedStrategy) }
      : {}),
    logger: stderrLogger,
  });
  if (flags.json) return printJson(result);
  process.stdout.write(formatLayeredSearchBench(result));
}

/**
 * Every strategy that can start with `evaluations` (local search needs a whole climb step), and the
 * controller beside its untrained self where a controller exists (--controller or the bundled one).
 */
async function defaultLayeredStrategies(
  space: SearchSpace,
  dataset: string,
  evaluations: number,
  controller: string | undefined,
): Promise<AnyArchitectureStrategy[]> {
  const { bundledArchitectureControllerPath, DEPLOYMENT_BATCH } =
    await import('../controller/architecture-rollout.js');
  const withController =
    controller !== undefined || existsSync(bundledArchitectureControllerPath(space, dataset));
  const plain = ARCHITECTURE_STRATEGIES.filter((strategy) => {
    try {
      checkEvaluations(strategy, evaluations, space);
      return true;
    } catch {
      stderrLogger.info(
        `--evaluations ${evaluations} is too few for ${strategy}: left out of the default strategies`,
      );
      return false;
    }
  });
  return withController && evaluations >= DEPLOYMENT_BATCH
    ? [...plain, ...ARCHITECTURE_CONTROLLER_STRATEGIES]
    : plain;
}
