// `simnas bench proxies`: how good our own proxies and task score are. Reads the NB201 accuracy
// table and FreeREA's published proxy values (ground truth in ../shared: only benchmarks may),
// and our proxy table; prints rank correlations, the task score's picks and its regret under
// FLOPs budgets, and the time of an on-demand computation. With a partial table, every figure is
// computed over the cells it covers (a uniform random sample, see src/proxies/build.ts).
// Beside them, the same figures for the validation accuracy used as the score: a near-perfect
// predictor (the same networks on other data), whose misses show the benchmark's own noise (one
// training run's accuracy on one split); a proxy may still beat it on one figure by luck.
import { readFileSync } from 'node:fs';

import { UsageError } from '../errors.js';
import { networkCost } from '../spaces/nb201/cost.js';
import { PROXY_NAMES, type ProxyName, type ProxyValues } from '../spaces/nb201/proxies/compute.js';
import { ProxyProvider } from '../spaces/nb201/proxies/provider.js';
import {
  TASK_SCORE_FORMULA,
  cellFeatures,
  minMaxTaskScore,
  normaliserOf,
  rankTaskScore,
  reluUnits,
  taskScore,
  taskScoreOf,
  type CellFeatures,
} from '../spaces/nb201/proxies/score.js';
import { skipOf } from '../spaces/nb201/proxies/skip.js';
import { PROXY_ALGORITHM, readTable } from '../spaces/nb201/proxies/table.js';
import { DEFAULT_BATCH_SIZE, syntheticImages } from '../proxies/images.js';
import { naswotOf } from '../spaces/nb201/proxies/naswot.js';
import {
  SPACE_SIZE,
  decodeCell,
  effectiveCell,
  encodeCell,
  formatCell,
  isConnected,
  parseCell,
} from '../spaces/nb201/cell.js';
import { DATASET_SHAPES, type Dataset } from '../spaces/nb201/datasets.js';
import type { Logger } from '../util/log.js';
import { Random } from '../util/random.js';
import { kendall, median, quantile, spearman } from '../util/stats.js';

export interface ProxiesBenchOptions {
  readonly accuracyCsv: string;
  readonly referenceCsv: string;
  readonly datasets: readonly Dataset[];
  readonly tablePath: string;
  /** Random cells timed per dataset for an on-demand computation (0 skips timing). */
  readonly timingCells: number;
  /**
   * Cells (without dead edges) on which NASWOT (seed 0) is computed with our synthetic images and
   * with white noise, against FreeREA's real-image values (0 skips the comparison).
   */
  readonly imageAblationCells?: number;
  readonly logger: Logger;
}

export interface ProxyFigures {
  readonly name: ProxyName;
  readonly spearman: number;
  readonly kendall: number;
  /** Against FreeREA's published value of the same proxy; null for skip (not published). */
  readonly spearman_vs_reference: number | null;
  /** FreeREA's published value (real CIFAR/ImageNet images) against accuracy, same cells. */
  readonly reference_spearman: number | null;
}

export interface TaskScoreFigures {
  readonly spearman: number;
  readonly kendall: number;
  readonly top1_acc: number;
  readonly top10_mean_acc: number;
  readonly optimum_acc: number;
  readonly constrained_regret: { readonly p25: number; readonly p50: number; readonly p75: number };
}

/** What synthetic images cost NASWOT, against FreeREA's values computed on real images. */
export interface ImageAblation {
  readonly cells: number;
  readonly dead_leaves: { readonly spearman: number; readonly spearman_vs_reference: number };
  readonly white_noise: { readonly spearman: number; readonly spearman_vs_reference: number };
  /** FreeREA's real-image NASWOT against accuracy on the same cells. */
  readonly reference_spearman: number;
}

