// `simnas bench search --space <layered space>` (FBNet): the whole stage 2 on recorded columns of a
// space that cannot be enumerated, scored by the real task score (createTaskScorer: NASWOT forward
// passes, cached in memory and on disk). A column whose latency is per-block additive (FBNet's
// eyeriss, fpga and pixel3 in the HELP table) is known for every architecture once the per-block
// table is fitted to all the table's rows; the fit's error is reported, so a column that is not
// additive shows. Per device, budget (a percentile of the column), seed and strategy: the designed
// samples are measured with noise, the layered latency model fitted, the strategy searched on its
// conservative latencies with a budget of distinct task-score evaluations, the candidates verified
// by noisy measurements; then objective regret against the best-known task score within the true
// budget (the best of every strategy given `bestKnownFactor` times the evaluations and the exact
// latency), violation, measurements, evaluations and wall time. No accuracy exists for FBNet, so
// regret is in task score, not accuracy. The controller strategies deploy the pretrained policy and
// the same policy untrained alike (src/controller/architecture-rollout.ts), within the same budget of
// evaluations. Reads ground truth, so it lives in src/bench/.
import {
  designLayeredSamples,
  fitLayeredLatencyModel,
  layeredBank,
  layeredColumns,
} from '../devices/layered-model.js';
import { layerTable } from '../devices/layered-synthetic.js';
import type { Device } from '../devices/device.js';
import type { LatencyModel } from '../devices/latency-model.js';
import { UsageError } from '../errors.js';
import {
  checkControllerEvaluations,
  checkEvaluations,
  CONSERVATIVE_Z,
  EVOLUTION_POPULATION,
  predictionFloor,
  verifyCandidates,
  type AdaptedDevice,
} from '../pipeline/index.js';
import { createTaskScorer, type TaskScorer } from '../proxies/task-scorer.js';
import {
  architecturePolicy,
  loadArchitectureController,
  untrainedArchitectureController,
  type LoadedArchitectureController,
} from '../controller/architecture-rollout.js';
import {
  isArchitectureControllerStrategy,
  runArchitectureStrategy,
  type AnyArchitectureStrategy,
  type ArchitectureEvaluations,
  type ArchitecturePolicy,
  type ArchitectureProblem,
} from '../search/architecture-search.js';
import type { Architecture } from '../spaces/space.js';
import { silentLogger } from '../util/log.js';
import { Random } from '../util/random.js';
import { mean, median, quantile } from '../util/stats.js';
import { completeColumns, fitLayerWeights, layeredSum, readLayeredTable } from './layered-latency-bench.js';
import type { BenchLayeredSpace } from './layered-spaces.js';
import type { SearchBenchOptions } from './search-bench.js';

/**
 * The defaults keep the benchmark to about an hour here, where one task score costs 0.56 s (FBNet
 * CIFAR-100, an idle core; 2 s at a load average of 8). Each run spends the evaluations a search
 * spends by default (`defaultEvaluations`: 64). The best-known runs dominate: per device and budget
 * every strategy runs again with bestKnownFactor x the evaluations, and only random search's draws
 * are shared across devices and budgets. At factor 5, evolution and random, 3 columns x 3 budgets x
 * 1 seed: at most 10 + 320 + 9 x (320 + 64), about 3,800 task scores (taskScoreBound). The issue's
 * factor of 20 (`--best-known-factor 20`) is about 14,000: two hours or more.
 * Local search needs one full climb step to start (an architecture and its 176 neighbours in
 * FBNet), so it runs only when asked for with `--evaluations 177` or more. Where a controller exists
 * (the bundled one or --controller), the defaults add it and its untrained self (the ablation), each
 * spending the same evaluations: two more strategies' runs; `--best-known-strategies
 * evolution,random` leaves their longer runs out of the best-known.
 */
export const DEFAULT_LAYERED_SEEDS = 1;
export const DEFAULT_BEST_KNOWN_FACTOR = 5;
/** A column is called additive when the per-block fit is within this of every row. */
const ADDITIVE_TOLERANCE = 0.01;

/** The NB201 benchmark's settings that mean the same here (budgets: quantiles of each column). */
export interface LayeredSearchBenchOptions extends Pick<
  SearchBenchOptions,
  'table' | 'devices' | 'samples' | 'verify' | 'budgets' | 'seeds' | 'noise' | 'logger'
