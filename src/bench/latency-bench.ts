// `simnas bench latency`: how well 10 designed measurements plus the learned prior predict every
// cell of recorded devices, against a naive baseline (10 random cells, non-negative least squares
// on op counts) and a ceiling (least squares on per-edge one-hots and their pairwise products fitted
// on every cell), plus where each device's latency profile falls within the synthetic prior.
// Reads ground-truth tables, so it lives under src/bench/ and nothing in the pipeline imports it.
import { type Cell, decodeCell, NUM_EDGES, NUM_OPS, OP_NONE, SPACE_SIZE } from '../spaces/nb201/cell.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import { UsageError } from '../errors.js';
import { Random } from '../util/random.js';
import { mean, median, spearman, standardError } from '../util/stats.js';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import { designSampleCells } from '../devices/design.js';
import { fitLatencyModel } from '../devices/latency-model.js';
import { DEFAULT_BANK_SEED, DEFAULT_BANK_SIZE, weightBank } from '../devices/prior.js';
import { cholesky, choleskySolve, nonNegativeLeastSquares, squareMatrix } from '../devices/linalg.js';
import { type LatencyTable, RecordedDevice } from '../devices/recorded.js';
import { samplePrior, syntheticLatenciesOf } from '../devices/synthetic.js';

/** What every latency bench (NB201's and layered spaces') takes besides its table and dataset. */
export interface BenchRunOptions {
  /** Device columns to run; default all. */
  readonly devices?: readonly string[];
  readonly samples?: number;
  readonly seeds?: number;
  readonly noise?: number;
  /**
   * Variants: seed s runs variant s mod designs. Variant 0 is the shipped design fitted with the
   * shipped prior; variant v computes the design against, and learns the prior from, the synthetic
   * banks of seeds + v: what the product would have shipped had its arbitrary bank seeds been
   * others. One draw's lucky or unlucky picks then do not repeat in every seed, and the spread
   * shows how much of a figure is the draw rather than the method.
   */
  readonly designs?: number;
  /**
   * Tell the model the measurement noise level, so its intervals are for the noise-free latency
   * (a live measurement knows its repeat spread the same way). Default true.
   */
  readonly knownNoise?: boolean;
  /**
   * Seed of the synthetic bank the model's prior is learned from (default: the shipped one; variant
   * v adds v); the designs follow `designBankSeed`, so the two draws can be varied one at a time.
   */
  readonly bankSeed?: number;
  /** Seed of the synthetic bank the designs are computed against (default: the shipped one; variant v adds v). */
  readonly designBankSeed?: number;
  readonly logger?: Logger;
}

export interface LatencyBenchOptions extends BenchRunOptions {
  readonly table: LatencyTable;
  readonly dataset?: Dataset;
}

/** A bench's run settings with their defaults filled in. */
export function benchSettings(options: BenchRunOptions): {
  samples: number;
  seeds: number;
  noise: number;
  designs: number;
  bankSeed: number;
  designBankSeed: number;
  logger: Logger;
} {
  const seeds = options.seeds ?? 20;
  return {
    samples: options.samples ?? 10,
    seeds,
    noise: options.noise ?? 0.03,
    designs: Math.min(options.designs ?? DEFAULT_DESIGN_VARIANTS, seeds),
    bankSeed: options.bankSeed ?? DEFAULT_BANK_SEED,
    designBankSeed: options.designBankSeed ?? DEFAULT_BANK_SEED,
    logger: options.logger ?? silentLogger,
  };
}

/** Refuses device names the table has no column for, listing the ones it has. */
export function requireColumns(
  source: string,
  names: readonly string[],
  latencies: ReadonlyMap<string, unknown>,
  columns: readonly string[],
): void {
  for (const name of names) {
    if (!latencies.has(name)) {
      throw new UsageError(`${source}: no column '${name}'; the device columns are: ${columns.join(', ')}`);
    }
  }
}