export interface DatasetFigures {
  readonly dataset: Dataset;
  readonly cells: number;
  readonly proxies: readonly ProxyFigures[];
  readonly task_score: TaskScoreFigures;
  /** FreeREA's min-max rule on our values (the reference rule). */
  readonly min_max_task_score: TaskScoreFigures;
  /** FreeREA's mix with rank normalisation on our values (simnas's rule before the current one). */
  readonly rank_task_score: TaskScoreFigures;
  /** Our rule on FreeREA's published values (real images, their initialisations). */
  readonly reference_task_score: TaskScoreFigures;
  /**
   * The validation accuracy used as the score (cells without one rank last): how close a predictor
   * of accuracy itself gets, i.e. the benchmark's own noise; absent when the table has no column.
   */
  readonly validation_accuracy?: TaskScoreFigures & { readonly column: string };
  readonly top1_cell: string;
  readonly on_demand_ms?: { readonly median: number; readonly p90: number; readonly cells: number };
  readonly image_ablation?: ImageAblation;
}

export interface ProxiesBenchResult {
  readonly datasets: readonly DatasetFigures[];
  readonly coverage: {
    readonly cells: number;
    readonly effectiveCells: number;
    readonly effectiveCellsTotal: number;
  };
  readonly formula: string;
}

/** FreeREA's NASWOT minibatch (its script's default; the published run's is not recorded). */
const REFERENCE_BATCH_SIZE = 64;