> {
  readonly space: BenchLayeredSpace;
  /** One of the space's datasets (default its first). */
  readonly dataset?: string;
  readonly strategies: readonly AnyArchitectureStrategy[];
  /** The controller artifact of the controller strategies (default: the bundled one). */
  readonly controllerPath?: string;
  /** Distinct task-score evaluations per strategy run. */
  readonly evaluations: number;
  readonly bestKnownFactor: number;
  /**
   * The strategies whose longer runs make the best-known (default: every benchmarked one). Leaving
   * the controllers out halves the task scores a run with both of them computes; their picks then
   * show against the others' best-known, and `beat` counts where they pass it.
   */
  readonly bestKnownStrategies?: readonly AnyArchitectureStrategy[];
  /** The task-score cache folder (default the user cache; null: memory only). */
  readonly cacheDir?: string | null;
  /** Replaces createTaskScorer's default scorer (tests: a smaller reference sample). */
  readonly scorer?: TaskScorer;
}

export interface LayeredSearchRow {
  readonly device: string;
  readonly budget: string;
  readonly strategy: AnyArchitectureStrategy;
  readonly seed: number;
  /** Best-known task score within the true budget minus the pick's (a pick over budget: never below 0). */
  readonly regret: number;
  /** The pick's task score over the best-known. */
  readonly objective_share: number;
  readonly violation: boolean;
  readonly measurements: number;
  /** Distinct task-score evaluations the strategy spent. */
  readonly evaluations: number;
  readonly architecture: string;
  readonly task_score: number;
  readonly latency_ms: number;
  readonly budget_ms: number;
  /** Strategy and verification, task scores included (cached ones cost nothing). */
  readonly wall_ms: number;
}

export interface BestKnown {
  readonly device: string;
  readonly budget: string;
  readonly budget_ms: number;
  readonly task_score: number;
  readonly architecture: string;
  readonly strategy: AnyArchitectureStrategy;
  readonly evaluations: number;
}

export interface LayeredStrategySummary {
  readonly mean_regret: Record<string, number>;
  readonly mean_objective_share: number;
  readonly violation_rate: number;
  /** Share of runs whose pick, within budget, scored above the best-known. */
  readonly beat_best_known: number;
  readonly mean_measurements: number;
  readonly mean_evaluations: number;
  readonly median_wall_ms: number;
}

export interface LayeredSearchBenchResult {
  readonly space: string;
  readonly table: string;
  readonly dataset: string;
  readonly noise: number;
  readonly seeds: number;
  readonly evaluations: number;
  readonly best_known_factor: number;
  readonly best_known_strategies: readonly AnyArchitectureStrategy[];
  readonly task_score_id: string;
  /** The controller the controller strategies deployed: its file, hash and stand-in. */
  readonly controller?: {
    readonly path: string;
    readonly sha256: string;
    readonly stand_in: string;
    readonly stand_in_held_out_spearman: number | null;
  };
  /** Per device: the per-block fit's largest and median relative error over the table's rows. */
  readonly additive_fit: readonly { device: string; max_error: number; median_error: number }[];
  readonly best_known: readonly BestKnown[];
  readonly results: readonly LayeredSearchRow[];
  readonly summary: Record<string, LayeredStrategySummary>;
  /** Task scores computed (not cached), and the median wall time of one. */
  readonly task_scores_computed: number;
  readonly median_ms_per_evaluation: number;
  readonly seconds: number;
}

const budgetLabel = (q: number): string => `p${Math.round(q * 100)}`;

/** A column replayed as a device: the per-block latency, times log-normal noise per measurement. */
function additiveDevice(
  name: string,
  latency: (a: Architecture) => number,
  noise: number,
  random: Random,
): Device {
  return {
    name,
    kind: 'recorded',
    measure: (cells) =>
      Promise.resolve({
        latenciesMs: Float64Array.from(cells, (cell) => latency(cell) * Math.exp(noise * random.normal())),
        measurementsSpent: cells.length,
      }),
    measurementNoise: () => noise,
  };
}

