// `simnas bench latency --space <layered space>`: how well 10 designed measurements plus the prior
// learned from synthetic devices for layered networks rank the other rows of a recorded table
// (any CSV `index,arch,<optional op_idx>,<device columns>` whose architectures the space parses),
// against two baselines fitted to 10 measurements (total MACs on the same designed rows; a
// non-negative fit of 9 hand-made operator features on 10 random rows) and the per-layer ceiling
// (least squares of one indicator per (layer, choice), fitted on the other rows and scored on rows
// it did not fit). It also says how well the best single synthetic device of the bank ranks each
// column: whether the prior covers it. Reads ground truth, so nothing in the pipeline imports it.
import { readFileSync } from 'node:fs';

import { UsageError } from '../errors.js';
import {
  designLayeredSamples,
  fitLayeredLatencyModel,
  layeredBank,
  layeredColumns,
  LAYERED_BANK_SIZE,
} from '../devices/layered-model.js';
import {
  type LayeredMechanism,
  layeredLatency,
  layerTable,
  type LayerTable,
  sampleLayeredDevice,
} from '../devices/layered-synthetic.js';
import { cholesky, choleskySolve, nonNegativeLeastSquares, squareMatrix } from '../devices/linalg.js';
import { splitCsvLine } from '../util/csv.js';
import { operatorMacs } from '../spaces/operators.js';
import type { Architecture } from '../spaces/space.js';
import { Random } from '../util/random.js';
import { mean, pearson, ranks, spearman } from '../util/stats.js';
import type { BenchLayeredSpace } from './layered-spaces.js';
import {
  benchSettings,
  type BenchRunOptions,
  type DeviceBenchResult,
  formatDeviceRows,
  meanAbsolutePercentageError,
  overallOf,
  requireColumns,
  scoreSeedRun,
  type SeedRun,
  summarizeDevice,
} from './latency-bench.js';

/** A recorded table of a layered space: one row per architecture, one column per device. */
export interface LayeredTable {
  readonly source: string;
  readonly architectures: readonly Architecture[];
  readonly columns: readonly string[];
  /** Per column, latencies in row order; NaN where the cell is empty. */
  readonly latencies: ReadonlyMap<string, Float64Array>;
}

/** Columns that describe the architecture rather than a device. */
const NON_DEVICE_COLUMNS = new Set(['index', 'arch', 'op_idx', '']);

/** Parses a layered latency table; every problem names the file, the row and the column. */
export function parseLayeredTable(text: string, source: string, space: BenchLayeredSpace): LayeredTable {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const expected = `expected a header 'index,arch,op_idx,<device columns>' with ${space.title} architectures in 'arch'`;
  if (lines.length === 0) throw new UsageError(`${source}: the file is empty; ${expected}`);
  const header = splitCsvLine(lines[0]!.replace(/^\uFEFF/, ''), `${source}: row 1 (header)`).map((h) =>
    h.trim(),
  );
  const archColumn = header.indexOf('arch');
  if (archColumn < 0) {
    throw new UsageError(
      `${source}: row 1 (header) has no 'arch' column (found: ${header.join(', ')}); ${expected}`,
    );
  }
  const deviceColumns = header.flatMap((name, i) => (NON_DEVICE_COLUMNS.has(name) ? [] : [i]));
  if (deviceColumns.length === 0)
    throw new UsageError(`${source}: row 1 (header) has no device column; ${expected}`);
  const architectures: Architecture[] = [];
  const values = deviceColumns.map(() => [] as number[]);
  const seenAt = new Map<string, number>();
  for (let r = 1; r < lines.length; r++) {
    const where = `${source}: row ${r + 1}`;
    const fields = splitCsvLine(lines[r]!, where);
    if (fields.length !== header.length) {
      throw new UsageError(`${where}: ${fields.length} fields, the header has ${header.length}`);
    }
    let architecture: Architecture;
    try {
      architecture = space.parse(fields[archColumn]!);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UsageError(`${where}, column 'arch': ${why}`);
    }
    const key = architecture.join(',');
    const earlier = seenAt.get(key);
    if (earlier !== undefined) {
      throw new UsageError(`${where}, column 'arch': the architecture of row ${earlier} again`);
    }
    seenAt.set(key, r + 1);
    architectures.push(architecture);
    deviceColumns.forEach((i, c) => {
      const raw = fields[i]!.trim();
      const value = raw === '' ? Number.NaN : Number(raw);
      if (raw !== '' && !(Number.isFinite(value) && value > 0)) {
        throw new UsageError(
          `${where}, column '${header[i]}': '${raw}' is not a latency; expected a positive number of ms`,
        );
      }
      values[c]!.push(value);
    });
  }
  const latencies = new Map(deviceColumns.map((i, c) => [header[i]!, Float64Array.from(values[c]!)]));
  return { source, architectures, columns: deviceColumns.map((i) => header[i]!), latencies };
}