/** Columns of a simple CSV (no quoted commas in the NB201 tables we read), keyed by header. */
function readCsvColumns(
  path: string,
  wanted: readonly string[],
  optional: ReadonlySet<string> = new Set(),
): Map<string, string[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read '${path}': ${error instanceof Error ? error.message : String(error)}`);
  }
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const header = lines[0]?.split(',') ?? [];
  const columns = new Map<string, string[]>();
  for (const name of wanted) {
    const index = header.indexOf(name);
    if (index < 0 && optional.has(name)) continue;
    if (index < 0) {
      throw new UsageError(
        `'${path}': no column '${name}' (columns: ${header.slice(0, 12).join(', ')}, ...)`,
      );
    }
    columns.set(
      name,
      lines.slice(1).map((line) => line.split(',')[index] ?? ''),
    );
  }
  return columns;
}

function parseValue(text: string, path: string, row: number, column: string): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === '-inf') return Number.NEGATIVE_INFINITY;
  if (trimmed === 'inf') return Number.POSITIVE_INFINITY;
  const value = Number(trimmed);
  if (trimmed === '' || Number.isNaN(value)) {
    throw new UsageError(`'${path}' row ${row + 2}, column ${column}: '${text}' is not a number`);
  }
  return value;
}

/** Per cell code: the value of `column` (rows are matched by arch_str, not by position). */
function valuesByCode(path: string, column: string): Float64Array;
/** As above, but undefined when the file has no such column, and NaN for a blank value. */
function valuesByCode(path: string, column: string, optional: true): Float64Array | undefined;
function valuesByCode(path: string, column: string, optional = false): Float64Array | undefined {
  const columns = readCsvColumns(path, ['arch_str', column], new Set(optional ? [column] : []));
  const values = columns.get(column);
  if (!values) return undefined;
  const out = new Float64Array(SPACE_SIZE).fill(Number.NaN);
  columns.get('arch_str')!.forEach((text, row) => {
    if (optional && values[row]!.trim() === '') return;
    out[encodeCell(parseCell(text))] = parseValue(values[row]!, path, row, column);
  });
  return out;
}

/**
 * Validation-accuracy columns of the NB201 accuracy table (see its README): CIFAR-100 and
 * ImageNet16-120 the same trained networks on the other half of the test data, CIFAR-10 the
 * NB201 runs trained on half the training set and validated on the other half.
 */
export const VALIDATION_ACCURACY_COLUMNS: Readonly<Record<Dataset, string>> = {
  cifar10: 'cifar10valid_valid_acc_nb201api',
  cifar100: 'cifar100_valid_acc_derived',
  'ImageNet16-120': 'ImageNet16-120_valid_acc_derived',
};

/** -Infinity would break rank arithmetic; any value below every finite one ranks the same. */
function rankable(values: readonly number[]): number[] {
  return values.map((v) => (v === Number.NEGATIVE_INFINITY ? -Number.MAX_VALUE : v));
}

export function scoreFigures(
  scores: readonly number[],
  accuracy: readonly number[],
  flops: readonly number[],
): TaskScoreFigures {
  const order = scores
    .map((_, i) => i)
    .sort((a, b) => scores[b]! - scores[a]! || accuracy[b]! - accuracy[a]!);
  const top = order.slice(0, 10).map((i) => accuracy[i]!);
  const regret = (q: number): number => {
    const budget = quantile(flops, q);
    let bestAccuracy = Number.NEGATIVE_INFINITY;
    let bestScored = -1;
    for (let i = 0; i < scores.length; i++) {
      if (flops[i]! > budget) continue;
      bestAccuracy = Math.max(bestAccuracy, accuracy[i]!);
      if (bestScored < 0 || scores[i]! > scores[bestScored]!) bestScored = i;
    }
    return bestAccuracy - accuracy[bestScored]!;
  };
  return {
    spearman: spearman(rankable(scores), accuracy),
    kendall: kendall(rankable(scores), accuracy),
    top1_acc: accuracy[order[0]!]!,
    top10_mean_acc: top.reduce((a, b) => a + b, 0) / top.length,
    optimum_acc: Math.max(...accuracy),
    constrained_regret: { p25: regret(0.25), p50: regret(0.5), p75: regret(0.75) },
  };
}

export async function runProxiesBench(options: ProxiesBenchOptions): Promise<ProxiesBenchResult> {
  const table = readTable(options.tablePath);
  // Figures over values another algorithm computed would describe that algorithm, not this one.
  if (table.metadata.algorithm !== PROXY_ALGORITHM) {
    throw new UsageError(
      `proxy table '${options.tablePath}' was computed by ${table.metadata.algorithm}, this is ${PROXY_ALGORITHM}; ` +
        'rebuild it with `npm run proxies:build -- --restart` (or pass a table this version wrote)',
    );
  }
  const covered: number[] = [];
  for (let code = 0; code < SPACE_SIZE; code++) {
    if (table.lookup(code, options.datasets[0]!)) covered.push(code);
  }
  if (covered.length < 20) {
    throw new UsageError(
      `proxy table '${options.tablePath}' covers ${covered.length} cells; need at least 20`,
    );
  }
  const provider = ProxyProvider.create({ tablePath: options.tablePath, useTableValues: false });
  const datasets: DatasetFigures[] = [];
  for (const dataset of options.datasets) {
    const accuracyAll = valuesByCode(options.accuracyCsv, `${dataset}_test_acc`);
    const reference = Object.fromEntries(
      (['naswot', 'synflow', 'logsynflow'] as const).map((name) => [
        name,
        valuesByCode(options.referenceCsv, `${dataset}_${name}`),
      ]),
    ) as Record<'naswot' | 'synflow' | 'logsynflow', Float64Array>;
    const accuracy = covered.map((code) => accuracyAll[code]!);
    const values: ProxyValues[] = covered.map((code) => ({
      ...table.lookup(code, dataset)!,
      skip: skipOf(decodeCell(code)),
    }));
    const flops = covered.map((code) => networkCost(decodeCell(code), dataset).nominal.flopsM);
    const proxies: ProxyFigures[] = PROXY_NAMES.map((name) => {
      const ours = rankable(values.map((v) => v[name]));
      const published = name === 'skip' ? undefined : covered.map((code) => reference[name][code]!);
      return {
        name,
        spearman: spearman(ours, accuracy),
        kendall: kendall(ours, accuracy),
        spearman_vs_reference: published ? spearman(ours, rankable(published)) : null,
        reference_spearman: published ? spearman(rankable(published), accuracy) : null,
      };
    });
    const normaliser = table.normaliser(dataset);
    const scores = values.map((v, i) => taskScore(decodeCell(covered[i]!), v, normaliser));
    const minMaxScores = values.map((v) => minMaxTaskScore(v, table.bounds(dataset)));
    const rankScores = values.map((v) => rankTaskScore(v, normaliser));
    const referenceValues: ProxyValues[] = covered.map((code, i) => ({
      naswot: reference.naswot[code]!,
      synflow: reference.synflow[code]!,
      logsynflow: reference.logsynflow[code]!,
      skip: values[i]!.skip,
    }));
    // Our rule on FreeREA's published values, ranked among the same covered cells. FreeREA's
    // networks are not pruned: every conv of the genotype, dead or not, adds ReLU units.
    const referenceFeatures: CellFeatures[] = covered.map((code) => ({
      ...cellFeatures(decodeCell(code), dataset),
      reluUnits: reluUnits(decodeCell(code), dataset),
    }));
    const referenceNormaliser = normaliserOf(
      referenceValues.map((v, i) => ({ features: referenceFeatures[i]!, values: v })),
      dataset,
      REFERENCE_BATCH_SIZE,
    );
    const referenceScores = referenceValues.map((v, i) =>
      taskScoreOf(referenceFeatures[i]!, v, referenceNormaliser),
    );
    const validationColumn = VALIDATION_ACCURACY_COLUMNS[dataset];
    const validationAll = valuesByCode(options.accuracyCsv, validationColumn, true);
    const validation = validationAll
      ? covered.map((code) => {
          const value = validationAll[code]!;
          return Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
        })
      : undefined;
    const best = scores.reduce((b, s, i) => (s > scores[b]! ? i : b), 0);
    const timing =
      options.timingCells > 0 ? await timeOnDemand(provider, dataset, options.timingCells) : undefined;
    datasets.push({
      dataset,
      cells: covered.length,
      proxies,
      task_score: scoreFigures(scores, accuracy, flops),
      min_max_task_score: scoreFigures(minMaxScores, accuracy, flops),
      rank_task_score: scoreFigures(rankScores, accuracy, flops),
      reference_task_score: scoreFigures(referenceScores, accuracy, flops),
      ...(validation
        ? { validation_accuracy: { ...scoreFigures(validation, accuracy, flops), column: validationColumn } }
        : {}),
      top1_cell: formatCell(decodeCell(covered[best]!)),
      ...(timing ? { on_demand_ms: timing } : {}),
      ...(options.imageAblationCells
        ? {
            image_ablation: await imageAblation(
              dataset,
              options.imageAblationCells,
              accuracyAll,
              reference.naswot,
            ),
          }
        : {}),
    });
  }
  return {
    datasets,
    coverage: {
      cells: covered.length,
      effectiveCells: table.size,
      effectiveCellsTotal: table.metadata.coverage.effectiveCellsTotal,
    },
    formula: TASK_SCORE_FORMULA,
  };
}

async function imageAblation(
  dataset: Dataset,
  count: number,
  accuracy: Float64Array,
  reference: Float64Array,
): Promise<ImageAblation> {
  const random = new Random(11).child(`ablation/${dataset}`);
  const codes: number[] = [];
  while (codes.length < count) {
    const code = random.int(SPACE_SIZE);
    const cell = decodeCell(code);
    if (isConnected(cell) && encodeCell(effectiveCell(cell)) === code && !codes.includes(code))
      codes.push(code);
  }
  const size = DATASET_SHAPES[dataset].inputSize;
  const leaves = syntheticImages(DEFAULT_BATCH_SIZE, size, 0);
  const noise = {
    count: DEFAULT_BATCH_SIZE,
    size,
    data: Float32Array.from({ length: DEFAULT_BATCH_SIZE * 3 * size * size }, () => random.normal()),
  };
  const leafValues: number[] = [];
  const noiseValues: number[] = [];
  for (const code of codes) {
    leafValues.push(await naswotOf(decodeCell(code), dataset, leaves, { seed: 0 }));
    noiseValues.push(await naswotOf(decodeCell(code), dataset, noise, { seed: 0 }));
  }
  const truth = codes.map((code) => accuracy[code]!);
  const published = rankable(codes.map((code) => reference[code]!));
  const figures = (values: number[]) => ({
    spearman: spearman(values, truth),
    spearman_vs_reference: spearman(values, published),
  });
  return {
    cells: count,
    dead_leaves: figures(leafValues),
    white_noise: figures(noiseValues),
    reference_spearman: spearman(published, truth),
  };
}

/** Wall time of computing all proxies of random cells from scratch (no table), one at a time. */
async function timeOnDemand(
  provider: ProxyProvider,
  dataset: Dataset,
  count: number,
): Promise<{ median: number; p90: number; cells: number }> {
  const random = new Random(7).child(`timing/${dataset}`);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const cell = decodeCell(random.int(SPACE_SIZE));
    const started = performance.now();
    await provider.proxies(cell, dataset);
    times.push(performance.now() - started);
  }
  return { median: median(times), p90: quantile(times, 0.9), cells: count };
}

export function formatProxiesBench(result: ProxiesBenchResult): string {
  const f = (v: number | null, digits = 3): string => (v === null ? '  -  ' : v.toFixed(digits));
  const lines: string[] = [
    `proxy table: ${result.coverage.cells}/${SPACE_SIZE} cells (${result.coverage.effectiveCells}/${result.coverage.effectiveCellsTotal} effective cells); figures over covered cells`,
    `task score: ${result.formula}`,
  ];
  for (const d of result.datasets) {
    lines.push(
      '',
      `== ${d.dataset} (${d.cells} cells)`,
      'proxy        spearman  kendall  spearman_vs_FreeREA  FreeREA_spearman',
    );
    for (const p of d.proxies) {
      lines.push(
        `${p.name.padEnd(12)} ${f(p.spearman).padStart(8)} ${f(p.kendall).padStart(8)} ${f(p.spearman_vs_reference).padStart(10)} ${f(p.reference_spearman).padStart(18)}`,
      );
    }
    for (const [label, t] of [
      ['task score (ours)', d.task_score],
      ['FreeREA min-max rule, our values', d.min_max_task_score],
      ['FreeREA mix with ranks (previous rule), our values', d.rank_task_score],
      ['our rule on FreeREA values', d.reference_task_score],
      ...(d.validation_accuracy
        ? ([
            [
              `validation accuracy as the score (${d.validation_accuracy.column}), a near-perfect predictor`,
              d.validation_accuracy,
            ],
          ] as const)
        : []),
    ] as const) {
      lines.push(
        `${label}: spearman ${f(t.spearman)} kendall ${f(t.kendall)}; top-1 ${f(t.top1_acc, 2)}% top-10 mean ${f(t.top10_mean_acc, 2)}% ` +
          `(optimum ${f(t.optimum_acc, 2)}%); constrained regret p25/p50/p75 ${f(t.constrained_regret.p25, 2)} / ` +
          `${f(t.constrained_regret.p50, 2)} / ${f(t.constrained_regret.p75, 2)} points`,
      );
    }
    lines.push(`top-1 cell: ${d.top1_cell}`);
    if (d.image_ablation) {
      const a = d.image_ablation;
      lines.push(
        `NASWOT inputs (${a.cells} cells without dead edges, seed 0): dead leaves spearman ${f(a.dead_leaves.spearman)} ` +
          `(vs FreeREA ${f(a.dead_leaves.spearman_vs_reference)}), white noise ${f(a.white_noise.spearman)} ` +
          `(vs FreeREA ${f(a.white_noise.spearman_vs_reference)}), FreeREA real images ${f(a.reference_spearman)}`,
      );
    }
    if (d.on_demand_ms) {
      lines.push(
        `on-demand computation (no table, ${d.on_demand_ms.cells} random cells): median ${d.on_demand_ms.median.toFixed(0)} ms, p90 ${d.on_demand_ms.p90.toFixed(0)} ms per cell`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
