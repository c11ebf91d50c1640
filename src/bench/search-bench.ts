// `simnas bench search`: the whole stage 2 on recorded devices, scored against ground truth. For
// every device, budget (a quantile of that device's own latencies), seed and strategy: accuracy
// regret against the oracle (best true test accuracy among cells truly within budget; a pick over
// budget earns no credit, so never below 0), the strict regret (a pick over budget is a failure,
// worth a random cell within budget), violation (true latency over budget), real measurements
// spent, distinct cells evaluated and wall time; in the same run the naive baseline (10 random
// cells, NNLS on op counts, best task score under the predicted budget, no verification) and two
// references that need no search at all: the best task score among cells whose *true* latency fits
// the budget, without and with the verification's noise margin: this task score's own pick with
// perfect latency knowledge. Averaged over devices they split a strategy's regret into what the
// task score costs and what the latency model, search and noisy verification cost; on one device a
// strategy may beat them by luck, since the task score's best cell is not always the most accurate.
// Reads ground truth, so it lives in src/bench/.
import { UsageError } from '../errors.js';
import { readLatencyTable, RecordedDevice } from '../devices/recorded.js';
import {
  adaptToDevice,
  loadController,
  measurableScores,
  deployedPolicy,
  runStrategy,
  searchProblem,
  untrainedPolicy,
  verifyCandidates,
  type LoadedController,
} from '../pipeline/index.js';
import { ProxyProvider } from '../spaces/nb201/proxies/provider.js';
import { objective } from '../search/objective.js';
import { certifiedThresholdMs, DEFAULT_MARGIN_Z } from '../search/verification.js';
import { STRATEGIES, type StrategyName } from '../search/strategies.js';
import { decodeCell, formatCell, SPACE_SIZE } from '../spaces/nb201/cell.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import { spaceById } from '../spaces/index.js';
import { numberingOf } from '../spaces/numbering.js';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import { Random } from '../util/random.js';
import { mean, median, quantile } from '../util/stats.js';
import { naiveBaseline } from './latency-bench.js';

/** The space whose recorded tables (NAS-Bench-201 cells) this benchmark replays. */
const NB201 = spaceById('nb201');

export interface SearchBenchOptions {
  readonly table: string;
  readonly devices?: readonly string[];
  readonly accuracy: string;
  readonly dataset: Dataset;
  readonly samples: number;
  readonly verify: number;
  /** Budget quantiles of each device's latencies, e.g. [0.25, 0.5, 0.75]. */
  readonly budgets: readonly number[];
  readonly seeds: number;
  readonly noise: number;
  readonly strategies: readonly StrategyName[];
  readonly controllerPath?: string;
  /** Cells random/evolution evaluate; default: as many as the controller did (equal cells). */
  readonly evaluations?: number;
  /** Devices whose profiles were not used to choose the prior, summarized separately. */
  readonly unseen?: readonly string[];
  /** Replaces the proxy provider (tests). */
  readonly taskScores?: (dataset: Dataset) => Promise<{ scores: Float64Array; id: string }>;
  readonly logger?: Logger;
}

/**
 * Picks made with every cell's true latency (no measurement): the best task score within the
 * budget, and within the budget less the margin a single noisy verification needs.
 */
export const EXACT_LATENCY_REFERENCES = ['exact-latency', 'exact-latency-margin'] as const;
type ExactLatencyReference = (typeof EXACT_LATENCY_REFERENCES)[number];

export interface SearchBenchRow {
  readonly device: string;
  readonly budget: string;
  readonly strategy: StrategyName | 'naive' | ExactLatencyReference;
  readonly seed: number;
  /** Oracle minus the pick's accuracy; a pick over budget earns no credit (never below 0). */
  readonly regret: number;
  /** As `regret`, but a pick over budget counts as a failure: worth a random cell within budget. */
  readonly regret_strict: number;
  readonly violation: boolean;
  /** The recommended cell and its task score. */
  readonly cell: string;
  readonly task_score: number;
  readonly measurements: number;
  readonly cells_evaluated: number;
  readonly wall_ms: number;
  /** Objective of the strategy's best cell over the exhaustive optimum (same problem). */
  readonly objective_ratio?: number;
}