export function readLayeredTable(path: string, space: BenchLayeredSpace): LayeredTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read latency table '${path}': ${why}`);
  }
  return parseLayeredTable(text, path, space);
}

/**
 * The device columns to benchmark (`devices`, default all), refusing an unknown column and one
 * with a hole (`need` says why a hole matters).
 */
export function completeColumns(
  table: LayeredTable,
  devices: readonly string[] | undefined,
  need: string,
): readonly string[] {
  const names = devices ?? table.columns;
  requireColumns(table.source, names, table.latencies, table.columns);
  for (const name of names) {
    const missing = table.latencies.get(name)!.findIndex((value) => Number.isNaN(value));
    if (missing >= 0) {
      throw new UsageError(`${table.source}: column '${name}' has no latency in row ${missing + 2}; ${need}`);
    }
  }
  return names;
}

export interface LayeredBenchOptions extends BenchRunOptions {
  readonly table: LayeredTable;
  readonly space: BenchLayeredSpace;
  readonly dataset?: string;
  /** Mechanisms of the prior to leave out of the model's banks (ablation; the designs stay). */
  readonly without?: readonly LayeredMechanism[];
}

export interface LayeredDeviceBenchResult extends DeviceBenchResult {
  /** Non-negative fit of the 9 hand-made operator features to 10 random rows. */
  readonly feature_baseline_rho: number;
  readonly feature_baseline_mape: number;
  /** Spearman of the best single device of the shipped bank (on every 5th row): how well the prior covers the column. */
  readonly best_synthetic_rho: number;
}

export interface LayeredBenchResult {
  readonly space: string;
  readonly table: string;
  readonly rows: number;
  readonly samples: number;
  readonly seeds: number;
  readonly noise: number;
  readonly designs: number;
  readonly dataset: string;
  readonly bank_seed: number;
  readonly design_bank_seed: number;
  /** Mechanisms of the prior left out (ablation), none for the shipped prior. */
  readonly without: readonly string[];
  /** The shipped variant's design (among the table's rows). */
  readonly sample_architectures: readonly string[];
  readonly devices: readonly LayeredDeviceBenchResult[];
  readonly overall: Omit<LayeredDeviceBenchResult, 'name' | 'cells'>;
  readonly seconds: number;
}

export async function runLayeredLatencyBench(options: LayeredBenchOptions): Promise<LayeredBenchResult> {
  const started = performance.now();
  const { table, space } = options;
  const { samples, seeds, noise, designs, bankSeed, designBankSeed, logger } = benchSettings(options);
  const dataset = options.dataset ?? space.datasets[0]!;
  const without = new Set(options.without ?? []);
  if (!space.datasets.includes(dataset)) {
    throw new UsageError(
      `dataset '${dataset}' is not one of the ${space.id} space's: ${space.datasets.join(', ')}`,
    );
  }
  if (!Number.isInteger(samples) || samples < 2) {
    throw new UsageError(`--samples ${samples}: the latency model needs at least 2 measured architectures`);
  }
  const names = completeColumns(table, options.devices, `the ${space.id} benchmark needs every row measured`);
  const rows = table.architectures.length;
  if (rows < samples + 10) {
    throw new UsageError(
      `${table.source}: ${rows} rows; the benchmark needs at least ${samples + 10} (--samples + 10)`,
    );
  }
  const layers = layerTable(space, dataset);
  const columns = table.architectures.map((arch) => layeredColumns(layers, arch));
  const macs = table.architectures.map((arch) => totalMacs(layers, arch));
  const handFeatures = table.architectures.map((arch) => handMadeFeatures(layers, arch));
  const priorBanks = Array.from({ length: designs }, (_, v) =>
    layeredBank(space, dataset, LAYERED_BANK_SIZE, bankSeed + v, without),
  );
  const variantDesigns = Array.from({ length: designs }, (_, v) => {
    logger.info(`design variant ${v + 1}/${designs} among the table's ${rows} rows`);
    const design = designLayeredSamples(space, samples, {
      dataset,
      bankSeed: designBankSeed + v,
      candidates: table.architectures,
    });
    const rowOf = new Map(table.architectures.map((arch, i) => [arch.join(','), i]));
    return design.map((arch) => rowOf.get(arch.join(','))!);
  });
  const coverage = priorCoverage(space, dataset, columns, bankSeed, without);
  const results: LayeredDeviceBenchResult[] = [];
  for (const name of names) {
    const truth = table.latencies.get(name)!;
    const runs: (SeedRun & { featureRho: number; featureMape: number })[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const variant = seed % designs;
      const design = variantDesigns[variant]!;
      const random = new Random(seed).child(`recorded:${name}`);
      const measured = design.map((row) => truth[row]! * Math.exp(noise * random.normal()));
      const model = fitLayeredLatencyModel(
        space,
        { architectures: design.map((row) => table.architectures[row]!), latenciesMs: measured },
        {
          dataset,
          bank: priorBanks[variant]!,
          ...(options.knownNoise === false ? {} : { measurementNoise: noise }),
        },
      );
      const inDesign = new Set(design);
      const scored = Array.from({ length: rows }, (_, i) => i).filter((i) => !inDesign.has(i));
      const truthScored = Float64Array.from(scored, (i) => truth[i]!);
      const predictions = scored.map((i) => model.predict(table.architectures[i]!));
      const macsBaseline = macsFit(design, measured, macs);
      const macsPredicted = Float64Array.from(scored, (i) => macsBaseline(macs[i]!));
      const featureRows = new Random(seed).child(`baseline:${name}`).sample(
        Array.from({ length: rows }, (_, i) => i),
        samples,
      );
      const featureNoise = new Random(seed).child(`baseline-noise:${name}`);
      const weights = nonNegativeLeastSquares(
        featureRows.map((i) => handFeatures[i]!),
        featureRows.map((i) => truth[i]! * Math.exp(noise * featureNoise.normal())),
      );
      const featurePredicted = Float64Array.from(scored, (i) =>
        handFeatures[i]!.reduce((sum, x, j) => sum + x * weights[j]!, 0),
      );
      runs.push({
        ...scoreSeedRun(
          variant,
          truthScored,
          Float64Array.from(predictions, (p) => p.meanMs),
          Float64Array.from(predictions, (p) => p.stdMs),
          macsPredicted,
          model.looError.mape,
        ),
        featureRho: spearman(featurePredicted, truthScored),
        featureMape: meanAbsolutePercentageError(featurePredicted, truthScored),
      });
    }
    const best = coverage.bestRho(truth);
    const result: LayeredDeviceBenchResult = {
      ...summarizeDevice(
        name,
        rows,
        runs,
        designs,
        crossFittedCeiling(columns, truth, layers.featureCount),
        coverage.percentile(best),
      ),
      feature_baseline_rho: mean(runs.map((r) => r.featureRho)),
      feature_baseline_mape: mean(runs.map((r) => r.featureMape)),
      best_synthetic_rho: best,
    };
    logger.info(
      `${name}: rho ${result.rho.toFixed(4)} (MACs ${result.baseline_rho.toFixed(4)}, features ${result.feature_baseline_rho.toFixed(4)}, ceiling ${result.ceiling_rho.toFixed(4)}), coverage ${(100 * result.coverage90).toFixed(1)}%`,
    );
    results.push(result);
  }
  return {
    space: space.id,
    table: table.source,
    rows,
    samples,
    seeds,
    noise,
    designs,
    dataset,
    bank_seed: bankSeed,
    design_bank_seed: designBankSeed,
    without: [...without],
    sample_architectures: variantDesigns[0]!.map((row) => space.format(table.architectures[row]!)),
    devices: results,
    overall: {
      ...overallOf(results),
      feature_baseline_rho: mean(results.map((r) => r.feature_baseline_rho)),
      feature_baseline_mape: mean(results.map((r) => r.feature_baseline_mape)),
      best_synthetic_rho: mean(results.map((r) => r.best_synthetic_rho)),
    },
    seconds: (performance.now() - started) / 1000,
  };
}