export interface DeviceBenchResult {
  readonly name: string;
  readonly cells: number;
  readonly rho: number;
  readonly mape: number;
  readonly coverage90: number;
  readonly loo_mape: number;
  readonly baseline_rho: number;
  readonly baseline_mape: number;
  readonly ceiling_rho: number;
  readonly efficiency: number;
  /** Share of synthetic devices whose nearest synthetic neighbour is farther than this device's. */
  readonly prior_percentile: number;
  /** Lowest and highest efficiency among the variants (each the mean over its seeds). */
  readonly efficiency_range: readonly [number, number];
  /** Lowest and highest coverage among the variants. */
  readonly coverage90_range: readonly [number, number];
  /**
   * Standard errors of `efficiency` and `coverage90`: how far a rerun with other noise seeds and
   * other draws of the designs and priors would typically move them. Over the variants' means when
   * there are several (seeds that share a design and prior err together, so they are not
   * independent draws), else over the seeds (sd / √n; 0 with one).
   */
  readonly efficiency_se: number;
  readonly coverage90_se: number;
  /** Efficiency and coverage over the seeds that measured the shipped design (variant 0) only. */
  readonly efficiency_shipped: number;
  readonly coverage90_shipped: number;
}

export interface LatencyBenchResult {
  readonly table: string;
  readonly samples: number;
  readonly seeds: number;
  readonly noise: number;
  readonly designs: number;
  readonly dataset: Dataset;
  readonly bank_seed: number;
  readonly design_bank_seed: number;
  readonly sample_cells: readonly string[];
  readonly devices: readonly DeviceBenchResult[];
  readonly overall: Omit<DeviceBenchResult, 'name' | 'cells'>;
  /** Prior sampling speed, measured in this run: devices drawn per second (parameters only)... */
  readonly synthetic_devices_per_s: number;
  /** ...and the median ms to compute one drawn device's latencies of all 15,625 cells. */
  readonly synthetic_all_latencies_ms: number;
  readonly seconds: number;
}

/** z such that 90% of a normal lies within ±z. */
const Z90 = 1.6448536269514722;