export async function runLayeredSearchBench(
  options: LayeredSearchBenchOptions,
): Promise<LayeredSearchBenchResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const { space } = options;
  const dataset = options.dataset ?? space.datasets[0]!;
  if (!space.datasets.includes(dataset)) {
    throw new UsageError(
      `dataset '${dataset}' is not one of the ${space.id} space's: ${space.datasets.join(', ')}`,
    );
  }
  if (options.strategies.length === 0) throw new UsageError('--strategies: no strategy to benchmark');
  // The controller strategies: the pretrained policy, or the same one untrained (seeded per run).
  const controller = options.strategies.some(isArchitectureControllerStrategy)
    ? loadArchitectureController(options.controllerPath, space, dataset)
    : undefined;
  const policyFor = (strategy: AnyArchitectureStrategy, seed: number): ArchitecturePolicy | undefined =>
    !controller
      ? undefined
      : strategy === 'controller'
        ? architecturePolicy(controller)
        : strategy === 'controller-untrained'
          ? architecturePolicy(untrainedArchitectureController(controller, seed))
          : undefined;
  for (const strategy of options.strategies) {
    const policy = policyFor(strategy, 0);
    if (policy) checkControllerEvaluations(strategy, options.evaluations, policy);
    else checkEvaluations(strategy, options.evaluations, space);
  }
  if (!Number.isInteger(options.bestKnownFactor) || options.bestKnownFactor < 1) {
    throw new UsageError(`--best-known-factor ${options.bestKnownFactor}: expected an integer of 1 or more`);
  }
  const knownFrom = options.bestKnownStrategies ?? options.strategies;
  const stray = knownFrom.filter((s) => !options.strategies.includes(s));
  if (knownFrom.length === 0 || stray.length > 0) {
    throw new UsageError(
      `--best-known-strategies: ${stray.length > 0 ? `${stray.join(', ')} not among --strategies` : 'none given'}; ` +
        `expected some of ${options.strategies.join(', ')}`,
    );
  }
  const table = readLayeredTable(options.table, space);
  const names = completeColumns(table, options.devices, 'its per-block table is fitted to every row');
  const layers = layerTable(space, dataset);
  const columns = table.architectures.map((arch) => layeredColumns(layers, arch));

  const scorer =
    options.scorer ?? (await createTaskScorer(space, { dataset, cacheDir: options.cacheDir, logger }));
  const costs: number[] = [];
  const scores = async (architectures: readonly Architecture[]): Promise<number[]> => {
    const out: number[] = [];
    for (const architecture of architectures) {
      const before = scorer.computed;
      const t = performance.now();
      out.push(await scorer.score(architecture));
      if (scorer.computed > before) {
        costs.push(performance.now() - t);
        if (costs.length % 50 === 0) {
          logger.info(`${costs.length} task scores computed (median ${median(costs).toFixed(0)} ms each)`);
        }
      }
    }
    return out;
  };

  const bank = layeredBank(space, dataset);
  const fitModel = (cells: readonly Architecture[], latenciesMs: ArrayLike<number>): LatencyModel =>
    fitLayeredLatencyModel(
      space,
      { architectures: cells, latenciesMs },
      { dataset, bank, measurementNoise: options.noise },
    );
  const design = designLayeredSamples(space, options.samples, { dataset });
  logger.info(
    `at most ${taskScoreBound(options, names.length).toLocaleString('en-US')} task scores to compute ` +
      `(fewer where runs share architectures or the cache has them)`,
  );
  const designScores = await scores(design);

  const additiveFit: LayeredSearchBenchResult['additive_fit'][number][] = [];
  const bestKnown: BestKnown[] = [];
  const results: LayeredSearchRow[] = [];
  for (const name of names) {
    const column = table.latencies.get(name)!;
    const weights = fitLayerWeights(columns, column, layers.featureCount);
    const errors = columns.map((active, i) => Math.abs(layeredSum(weights, active) / column[i]! - 1));
    additiveFit.push({ device: name, max_error: Math.max(...errors), median_error: median(errors) });
    if (Math.max(...errors) > ADDITIVE_TOLERANCE) {
      logger.warn(
        `${name}: the per-block table misses some rows by up to ${(100 * Math.max(...errors)).toFixed(1)}%; ` +
          `its true latency off the table's rows is approximate`,
      );
    }
    const truth = (a: Architecture): number => layeredSum(weights, layeredColumns(layers, a));
    const problemOf = (latencyMs: (a: Architecture) => number, budgetMs: number): ArchitectureProblem => ({
      space,
      taskScores: scores,
      latencyMs,
      budgetMs,
    });
    const budgetsMs = options.budgets.map((q) => quantile(column, q));

    // Best-known per budget: every strategy with the exact latency and bestKnownFactor x the evaluations.
    const known = new Map<string, BestKnown>();
    for (const [b, q] of options.budgets.entries()) {
      const budgetMs = budgetsMs[b]!;
      let best: BestKnown | undefined;
      for (const strategy of knownFrom) {
        const evaluations = await runArchitectureStrategy(
          strategy,
          problemOf(truth, budgetMs),
          { evaluations: options.evaluations * options.bestKnownFactor, population: EVOLUTION_POPULATION },
          // Seed 0's stream: random search's seed-0 run is then a prefix of this one (no new scores).
          new Random(0).child(`strategy:${strategy}`),
          policyFor(strategy, 0),
        );
        for (const e of evaluations.values()) {
          if (e.latencyMs <= budgetMs && (!best || e.taskScore > best.task_score)) {
            best = {
              device: name,
              budget: budgetLabel(q),
              budget_ms: budgetMs,
              task_score: e.taskScore,
              architecture: space.format(e.architecture),
              strategy,
              evaluations: evaluations.size,
            };
          }
        }
      }
      if (!best) throw new UsageError(`${name}: no architecture evaluated fits the ${budgetLabel(q)} budget`);
      known.set(best.budget, best);
      bestKnown.push(best);
      logger.info(
        `${name} ${best.budget}: best-known task score ${best.task_score.toFixed(4)} (${best.strategy})`,
      );
    }

    for (let seed = 0; seed < options.seeds; seed++) {
      const sampleDevice = additiveDevice(
        name,
        truth,
        options.noise,
        new Random(seed).child(`samples:${name}`),
      );
      const measured = await sampleDevice.measure(design);
      const model = fitModel(design, measured.latenciesMs);
      const floor = predictionFloor(measured.latenciesMs);
      const predictMean = (a: Architecture): { mean: number; std: number } => {
        const p = model.predict(a);
        return { mean: Math.max(floor, p.meanMs), std: p.stdMs };
      };
      for (const [b, q] of options.budgets.entries()) {
        const budgetMs = budgetsMs[b]!;
        const reference = known.get(budgetLabel(q))!;
        for (const strategy of options.strategies) {
          const runStarted = performance.now();
          const evaluations = await runArchitectureStrategy(
            strategy,
            problemOf((a) => {
              const p = predictMean(a);
              return p.mean + CONSERVATIVE_Z * p.std;
            }, budgetMs),
            { evaluations: options.evaluations, population: EVOLUTION_POPULATION },
            new Random(seed).child(`strategy:${strategy}`),
            policyFor(strategy, seed),
          );
          const pick = await verifyPick(
            evaluations,
            { design, designScores, measured: measured.latenciesMs, model, predictMean, budgetMs },
            additiveDevice(name, truth, options.noise, new Random(seed + 1_000_003).child(`verify:${name}`)),
            { ...options, dataset },
            (cells, latencies) => fitModel(cells, latencies),
          );
          const latencyMs = truth(pick.architecture);
          const violation = !(latencyMs <= budgetMs);
          const regret = reference.task_score - pick.taskScore;
          results.push({
            device: name,
            budget: reference.budget,
            strategy,
            seed,
            regret: violation ? Math.max(0, regret) : regret,
            objective_share: pick.taskScore / reference.task_score,
            violation,
            measurements: measured.measurementsSpent + pick.measurementsSpent,
            evaluations: evaluations.size,
            architecture: space.format(pick.architecture),
            task_score: pick.taskScore,
            latency_ms: latencyMs,
            budget_ms: budgetMs,
            wall_ms: performance.now() - runStarted,
          });
        }
      }
      logger.info(`${name} seed ${seed}: done`);
    }
  }
  return {
    space: space.id,
    table: options.table,
    dataset,
    noise: options.noise,
    seeds: options.seeds,
    evaluations: options.evaluations,
    best_known_factor: options.bestKnownFactor,
    best_known_strategies: knownFrom,
    task_score_id: scorer.id,
    ...(controller ? { controller: controllerSummary(controller) } : {}),
    additive_fit: additiveFit,
    best_known: bestKnown,
    results,
    summary: summarize(results, options.budgets.map(budgetLabel), bestKnown),
    task_scores_computed: costs.length,
    median_ms_per_evaluation: costs.length > 0 ? median(costs) : Number.NaN,
    seconds: (performance.now() - started) / 1000,
  };
}