function totalMacs(layers: LayerTable, architecture: Architecture): number {
  let sum = 0;
  architecture.forEach((choice, p) => {
    for (const op of layers.operators[layers.offsets[p]! + choice]!) sum += operatorMacs(op);
  });
  return sum;
}

/** The MACs baseline: latency = a + b x MACs, least squares on the measured rows. */
function macsFit(
  design: readonly number[],
  measured: readonly number[],
  macs: readonly number[],
): (m: number) => number {
  const xs = design.map((row) => macs[row]!);
  const mx = mean(xs);
  const my = mean(measured);
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (measured[i]! - my);
    sxx += (x - mx) ** 2;
  });
  const slope = sxx > 0 ? sxy / sxx : 0;
  return (m) => my + slope * (m - mx);
}

/**
 * The 9 hand-made features of the feature baseline, from the operator list: a constant, MACs of
 * dense 1x1, grouped 1x1, depthwise and dense KxK convolutions (millions), kernels launched,
 * activation traffic (millions of elements read and written), and the elements shuffled and added.
 */
export function handMadeFeatures(layers: LayerTable, architecture: Architecture): Float64Array {
  const row = new Float64Array(9);
  row[0] = 1;
  architecture.forEach((choice, p) => {
    for (const op of layers.operators[layers.offsets[p]! + choice]!) {
      const macs = operatorMacs(op) / 1e6;
      const output = (op.outChannels * op.outSize * op.outSize) / 1e6;
      const add = (j: number, value: number): void => {
        row[j] = row[j]! + value;
      };
      if (op.kind === 'pointwise') add(op.groups > 1 ? 2 : 1, macs);
      if (op.kind === 'depthwise') add(3, macs);
      if (op.kind === 'conv') add(4, macs);
      if (op.kind !== 'identity') {
        add(5, 1);
        add(6, (op.inChannels * op.inSize * op.inSize) / 1e6 + output);
      }
      if (op.kind === 'shuffle') add(7, output);
      if (op.kind === 'add') add(8, output);
    }
  });
  return row;
}