export async function runLatencyBench(options: LatencyBenchOptions): Promise<LatencyBenchResult> {
  const started = performance.now();
  const { table } = options;
  const { samples, seeds, noise, designs, bankSeed, designBankSeed, logger } = benchSettings(options);
  const dataset = options.dataset ?? 'cifar10';
  const names = options.devices ?? table.columns;
  requireColumns(table.source, names, table.latencies, table.columns);
  // Built only once the columns are known to exist: drawing a prior's bank takes seconds.
  const priorBanks = Array.from({ length: designs }, (_, variant) =>
    weightBank(dataset, DEFAULT_BANK_SIZE, bankSeed + variant),
  );
  const coverageReference = priorReference(dataset);
  const results: DeviceBenchResult[] = [];
  let sampleCells: readonly Cell[] = [];
  for (const name of names) {
    const column = RecordedDevice.fromTable(table, name);
    column.requireCells(samples);
    const truth = column.allLatencies();
    const available = (code: number): boolean => !Number.isNaN(truth[code]!);
    const availableCodes = Array.from({ length: SPACE_SIZE }, (_, code) => code).filter(available);
    const allAvailable = availableCodes.length === SPACE_SIZE;
    // Once per variant and column: a column with gaps needs its own designs (a few seconds each);
    // one without them gets the designs designSampleCells keeps for every such column.
    const variantDesigns = Array.from({ length: designs }, (_, variant) =>
      designVariant(samples, dataset, variant, allAvailable ? undefined : available, designBankSeed),
    );
    if (sampleCells.length === 0 && allAvailable) sampleCells = variantDesigns[0]!;
    const truthAvailable = Float64Array.from(availableCodes, (code) => truth[code]!);
    const runs: SeedRun[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const design = variantDesigns[seed % designs]!;
      const bank = priorBanks[seed % designs]!;
      const device = RecordedDevice.fromTable(table, name, { noise, seed });
      const measured = await device.measure(design);
      const model = fitLatencyModel(
        { cells: design, latenciesMs: measured.latenciesMs },
        { dataset, bank, ...(options.knownNoise === false ? {} : { measurementNoise: noise }) },
      );
      const { mean: predicted, std } = model.predictAll();
      const baseline = await naiveBaseline(
        device,
        availableCodes,
        samples,
        new Random(seed).child(`baseline:${name}`),
      );
      const at = (values: ArrayLike<number>): Float64Array =>
        Float64Array.from(availableCodes, (code) => values[code]!);
      runs.push(
        scoreSeedRun(
          seed % designs,
          truthAvailable,
          at(predicted),
          at(std),
          at(baseline),
          model.looError.mape,
        ),
      );
    }
    const result = summarizeDevice(
      name,
      availableCodes.length,
      runs,
      designs,
      ceilingRho(truth, availableCodes),
      priorPercentile(coverageReference, truth),
    );
    const ceiling = result.ceiling_rho;
    logger.info(
      `${name}: rho ${result.rho.toFixed(4)} (baseline ${result.baseline_rho.toFixed(4)}, ceiling ${ceiling.toFixed(4)}), coverage ${(100 * result.coverage90).toFixed(1)}%`,
    );
    results.push(result);
  }
  return {
    table: table.source,
    samples,
    seeds,
    noise,
    designs,
    dataset,
    bank_seed: bankSeed,
    design_bank_seed: designBankSeed,
    sample_cells: sampleCells.map((cell) => cell.join('')),
    devices: results,
    overall: overallOf(results),
    ...syntheticSpeed(dataset),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Default number of variants the seeds rotate through (two seeds each with the default 20). The
 * draws move a column's efficiency far more than the noise seed does (the edge GPU: 0.933-0.972
 * over designs), so more variants with fewer seeds each estimate the method's expected figure
 * better: with 4 design-only variants, the edge GPU's standard error was 0.0067; with 10, 0.0034.
 * Each variant costs a design and a prior's bank (about 6 s and 2 s).
 */
export const DEFAULT_DESIGN_VARIANTS = 10;
/**
 * Design variant `variant` for the bench: 0 is the design the product ships (restricted to the
 * cells with data when a column has gaps); variant v is the same design computed against another
 * draw of the synthetic bank (seed `bankSeed + v`), i.e. a design the product could equally have
 * shipped had its bank seed been another.
 */
export function designVariant(
  samples: number,
  dataset: Dataset,
  variant: number,
  available?: (code: number) => boolean,
  bankSeed = DEFAULT_BANK_SEED,
): readonly Cell[] {
  return designSampleCells(samples, {
    dataset,
    bankSeed: bankSeed + variant,
    ...(available ? { available } : {}),
  });
}

/** Draws 2,000 synthetic devices, then computes all latencies of 30 of them, one at a time. */
function syntheticSpeed(dataset: Dataset): {
  synthetic_devices_per_s: number;
  synthetic_all_latencies_ms: number;
} {
  const random = new Random(3).child('synthetic-speed');
  const count = 2000;
  const started = performance.now();
  const drawn = Array.from({ length: count }, (_, k) => samplePrior(random.child(String(k)), dataset));
  const perSecond = count / ((performance.now() - started) / 1000);
  const times = drawn.slice(0, 30).map((parameters) => {
    const start = performance.now();
    syntheticLatenciesOf(parameters);
    return performance.now() - start;
  });
  return { synthetic_devices_per_s: perSecond, synthetic_all_latencies_ms: median(times) };
}

/**
 * One seed's figures from aligned arrays of the truth, the model's means and interval sds, and a
 * baseline's predictions, over the rows it is scored on.
 */
export function scoreSeedRun(
  variant: number,
  truth: Float64Array,
  predicted: Float64Array,
  std: Float64Array,
  baseline: Float64Array,
  looMape: number,
): SeedRun {
  let inside = 0;
  for (let i = 0; i < truth.length; i++) if (Math.abs(truth[i]! - predicted[i]!) <= Z90 * std[i]!) inside++;
  return {
    variant,
    rho: spearman(predicted, truth),
    mape: meanAbsolutePercentageError(predicted, truth),
    coverage: inside / truth.length,
    looMape,
    baselineRho: spearman(baseline, truth),
    baselineMape: meanAbsolutePercentageError(baseline, truth),
  };
}

/** One noise seed's figures on one device. */
export interface SeedRun {
  readonly variant: number;
  readonly rho: number;
  readonly mape: number;
  readonly coverage: number;
  readonly looMape: number;
  readonly baselineRho: number;
  readonly baselineMape: number;
}

/** A device's figures from its seeds' runs: means, per-variant ranges, standard errors, the shipped variant's. */
export function summarizeDevice(
  name: string,
  cells: number,
  runs: readonly SeedRun[],
  designs: number,
  ceiling: number,
  priorPercentileValue: number,
): DeviceBenchResult {
  const rho = mean(runs.map((r) => r.rho));
  const byVariant = Array.from({ length: designs }, (_, v) => runs.filter((r) => r.variant === v));
  const variantMeans = (pick: (r: SeedRun) => number): number[] =>
    byVariant.map((group) => mean(group.map(pick)));
  const range = (pick: (r: SeedRun) => number): [number, number] => {
    const values = variantMeans(pick);
    return [Math.min(...values), Math.max(...values)];
  };
  const [lowRho, highRho] = range((r) => r.rho);
  const spread = (pick: (r: SeedRun) => number): number =>
    standardError(designs > 1 ? variantMeans(pick) : runs.map(pick));
  const shipped = byVariant[0]!;
  return {
    name,
    cells,
    rho,
    mape: mean(runs.map((r) => r.mape)),
    coverage90: mean(runs.map((r) => r.coverage)),
    loo_mape: mean(runs.map((r) => r.looMape)),
    baseline_rho: mean(runs.map((r) => r.baselineRho)),
    baseline_mape: mean(runs.map((r) => r.baselineMape)),
    ceiling_rho: ceiling,
    efficiency: rho / ceiling,
    prior_percentile: priorPercentileValue,
    efficiency_range: [lowRho / ceiling, highRho / ceiling],
    coverage90_range: range((r) => r.coverage),
    efficiency_se: spread((r) => r.rho) / ceiling,
    coverage90_se: spread((r) => r.coverage),
    efficiency_shipped: mean(shipped.map((r) => r.rho)) / ceiling,
    coverage90_shipped: mean(shipped.map((r) => r.coverage)),
  };
}

/** The means over devices of every per-device figure. */
export function overallOf(results: readonly DeviceBenchResult[]): Omit<DeviceBenchResult, 'name' | 'cells'> {
  const average = (pick: (r: DeviceBenchResult) => number): number => mean(results.map(pick));
  return {
    rho: average((r) => r.rho),
    mape: average((r) => r.mape),
    coverage90: average((r) => r.coverage90),
    loo_mape: average((r) => r.loo_mape),
    baseline_rho: average((r) => r.baseline_rho),
    baseline_mape: average((r) => r.baseline_mape),
    ceiling_rho: average((r) => r.ceiling_rho),
    efficiency: average((r) => r.efficiency),
    prior_percentile: average((r) => r.prior_percentile),
    efficiency_range: [average((r) => r.efficiency_range[0]), average((r) => r.efficiency_range[1])],
    coverage90_range: [average((r) => r.coverage90_range[0]), average((r) => r.coverage90_range[1])],
    efficiency_se: average((r) => r.efficiency_se),
    coverage90_se: average((r) => r.coverage90_se),
    efficiency_shipped: average((r) => r.efficiency_shipped),
    coverage90_shipped: average((r) => r.coverage90_shipped),
  };
}

/** Mean absolute percentage error, in %, over the entries with a positive truth. */
export function meanAbsolutePercentageError(predicted: Float64Array, truth: Float64Array): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i]! <= 0) continue;
    sum += Math.abs(predicted[i]! - truth[i]!) / truth[i]!;
    count++;
  }
  return (100 * sum) / count;
}