function controllerSummary(
  controller: LoadedArchitectureController,
): NonNullable<LayeredSearchBenchResult['controller']> {
  return {
    path: controller.path,
    sha256: controller.sha256,
    stand_in: controller.standIn.id,
    stand_in_held_out_spearman: controller.standIn.record.heldOutSpearman ?? null,
  };
}

/**
 * Distinct task scores a run may compute: the samples, the best-known runs (random search's draws
 * are the same for every column and budget) and the seeds' runs (seed 0's random run is a prefix
 * of its best-known run).
 */
export function taskScoreBound(
  options: Pick<
    LayeredSearchBenchOptions,
    'samples' | 'strategies' | 'evaluations' | 'bestKnownFactor' | 'budgets' | 'seeds' | 'bestKnownStrategies'
  >,
  devices: number,
): number {
  const pairs = devices * options.budgets.length;
  const known = options.evaluations * options.bestKnownFactor;
  const knownFrom = options.bestKnownStrategies ?? options.strategies;
  const others = options.strategies.filter((s) => s !== 'random');
  const random = options.strategies.includes('random') ? 1 : 0;
  return (
    options.samples +
    random * ((knownFrom.includes('random') ? known : 0) + (options.seeds - 1) * options.evaluations) +
    others.length * pairs * options.seeds * options.evaluations +
    others.filter((s) => knownFrom.includes(s)).length * pairs * known
  );
}