type PerBudget = Record<string, number>;
export interface StrategySummary {
  readonly mean_regret: PerBudget;
  readonly median_regret: PerBudget;
  readonly p90_regret: PerBudget;
  /** Mean of `regret_strict`: violations count as failures. */
  readonly mean_regret_strict: PerBudget;
  readonly violation_rate: number;
  /** Real measurements per pick (samples and verifications) and cells evaluated per pick. */
  readonly mean_measurements: number;
  readonly mean_cells_evaluated: number;
  readonly controller_vs_exhaustive?: number;
}

export interface SearchBenchResult {
  readonly table: string;
  readonly dataset: Dataset;
  /** Relative sd of the simulated measurement noise. */
  readonly noise: number;
  readonly task_score_id: string;
  /** Cells with a task score (the proxy table may still be partial). */
  readonly scored_cells: number;
  readonly results: readonly SearchBenchRow[];
  readonly summary: Record<string, StrategySummary>;
  readonly summary_unseen?: Record<string, StrategySummary>;
}

const budgetLabel = (q: number): string => `p${Math.round(q * 100)}`;

export async function runSearchBench(options: SearchBenchOptions): Promise<SearchBenchResult> {
  const logger = options.logger ?? silentLogger;
  const table = readLatencyTable(options.table, NB201);
  const devices = options.devices ?? table.columns;
  for (const name of [...devices, ...(options.unseen ?? [])]) {
    if (!table.latencies.has(name)) {
      throw new UsageError(
        `${options.table}: no column '${name}'; the columns are: ${table.columns.join(', ')}`,
      );
    }
  }
  for (const name of options.unseen ?? []) {
    if (!devices.includes(name)) {
      throw new UsageError(`--unseen '${name}' is not among the devices benchmarked: ${devices.join(', ')}`);
    }
  }
  const accuracyColumn = `${options.dataset}_test_acc`;
  const accuracy = readLatencyTable(options.accuracy, NB201).latencies.get(accuracyColumn);
  if (!accuracy) throw new UsageError(`${options.accuracy}: no column '${accuracyColumn}'`);
  const { scores: rawScores, id } = await (
    options.taskScores ??
    ((dataset: Dataset) => ProxyProvider.create({ logger }).allTaskScores(dataset, { computeMissing: false }))
  )(options.dataset);
  // Cells without a score yet (a partial proxy table) are never picked: below every real score.
  const scored = Array.from(rawScores, (s) => Number.isFinite(s));
  const scores = Float64Array.from(rawScores, (s) => (Number.isFinite(s) ? s : -1));
  const scoredCount = scored.filter(Boolean).length;
  if (scoredCount < SPACE_SIZE) {
    logger.warn(`task scores cover ${scoredCount} of ${SPACE_SIZE} cells; figures are over those cells only`);
  }
  const controller: LoadedController | undefined = options.strategies.some((s) => s.startsWith('controller'))
    ? loadController(options.controllerPath, NB201, options.dataset)
    : undefined;
  const order = [...options.strategies].sort((a, b) => STRATEGIES.indexOf(a) - STRATEGIES.indexOf(b));

  const results: SearchBenchRow[] = [];
  try {
    for (const name of devices) {
      const truth = table.latencies.get(name)!;
      const usable = (code: number): boolean => scored[code]! && Number.isFinite(truth[code]!);
      const usableTruth = Float64Array.from({ length: SPACE_SIZE }, (_, code) =>
        usable(code) ? truth[code]! : Number.NaN,
      ).filter(Number.isFinite);
      // Which cells the column has does not change with the seed.
      const deviceScores = measurableScores(scores, RecordedDevice.fromTable(table, name), NB201);
      const available = Array.from({ length: SPACE_SIZE }, (_, code) => code).filter((c) =>
        Number.isFinite(truth[c]!),
      );
      for (let seed = 0; seed < options.seeds; seed++) {
        const device = RecordedDevice.fromTable(table, name, { noise: options.noise, seed });
        const adapted = await adaptToDevice(
          device,
          { space: NB201, dataset: options.dataset, samples: options.samples },
          silentLogger,
        );
        const baselineDevice = RecordedDevice.fromTable(table, name, { noise: options.noise, seed });
        const baseline = await naiveBaseline(
          baselineDevice,
          available,
          options.samples,
          new Random(seed).child(`naive:${name}`),
        );
        for (const q of options.budgets) {
          const budgetMs = quantile(usableTruth, q);
          const label = budgetLabel(q);
          let oracle = -Infinity;
          const feasibleAccuracies: number[] = [];
          for (let code = 0; code < SPACE_SIZE; code++) {
            if (usable(code) && truth[code]! <= budgetMs) {
              oracle = Math.max(oracle, accuracy[code]!);
              feasibleAccuracies.push(accuracy[code]!);
            }
          }
          // What a violation is worth when it counts as a failure: the expected regret of a cell
          // drawn at random among those within budget, i.e. the search told the user nothing.
          const failureRegret = oracle - mean(feasibleAccuracies);
          const score = (
            code: number,
            started: number,
            extra: Omit<
              SearchBenchRow,
              | 'device'
              | 'budget'
              | 'seed'
              | 'regret'
              | 'regret_strict'
              | 'violation'
              | 'cell'
              | 'task_score'
              | 'wall_ms'
            >,
          ): SearchBenchRow => {
            const violation = !(truth[code]! <= budgetMs);
            const regret = oracle - accuracy[code]!;
            return {
              device: name,
              budget: label,
              seed,
              regret: violation ? Math.max(0, regret) : regret,
              regret_strict: violation ? Math.max(regret, failureRegret) : regret,
              violation,
              cell: formatCell(decodeCell(code)),
              task_score: scores[code]!,
              wall_ms: performance.now() - started,
              ...extra,
            };
          };

          // Naive baseline: best score among cells predicted within budget, no verification.
          const naiveStart = performance.now();
          const naivePick = bestScoredWithin(baseline, scores, usable, budgetMs);
          if (naivePick >= 0) {
            results.push(
              score(naivePick, naiveStart, {
                strategy: 'naive',
                measurements: options.samples,
                cells_evaluated: SPACE_SIZE,
              }),
            );
          }

          // The references do not depend on the seed: one row per device and budget.
          if (seed === 0) {
            const marginMs = certifiedThresholdMs(budgetMs, 0, {
              noise: options.noise,
              marginZ: DEFAULT_MARGIN_Z,
            });
            for (const [reference, limitMs] of [
              ['exact-latency', budgetMs],
              ['exact-latency-margin', marginMs],
            ] as const) {
              const started = performance.now();
              const pick = bestScoredWithin(truth, scores, usable, limitMs);
              if (pick >= 0) {
                results.push(
                  score(pick, started, { strategy: reference, measurements: 0, cells_evaluated: SPACE_SIZE }),
                );
              }
            }
          }

          const { problem } = searchProblem(
            numberingOf(NB201),
            adapted,
            deviceScores,
            budgetMs,
            options.noise,
            seed,
          );
          let optimum = -Infinity;
          for (let code = 0; code < SPACE_SIZE; code++) optimum = Math.max(optimum, objective(problem, code));
          let controllerCells: number | undefined;
          for (const strategy of order) {
            const started = performance.now();
            // The untrained policy has the pretrained one's shape and episode length, fresh weights per seed.
            const policy =
              strategy === 'controller'
                ? deployedPolicy(controller!)
                : strategy === 'controller-untrained'
                  ? untrainedPolicy(NB201, seed, controller)
                  : undefined;
            const evaluations = runStrategy(
              { strategy, evaluations: options.evaluations ?? controllerCells ?? 500 },
              problem,
              policy,
              new Random(seed).child(`strategy:${strategy}`),
            );
            if (strategy === 'controller-untrained') policy!.policy.dispose();
            if (strategy === 'controller') controllerCells = evaluations.size;
            const verifyDevice = RecordedDevice.fromTable(table, name, {
              noise: options.noise,
              seed: seed + 1_000_003,
            });
            const check = await verifyCandidates(
              verifyDevice,
              adapted,
              evaluations,
              {
                space: NB201,
                verify: options.verify,
                scores: deviceScores,
                budgetMs,
                noise: options.noise,
                refitDataset: options.dataset,
              },
              silentLogger,
            );
            const best = Math.max(...evaluations.values());
            results.push(
              score(check.recommendation.code, started, {
                strategy,
                measurements: adapted.measurementsSpent + check.measurementsSpent,
                cells_evaluated: evaluations.size,
                objective_ratio: optimum > 0 ? best / optimum : Number.NaN,
              }),
            );
          }
        }
        logger.info(`${name} seed ${seed}: done`);
      }
    }
  } finally {
    controller?.policy.dispose();
  }
  const unseen = new Set(options.unseen ?? []);
  const labels = options.budgets.map(budgetLabel);
  return {
    table: options.table,
    dataset: options.dataset,
    noise: options.noise,
    task_score_id: id,
    scored_cells: scoredCount,
    results,
    summary: summarize(
      results.filter((r) => !unseen.has(r.device)),
      labels,
    ),
    ...(unseen.size > 0
      ? {
          summary_unseen: summarize(
            results.filter((r) => unseen.has(r.device)),
            labels,
          ),
        }
      : {}),
  };
}