/** Op counts (5) plus a constant. */
function countFeatures(cell: Cell): number[] {
  const row = [1, 0, 0, 0, 0, 0];
  for (const op of cell) row[1 + op]!++;
  return row;
}

/** The naive baseline: random cells, NNLS on per-op counts plus a constant. Latencies by code. */
export async function naiveBaseline(
  device: RecordedDevice,
  availableCodes: readonly number[],
  samples: number,
  random: Random,
): Promise<Float64Array> {
  const cells = random.sample(availableCodes, samples).map((code) => decodeCell(code));
  const measured = await device.measure(cells);
  const weights = nonNegativeLeastSquares(cells.map(countFeatures), measured.latenciesMs);
  const out = new Float64Array(SPACE_SIZE);
  for (let code = 0; code < SPACE_SIZE; code++) {
    const row = countFeatures(decodeCell(code));
    let sum = 0;
    for (let j = 0; j < row.length; j++) sum += row[j]! * weights[j]!;
    out[code] = sum;
  }
  return out;
}

/** Active columns of the ceiling's features: constant, per-edge op one-hots, their pairwise products. */
function ceilingColumns(cell: Cell): number[] {
  const columns = [0];
  const oneHot = (e: number): number => 1 + e * (NUM_OPS - 1) + cell[e]! - 1;
  const pairBase = 1 + NUM_EDGES * (NUM_OPS - 1);
  let pair = 0;
  for (let a = 0; a < NUM_EDGES; a++) {
    if (cell[a] !== OP_NONE) columns.push(oneHot(a));
    for (let b = a + 1; b < NUM_EDGES; b++, pair++) {
      if (cell[a] !== OP_NONE && cell[b] !== OP_NONE) {
        columns.push(pairBase + pair * 16 + (cell[a]! - 1) * 4 + cell[b]! - 1);
      }
    }
  }
  return columns;
}