const CEILING_FOLDS = 5;

/**
 * The per-layer ceiling: least squares of one indicator per (layer, choice) plus a constant, fitted
 * on 4 of 5 folds of the rows and scored on the fifth (rows it did not fit), the folds' predictions
 * ranked together against the truth.
 */
function crossFittedCeiling(columns: readonly Int32Array[], truth: Float64Array, d: number): number {
  const predicted = new Float64Array(truth.length);
  for (let fold = 0; fold < CEILING_FOLDS; fold++) {
    const weights = fitLayerWeights(columns, truth, d, (i) => i % CEILING_FOLDS !== fold);
    columns.forEach((active, i) => {
      if (i % CEILING_FOLDS === fold) predicted[i] = layeredSum(weights, active);
    });
  }
  return spearman(predicted, truth);
}

/**
 * Least squares of one indicator per (layer, choice) plus a constant (`layeredColumns`) on the rows
 * `include` keeps (default all): a per-block latency table.
 */
export function fitLayerWeights(
  columns: readonly Int32Array[],
  truth: ArrayLike<number>,
  d: number,
  include: (row: number) => boolean = () => true,
): Float64Array {
  const gram = squareMatrix(d);
  const rhs = new Float64Array(d);
  columns.forEach((active, i) => {
    if (!include(i)) return;
    for (const a of active) {
      rhs[a] = rhs[a]! + truth[i]!;
      for (const b of active) gram.data[a * d + b] = gram.data[a * d + b]! + 1;
    }
  });
  // The constant is the sum of each layer's indicators: a whisper of ridge picks one solution.
  for (let i = 0; i < d; i++)
    gram.data[i * d + i] = gram.data[i * d + i]! + 1e-6 * (1 + gram.data[i * d + i]!);
  return choleskySolve(cholesky(gram), rhs);
}

