// The task score: one number per cell, in [0, 1], that ranks architectures by expected accuracy
// from the training-free proxies and what the cell's structure says without any computation.
// Rule (small, chosen on cifar10 only and never fitted to accuracies; README.md gives the figures):
//   score = ( 4 P(naswot per unit) + 8 P(params) + skip / 2 + 2 (1 - pools / 6)
//             + [one identity path] + spatial ) / 17
// - P(v): the fraction of the search space's connected cells whose value is below v (mid-rank for
//   ties), read from the precomputed table for the dataset.
// - naswot per unit = naswot - B ln D: NASWOT of the kernel divided by D, the number of ReLU units
//   per image (B = batch size, the kernel's order). K / D holds the fraction of units on which two
//   inputs agree, so it measures how distinctly the network separates inputs without growing with
//   the number of ReLUs. Raw NASWOT grows by B ln D with every extra conv, so it rewards stacks of
//   cheap 1x1 convs over the one 3x3 that the same budget allows, and it double-counts capacity
//   next to the params term.
// - params: the deployed network's parameter count, exact for any cell. It carries the capacity
//   signal logsynflow carries too (among cells of equal params logsynflow orders accuracy hardly
//   better than chance, rho ~ 0.05, where NASWOT per unit reaches 0.65),
//   without its preference for many parallel 1x1 paths.
// - skip: FreeREA's skip measure (0..2), a small weight: it breaks ties among similar cells in
//   favour of long residual paths, but alone it does not correlate with accuracy.
// - pools: live avg_pool_3x3 edges. A pooling edge adds no ReLU and no weight, so neither proxy
//   term sees it, yet it blurs every feature map on its path: the terms above would rank it like
//   an identity edge.
// - [one identity path]: 1 when exactly one input-to-output path is made of skip_connect edges
//   only (a residual cell). With none the stack of 15 cells is a plain network; with two or more
//   the cell adds its input to its output several times, so the identity stream grows cell after
//   cell and swamps what the batch-normalised convs add. Neither proxy sees it (skips carry no
//   ReLU and no weight) and FreeREA's skip even rewards the extra skips.
// - spatial: 1 when a live edge is a 3x3 conv, 1/2 when none is but a live edge is a 3x3 pooling,
//   else 0. Without a 3x3 window in the cell only the reduction blocks widen the receptive field,
//   and NASWOT per unit rates chains of 1x1 convs highest of all: it sees how distinctly inputs
//   are separated, not spatial context. A pooling edge gives that context without weights, so it
//   earns half: in a cell with no 3x3 conv (the smallest FLOPs budgets) the best cells add one,
//   while the pool term above still prefers a 3x3 conv's window to a pool's.
// The weights 4 : 8 : 1 : 2 : 1 : 1 are 1 : 2 : 1/4 : 1/2 : 1/4 : 1/4 relative to NASWOT, picked from
// grids of at most six values per weight by constrained regrets on cifar10 (FLOPs budgets and the
// exact latencies of recorded devices; figures in README.md); cifar100, ImageNet16-120 and random
// halves of the cells are the checks. The pooling credit (0, 1/2 and 1 tried, 2026-11-28): 1 costs
// cifar10 (mean FLOPs regret over 19 budgets 0.42 -> 0.60, devices' p25 0.46 -> 0.70); 1/2 leaves
// cifar10's regret under the devices' exact latencies as it was (0.46 / 0.36 / 0.26) and lowers
// the p25 FLOPs regret on all three datasets (8 random halves: 0.80 / 0.48 / 1.75 -> 0.69 / 0.37 /
// 1.17).
// The terms are mixed by combineTerms (terms.ts), the one rule every space's score goes through.
// A disconnected cell (naswot -Infinity: it computes nothing) scores 0.
// A cell outside a partial table is placed on the table's distribution (an unbiased sample of the
// space, see build.ts), so on-demand and table cells are scored alike. The earlier rules stay
// available for comparison in the benchmark: FreeREA's min-max mix and its rank-normalised variant.
import { networkCost } from '../cost.js';
import { CELLS_PER_STAGE, STAGE_CHANNELS } from '../layout.js';
import {
  EDGES,
  OP_AVGPOOL,
  OP_CONV1X1,
  OP_CONV3X3,
  OP_SKIP,
  effectiveCell,
  opCounts,
  type Cell,
} from '../cell.js';
import { DATASET_SHAPES, type Dataset } from '../datasets.js';
import type { ProxyValues } from './compute.js';
import { SKIP_RANGE } from './skip.js';
import { combineTerms, distributionOf, percentile, type Distribution } from '../../../proxies/terms.js';