/** Spearman of the least-squares fit on every available cell: what a small model could reach at best. */
function ceilingRho(truth: Float64Array, availableCodes: readonly number[]): number {
  const d = 1 + NUM_EDGES * (NUM_OPS - 1) + 15 * 16;
  const gram = squareMatrix(d);
  const rhs = new Float64Array(d);
  const rows = availableCodes.map((code) => ceilingColumns(decodeCell(code)));
  rows.forEach((columns, i) => {
    const y = truth[availableCodes[i]!]!;
    for (const a of columns) {
      rhs[a] = rhs[a]! + y;
      for (const b of columns) gram.data[a * d + b] = gram.data[a * d + b]! + 1;
    }
  });
  // Columns never active (e.g. pairs unseen when cells are missing) get a unit diagonal; others a tiny ridge.
  for (let i = 0; i < d; i++)
    gram.data[i * d + i] = gram.data[i * d + i]! + (gram.data[i * d + i] === 0 ? 1 : 1e-8);
  const weights = choleskySolve(cholesky(gram), rhs);
  const fitted = Float64Array.from(rows, (columns) => columns.reduce((sum, c) => sum + weights[c]!, 0));
  return spearman(
    fitted,
    Float64Array.from(availableCodes, (code) => truth[code]!),
  );
}

interface PriorReference {
  readonly codes: Int32Array;
  /** Mean-normalized latency profiles of the reference synthetic devices on `codes`. */
  readonly profiles: Float64Array[];
  /** Sorted nearest-neighbour distances among a second set of synthetic devices. */
  readonly syntheticNearest: Float64Array;
}

const PRIOR_REFERENCE_DEVICES = 400;
const PRIOR_PROBE_DEVICES = 200;

/** Synthetic devices to compare real profiles with, and how far synthetic devices lie from each other. */
function priorReference(dataset: Dataset): PriorReference {
  const codes = Int32Array.from({ length: Math.ceil(SPACE_SIZE / 7) }, (_, i) => i * 7);
  const random = new Random(7).child(`prior-coverage:${dataset}`);
  const profile = (latencies: Float64Array): Float64Array => normalizeProfile(latencies);
  const profiles = Array.from({ length: PRIOR_REFERENCE_DEVICES }, (_, k) =>
    profile(syntheticLatenciesOf(samplePrior(random.child(`ref${k}`), dataset), codes)),
  );
  const syntheticNearest = Float64Array.from({ length: PRIOR_PROBE_DEVICES }, (_, k) =>
    nearestDistance(
      profile(syntheticLatenciesOf(samplePrior(random.child(`probe${k}`), dataset), codes)),
      profiles,
    ),
  ).sort();
  return { codes, profiles, syntheticNearest };
}

function normalizeProfile(latencies: Float64Array): Float64Array {
  let sum = 0;
  let count = 0;
  for (const value of latencies) {
    if (Number.isNaN(value)) continue;
    sum += value;
    count++;
  }
  const m = sum / count;
  return latencies.map((value) => value / m);
}

/** RMS distance to the nearest profile, over the cells where `profile` has data. */
function nearestDistance(profile: Float64Array, profiles: readonly Float64Array[]): number {
  let best = Infinity;
  for (const other of profiles) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < profile.length; i++) {
      if (Number.isNaN(profile[i]!)) continue;
      sum += (profile[i]! - other[i]!) ** 2;
      count++;
    }
    best = Math.min(best, Math.sqrt(sum / count));
  }
  return best;
}