/** The best-scored usable cell whose latency in `latencies` is at most `limitMs`; -1 if none. */
function bestScoredWithin(
  latencies: Float64Array,
  scores: Float64Array,
  usable: (code: number) => boolean,
  limitMs: number,
): number {
  let pick = -1;
  for (let code = 0; code < SPACE_SIZE; code++) {
    if (usable(code) && latencies[code]! <= limitMs && (pick < 0 || scores[code]! > scores[pick]!)) {
      pick = code;
    }
  }
  return pick;
}

function summarize(
  rows: readonly SearchBenchRow[],
  labels: readonly string[],
): Record<string, StrategySummary> {
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  return Object.fromEntries(
    strategies.map((strategy) => {
      const mine = rows.filter((r) => r.strategy === strategy);
      const per = (f: (values: number[]) => number, strict = false): PerBudget =>
        Object.fromEntries(
          labels.map((l) => [
            l,
            f(mine.filter((r) => r.budget === l).map((r) => (strict ? r.regret_strict : r.regret))),
          ]),
        );
      const ratios = mine
        .map((r) => r.objective_ratio)
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
      return [
        strategy,
        {
          mean_regret: per(mean),
          median_regret: per(median),
          p90_regret: per((v) => quantile(v, 0.9)),
          mean_regret_strict: per(mean, true),
          violation_rate: mine.filter((r) => r.violation).length / Math.max(1, mine.length),
          mean_measurements: mean(mine.map((r) => r.measurements)),
          mean_cells_evaluated: mean(mine.map((r) => r.cells_evaluated)),
          ...(strategy === 'controller' ? { controller_vs_exhaustive: mean(ratios) } : {}),
        },
      ];
    }),
  );
}