export { distributionOf, percentile, type Distribution } from '../../../proxies/terms.js';

export type Bounds = readonly [number, number];

export interface ScoreBounds {
  readonly naswot: Bounds;
  readonly logsynflow: Bounds;
}

/** What a cell is ranked against: the space's distributions of each ranked quantity on a dataset. */
export interface ScoreNormaliser {
  readonly dataset: Dataset;
  /** The NASWOT minibatch size the values were computed with (the kernel's order B). */
  readonly batchSize: number;
  readonly naswotPerUnit: Distribution;
  readonly params: Distribution;
  /** For the earlier rank rule (comparison only). */
  readonly naswot: Distribution;
  readonly logsynflow: Distribution;
}

/** What the rule reads from the cell itself (exact, no network is run). */
export interface CellFeatures {
  /** Parameters of the deployed network (dead edges pruned), in millions. */
  readonly paramsM: number;
  /** ReLU units per image, D in the NASWOT kernel. */
  readonly reluUnits: number;
  /** Live avg_pool_3x3 edges. */
  readonly pools: number;
  /** Input-to-output paths made of skip_connect edges only. */
  readonly identityPaths: number;
  /** Live nor_conv_3x3 edges. */
  readonly convs3x3: number;
}

/** Share of the spatial term a live 3x3 pooling earns in a cell without a live 3x3 conv. */
export const POOLING_SPATIAL_CREDIT = 0.5;

export const TASK_SCORE_WEIGHTS = {
  naswotPerUnit: 4,
  params: 8,
  skip: 1,
  pools: 2,
  residual: 1,
  spatial: 1,
} as const;

export const TASK_SCORE_FORMULA =
  '(4 P(naswot - B ln D) + 8 P(params) + skip / 2 + 2 (1 - pools / 6) + [one identity path] + spatial) / 17; ' +
  'P = fraction of the space below (mid-rank), from the proxy table; D = ReLU units, B = batch size; ' +
  'identity path = input-to-output path of skip_connect edges only; ' +
  'spatial = 1 with a live 3x3 conv, else 1/2 with a live 3x3 pooling, else 0';

const CELL_EDGES = 6;

/**
 * ReLU units per image of the network whose cell is `cell` as given (pass the effective cell for
 * the pruned network simnas builds): one ReLU before every conv of every cell, two in each
 * reduction block (on its input, and on its stride-2 branch's output), one before the classifier.
 */
export function reluUnits(cell: Cell, dataset: Dataset): number {
  const convs = cell.filter((op) => op === OP_CONV1X1 || op === OP_CONV3X3).length;
  let size = DATASET_SHAPES[dataset].inputSize;
  let units = 0;
  STAGE_CHANNELS.forEach((channels, stage) => {
    if (stage > 0) {
      units += STAGE_CHANNELS[stage - 1]! * size * size;
      size /= 2;
      units += channels * size * size;
    }
    units += CELLS_PER_STAGE * convs * channels * size * size;
  });
  return units + STAGE_CHANNELS[STAGE_CHANNELS.length - 1]! * size * size;
}

/** Paths from the cell's input (node 0) to its output (node 3) whose edges are all skip_connect. */
export function identityPaths(cell: Cell): number {
  const paths = [1, 0, 0, 0];
  // EDGES is in topological order (by target node), so every source count is final when read.
  EDGES.forEach(({ from, to }, edge) => {
    if (cell[edge] === OP_SKIP) paths[to]! += paths[from]!;
  });
  return paths[3]!;
}

/** The features of `cell`'s deployed network (its effective cell). */
export function cellFeatures(cell: Cell, dataset: Dataset): CellFeatures {
  const live = effectiveCell(cell);
  const counts = opCounts(live);
  return {
    paramsM: networkCost(live, dataset).deployed.paramsM,
    reluUnits: reluUnits(live, dataset),
    pools: counts[OP_AVGPOOL]!,
    identityPaths: identityPaths(live),
    convs3x3: counts[OP_CONV3X3]!,
  };
}