interface SampleFit {
  readonly design: readonly Architecture[];
  readonly designScores: readonly number[];
  readonly measured: Float64Array;
  readonly model: LatencyModel;
  readonly predictMean: (a: Architecture) => { mean: number; std: number };
  readonly budgetMs: number;
}

/**
 * Verification as the pipeline does it (verifyCandidates), on local numbers: the samples first,
 * then every architecture the strategy scored.
 */
async function verifyPick(
  evaluations: ArchitectureEvaluations,
  fit: SampleFit,
  device: Device,
  options: Pick<LayeredSearchBenchOptions, 'space' | 'verify' | 'noise'> & { readonly dataset: string },
  fitModel: (cells: readonly Architecture[], latencies: ArrayLike<number>) => LatencyModel,
): Promise<{ architecture: Architecture; taskScore: number; measurementsSpent: number }> {
  const { space } = options;
  const architectures: Architecture[] = [...fit.design];
  const taskScores: number[] = [...fit.designScores];
  const index = new Map(architectures.map((a, i) => [space.key(a), i]));
  const pool = new Map<number, number>();
  for (const [key, e] of evaluations) {
    let code = index.get(key);
    if (code === undefined) {
      code = architectures.length;
      index.set(key, code);
      architectures.push(e.architecture);
      taskScores.push(e.taskScore);
    }
    pool.set(code, e.objective);
  }
  const predictions = architectures.map(fit.predictMean);
  const adapted: AdaptedDevice = {
    samples: fit.design.map((a, i) => ({ code: i, cell: space.format(a), measuredMs: fit.measured[i]! })),
    measurementsSpent: fit.design.length,
    fit: {
      looMapePercent: fit.model.looError.mape,
      looRmseMs: fit.model.looError.rmseMs,
      noiseSd: fit.model.parameters.noiseSd,
      modeWeights: fit.model.parameters.modeWeights,
    },
    predicted: {
      mean: Float64Array.from(predictions, (p) => p.mean),
      std: Float64Array.from(predictions, (p) => p.std),
    },
  };
  const check = await verifyCandidates(
    device,
    adapted,
    pool,
    {
      space,
      verify: options.verify,
      scores: Float64Array.from(taskScores),
      budgetMs: fit.budgetMs,
      noise: options.noise,
      refitDataset: options.dataset,
      architectureOf: (code) => architectures[code]!,
      fitModel: (samples) => fitModel(samples.cells, samples.latenciesMs),
    },
    silentLogger,
  );
  const code = check.recommendation.code;
  return {
    architecture: architectures[code]!,
    taskScore: taskScores[code]!,
    measurementsSpent: check.measurementsSpent,
  };
}