export function formatSearchBench(result: SearchBenchResult): string {
  // Every device may be unseen, leaving the seen summary empty: the budgets come from either.
  const labels = Object.keys(
    Object.values({ ...result.summary, ...result.summary_unseen })[0]?.mean_regret ?? {},
  );
  const section = (title: string, summary: Record<string, StrategySummary>): string[] => [
    title,
    [
      'strategy',
      ...labels.map((l) => `mean ${l}`),
      ...labels.map((l) => `median ${l}`),
      ...labels.map((l) => `strict ${l}`),
      'violations',
      'measurements',
      'cells',
      'ctrl/exh',
    ].join('\t'),
    ...Object.entries(summary).map(([strategy, s]) =>
      [
        strategy,
        ...labels.map((l) => s.mean_regret[l]!.toFixed(2)),
        ...labels.map((l) => s.median_regret[l]!.toFixed(2)),
        ...labels.map((l) => s.mean_regret_strict[l]!.toFixed(2)),
        `${(100 * s.violation_rate).toFixed(1)}%`,
        s.mean_measurements.toFixed(1),
        s.mean_cells_evaluated.toFixed(0),
        s.controller_vs_exhaustive === undefined ? '' : s.controller_vs_exhaustive.toFixed(4),
      ].join('\t'),
    ),
  ];
  return [
    `search bench: ${result.table}, ${result.dataset}, task score ${result.task_score_id} over ${result.scored_cells} cells`,
    'regret: accuracy points below the oracle, the best true test accuracy within budget (a pick over budget ' +
      'that is more accurate than the oracle counts as 0, not below); strict: a pick over budget counts as a ' +
      'failure, as bad as a random cell within budget; violations: true latency over budget; measurements and ' +
      'cells: per pick; ctrl/exh: the controller best objective over the exhaustive optimum on the same fitted model',
    `exact-latency: the task score's own pick among cells truly within budget (no search, no measurement), what ` +
      `perfect latency knowledge gives this task score (on one device a strategy may beat it by luck); ` +
      `exact-latency-margin: the same within the budget less the verification margin ` +
      `(${DEFAULT_MARGIN_Z} sd of ${(100 * result.noise).toFixed(1)}% noise)`,
    ...(Object.keys(result.summary).length > 0 ? section('seen devices', result.summary) : []),
    ...(result.summary_unseen ? section('unseen devices', result.summary_unseen) : []),
    '',
  ].join('\n');
}