/** Percent of synthetic devices that are farther from their nearest synthetic neighbour than this device. */
function priorPercentile(reference: PriorReference, truth: Float64Array): number {
  const profile = normalizeProfile(Float64Array.from(reference.codes, (code) => truth[code]!));
  // Compare on the same cells: re-normalize the reference over the cells this device has.
  const mask = profile.map((value) => (Number.isNaN(value) ? 0 : 1));
  const references = reference.profiles.map((p) =>
    normalizeProfile(p.map((value, i) => (mask[i] ? value : Number.NaN))),
  );
  const distance = nearestDistance(profile, references);
  let farther = 0;
  for (const value of reference.syntheticNearest) if (value > distance) farther++;
  return (100 * farther) / reference.syntheticNearest.length;
}

const bankLabel = (seed: number): string => `${seed}${seed === DEFAULT_BANK_SEED ? ' (shipped)' : ''}`;

/** A column the layered bench adds to the device table: its header and its value per row. */
export type ExtraColumn = readonly [string, (row: Omit<DeviceBenchResult, 'name' | 'cells'>) => string];

/** The device table's lines: a header, one row per device and the means, fixed width. */
export function formatDeviceRows(
  devices: readonly DeviceBenchResult[],
  overall: Omit<DeviceBenchResult, 'name' | 'cells'>,
  extra: readonly ExtraColumn[] = [],
): string[] {
  const header = [
    'device',
    'cells',
    'rho',
    'MAPE%',
    'cov90% ± se',
    'LOO%',
    'base rho',
    'ceiling',
    'effic. ± se',
    'shipped',
    'eff. designs',
    'cov. designs',
    'prior pct',
    ...extra.map(([name]) => name),
  ];
  const row = (name: string, cells: string, r: Omit<DeviceBenchResult, 'name' | 'cells'>): string[] => [
    name,
    cells,
    r.rho.toFixed(4),
    r.mape.toFixed(1),
    `${(100 * r.coverage90).toFixed(1)} ± ${(100 * r.coverage90_se).toFixed(1)}`,
    r.loo_mape.toFixed(1),
    r.baseline_rho.toFixed(4),
    r.ceiling_rho.toFixed(4),
    `${r.efficiency.toFixed(4)} ± ${r.efficiency_se.toFixed(4)}`,
    r.efficiency_shipped.toFixed(4),
    `${r.efficiency_range[0].toFixed(3)}-${r.efficiency_range[1].toFixed(3)}`,
    `${(100 * r.coverage90_range[0]).toFixed(0)}-${(100 * r.coverage90_range[1]).toFixed(0)}`,
    r.prior_percentile.toFixed(0),
    ...extra.map(([, value]) => value(r)),
  ];
  const rows = [header, ...devices.map((d) => row(d.name, String(d.cells), d)), row('mean', '', overall)];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '),
  );
}

/** The benchmark as a fixed-width text table, one row per device plus the means. */
export function formatLatencyBench(result: LatencyBenchResult): string {
  const lines = formatDeviceRows(result.devices, result.overall);
  return [
    `latency model from ${result.samples} designed samples, ${result.seeds} seed${result.seeds === 1 ? '' : 's'} over ${result.designs} variant${result.designs === 1 ? '' : 's'}, ${(100 * result.noise).toFixed(1)}% measurement noise, prior for ${result.dataset} learned from synthetic bank ${bankLabel(result.bank_seed)}, designs computed against bank ${bankLabel(result.design_bank_seed)} (variant v: both seeds + v)`,
    `table ${result.table}; per-device figures are means over the ${result.seeds} seeds (seed s runs variant s mod ${result.designs}: its own design and prior; 'designs' columns: lowest-highest per-variant mean; 'shipped': the seeds that ran variant 0, the shipped design and prior unless a bank seed is set; ± the standard error over the variants' means, or over the seeds with one variant); ${result.seconds.toFixed(1)} s`,
    `synthetic prior: ${result.synthetic_devices_per_s.toFixed(0)} devices drawn/s; all 15,625 latencies of one device in ${result.synthetic_all_latencies_ms.toFixed(1)} ms (median of 30)`,
    ...lines,
  ].join('\n');
}