function summarize(
  rows: readonly LayeredSearchRow[],
  labels: readonly string[],
  bestKnown: readonly BestKnown[],
): Record<string, LayeredStrategySummary> {
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const reference = new Map(bestKnown.map((b) => [`${b.device}/${b.budget}`, b.task_score]));
  return Object.fromEntries(
    strategies.map((strategy) => {
      const mine = rows.filter((r) => r.strategy === strategy);
      return [
        strategy,
        {
          mean_regret: Object.fromEntries(
            labels.map((l) => [l, mean(mine.filter((r) => r.budget === l).map((r) => r.regret))]),
          ),
          mean_objective_share: mean(mine.map((r) => r.objective_share)),
          violation_rate: mine.filter((r) => r.violation).length / Math.max(1, mine.length),
          beat_best_known:
            mine.filter((r) => !r.violation && r.task_score > reference.get(`${r.device}/${r.budget}`)!)
              .length / Math.max(1, mine.length),
          mean_measurements: mean(mine.map((r) => r.measurements)),
          mean_evaluations: mean(mine.map((r) => r.evaluations)),
          median_wall_ms: median(mine.map((r) => r.wall_ms)),
        },
      ];
    }),
  );
}

export function formatLayeredSearchBench(result: LayeredSearchBenchResult): string {
  const labels = Object.keys(Object.values(result.summary)[0]?.mean_regret ?? {});
  return [
    `search bench: ${result.space} ${result.dataset}, ${result.table}, task score ${result.task_score_id}, ` +
      `${result.seeds} seed(s), ${result.evaluations} evaluations per run, ${(100 * result.noise).toFixed(1)}% noise`,
    `regret: task score below the best-known within the true budget (best of ${result.best_known_strategies.join(', ')} with ` +
      `${result.best_known_factor}x the evaluations and the exact latency; a pick over budget counts as 0, not below); ` +
      `share: the pick's task score over the best-known; beat: picks within budget above the best-known`,
    ...(result.controller
      ? [
          `controller: ${result.controller.path} (sha256 ${result.controller.sha256}); the controller strategies act on ` +
            `its stand-in ${result.controller.stand_in}` +
            (result.controller.stand_in_held_out_spearman === null
              ? ''
              : ` (Spearman ${result.controller.stand_in_held_out_spearman.toFixed(3)} with the real score where not fitted)`) +
            `; controller-untrained: the same policy with fresh weights, deployed alike`,
        ]
      : []),
    `per-block fit (largest / median error over the table's rows): ` +
      result.additive_fit
        .map((f) => `${f.device} ${(100 * f.max_error).toFixed(2)}% / ${(100 * f.median_error).toFixed(3)}%`)
        .join(', '),
    [
      'strategy',
      ...labels.map((l) => `regret ${l}`),
      'share',
      'violations',
      'beat',
      'measurements',
      'evaluations',
      'wall s',
    ].join('\t'),
    ...Object.entries(result.summary).map(([strategy, s]) =>
      [
        strategy,
        ...labels.map((l) => s.mean_regret[l]!.toFixed(4)),
        `${(100 * s.mean_objective_share).toFixed(2)}%`,
        `${(100 * s.violation_rate).toFixed(1)}%`,
        `${(100 * s.beat_best_known).toFixed(1)}%`,
        s.mean_measurements.toFixed(1),
        s.mean_evaluations.toFixed(0),
        (s.median_wall_ms / 1000).toFixed(1),
      ].join('\t'),
    ),
    `task scores computed: ${result.task_scores_computed} (median ${result.median_ms_per_evaluation.toFixed(0)} ms each); ` +
      `wall ${result.seconds.toFixed(0)} s`,
    '',
  ].join('\n');
}