/** An architecture's latency under per-block weights: the sum over its active columns. */
export function layeredSum(weights: Float64Array, active: Int32Array): number {
  let sum = 0;
  for (const a of active) sum += weights[a]!;
  return sum;
}

const COVERAGE_STRIDE = 5;
const COVERAGE_PROBES = 100;

/**
 * How well the prior covers a column: the best Spearman of any single device of the shipped bank
 * (on every 5th row), and where that falls among synthetic devices drawn afresh (with their
 * interactions and noise), matched the same way: the share of them matched worse.
 */
function priorCoverage(
  space: BenchLayeredSpace,
  dataset: string,
  columns: readonly Int32Array[],
  bankSeed: number,
  without: ReadonlySet<LayeredMechanism>,
): { bestRho: (truth: Float64Array) => number; percentile: (rho: number) => number } {
  const bank = layeredBank(space, dataset, LAYERED_BANK_SIZE, bankSeed, without);
  const d = bank.featureCount;
  const rows = columns.filter((_, i) => i % COVERAGE_STRIDE === 0);
  const bankRanks = Array.from({ length: bank.syntheticCount }, (_, k) =>
    ranks(Float64Array.from(rows, (active) => active.reduce((sum, a) => sum + bank.weights[k * d + a]!, 0))),
  );
  const bestOf = (values: Float64Array): number => {
    const target = ranks(values);
    let best = -1;
    for (const candidate of bankRanks) best = Math.max(best, pearson(candidate, target));
    return best;
  };
  const random = new Random(bankSeed).child(`layered-coverage-probes:${space.id}`);
  const layers = bank.table;
  const probeBest = Float64Array.from({ length: COVERAGE_PROBES }, (_, k) => {
    const device = sampleLayeredDevice(random.child(String(k)), layers, without);
    const architectures = rows.map((active) =>
      Array.from(active.subarray(1), (column, p) => column - 1 - layers.offsets[p]!),
    );
    return bestOf(Float64Array.from(architectures, (arch) => layeredLatency(device, layers, arch)));
  }).sort();
  return {
    bestRho: (truth) =>
      bestOf(Float64Array.from(columns.flatMap((_, i) => (i % COVERAGE_STRIDE === 0 ? [truth[i]!] : [])))),
    percentile: (rho) => (100 * probeBest.filter((value) => value < rho).length) / probeBest.length,
  };
}

/** The benchmark as a fixed-width text table, one row per device plus the means. */
export function formatLayeredLatencyBench(result: LayeredBenchResult): string {
  const lines = formatDeviceRows(result.devices, result.overall, [
    ['feat rho', (r) => (r as LayeredDeviceBenchResult).feature_baseline_rho.toFixed(4)],
    ['best synth', (r) => (r as LayeredDeviceBenchResult).best_synthetic_rho.toFixed(4)],
  ]);
  return [
    `${result.space} latency model from ${result.samples} designed samples (among the table's ${result.rows} rows), ${result.seeds} seed${result.seeds === 1 ? '' : 's'} over ${result.designs} variant${result.designs === 1 ? '' : 's'}, ${(100 * result.noise).toFixed(1)}% measurement noise, prior for ${result.dataset} learned from synthetic bank ${result.bank_seed}, designs against bank ${result.design_bank_seed} (variant v: both seeds + v)${result.without.length > 0 ? `; prior without ${result.without.join(', ')}` : ''}`,
    `table ${result.table}; rho, MAPE and coverage on the rows not measured; 'base rho': total MACs fitted to the same samples; 'feat rho': 9 hand-made operator features, non-negative fit to ${result.samples} random rows; 'ceiling': per-layer least squares cross-fitted over 5 folds; 'best synth': best single bank device; 'prior pct': share of fresh synthetic devices the bank matches worse; ${result.seconds.toFixed(1)} s`,
    ...lines,
  ].join('\n');
}