/** log|det(K / D)| from log|det K|: NASWOT of the agreement-fraction kernel. */
export function naswotPerUnit(naswot: number, reluUnitCount: number, batchSize: number): number {
  return naswot - batchSize * Math.log(reluUnitCount);
}

/** One connected cell of the reference population and how many of the space's cells it stands for. */
export interface ReferenceCell {
  readonly features: CellFeatures;
  readonly values: ProxyValues;
  readonly weight?: number;
}

/** The normaliser of a population of connected cells (disconnected ones are skipped). */
export function normaliserOf(
  cells: readonly ReferenceCell[],
  dataset: Dataset,
  batchSize: number,
): ScoreNormaliser {
  const connected = cells.filter((c) => c.values.naswot !== Number.NEGATIVE_INFINITY);
  const weights = connected.map((c) => c.weight ?? 1);
  const of = (value: (c: ReferenceCell) => number): Distribution =>
    distributionOf(connected.map(value), weights);
  return {
    dataset,
    batchSize,
    naswotPerUnit: of((c) => naswotPerUnit(c.values.naswot, c.features.reluUnits, batchSize)),
    params: of((c) => c.features.paramsM),
    naswot: of((c) => c.values.naswot),
    logsynflow: of((c) => c.values.logsynflow),
  };
}

/** The task score of `cell` with proxy `values` on the normaliser's dataset (see the header). */
export function taskScore(cell: Cell, values: ProxyValues, normaliser: ScoreNormaliser): number {
  return taskScoreOf(cellFeatures(cell, normaliser.dataset), values, normaliser);
}

/** The rule on given features (the benchmark scores FreeREA's unpruned networks with this). */
export function taskScoreOf(
  features: CellFeatures,
  values: ProxyValues,
  normaliser: ScoreNormaliser,
): number {
  // A disconnected cell computes nothing (chance accuracy): the lowest score, exactly.
  if (values.naswot === Number.NEGATIVE_INFINITY) return 0;
  const w = TASK_SCORE_WEIGHTS;
  const perUnit = naswotPerUnit(values.naswot, features.reluUnits, normaliser.batchSize);
  return combineTerms([
    [w.naswotPerUnit, percentile(normaliser.naswotPerUnit, perUnit)],
    [w.params, percentile(normaliser.params, features.paramsM)],
    [w.skip, minMax(values.skip, SKIP_RANGE)],
    [w.pools, 1 - features.pools / CELL_EDGES],
    [w.residual, features.identityPaths === 1 ? 1 : 0],
    [w.spatial, spatialContext(features)],
  ]);
}

/** The spatial term: a live 3x3 window, full credit for a conv's, part for a pooling's. */
function spatialContext(features: CellFeatures): number {
  if (features.convs3x3 > 0) return 1;
  return features.pools > 0 ? POOLING_SPATIAL_CREDIT : 0;
}

/** The previous rule, FreeREA's equal-weight mix with rank normalisation (for comparison). */
export function rankTaskScore(values: ProxyValues, normaliser: ScoreNormaliser): number {
  if (values.naswot === Number.NEGATIVE_INFINITY) return 0;
  return (
    (percentile(normaliser.naswot, values.naswot) +
      percentile(normaliser.logsynflow, values.logsynflow) +
      minMax(values.skip, SKIP_RANGE)) /
    3
  );
}

export function minMax(value: number, [low, high]: Bounds): number {
  if (value === Number.NEGATIVE_INFINITY) return 0;
  return high > low ? (value - low) / (high - low) : 0;
}

/** FreeREA's reference rule: min-max normalised equal-weight mix (for comparison). */
export function minMaxTaskScore(values: ProxyValues, bounds: ScoreBounds): number {
  if (values.naswot === Number.NEGATIVE_INFINITY) return 0;
  return (
    (minMax(values.naswot, bounds.naswot) +
      minMax(values.logsynflow, bounds.logsynflow) +
      minMax(values.skip, SKIP_RANGE)) /
    3
  );
}

/** Bounds over a set of values (finite ones only). */
export function boundsOf(values: Iterable<number>): Bounds {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return low <= high ? [low, high] : [0, 0];
}
