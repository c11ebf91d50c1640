// Which cells to measure on a new device: a greedy I-optimal design against the latency model
// under the learned prior. Each step picks the connected cell whose measurement most reduces the
// average predictive variance over all 15,625 cells, summed over the prior's parts (execution mode
// x regularity x fusion, each weighted by its share and as a relative reduction of its own
// variance) and over the whole bank as one more part, then conditions every part on it.
// Deterministic, and fixed per dataset because the prior is. Average variance rather than
// D-optimality because a search needs good predictions everywhere, not well-identified weights; per
// part, because a design for the blurred single Gaussian alone did worse (mean rho 0.947 vs 0.958
// over 11 recorded devices, 3 seeds, in our tuning runs); with the whole bank as well, because the
// parts alone do not value telling them apart (see MARGINAL_WEIGHT).
import { type Cell, decodeCell, isConnected, SPACE_SIZE } from '../spaces/nb201/cell.js';
import { parseDataset, type Dataset } from '../spaces/nb201/datasets.js';
import { UsageError } from '../errors.js';
import { SAMPLE_COUNT_MAX, SAMPLE_COUNT_MIN } from '../options.js';
import { FEATURE_COUNT, sparseFeatureMatrix } from './features.js';
import { meanAndCovariance, multiplyMatrices } from './linalg.js';
import { DEFAULT_BANK_SEED, DEFAULT_BANK_SIZE, priorParts, weightBank, type WeightBank } from './prior.js';

export const DEFAULT_SAMPLE_COUNT = 10;

export interface DesignOptions {
  /** One of NB201's datasets (the prior is per dataset); default cifar10. */
  readonly dataset?: string;
  /** Restrict to cells for which this returns true (e.g. cells a recorded table has data for). */
  readonly available?: (code: number) => boolean;
  /** Seed of the synthetic bank the design is computed against (default: the shipped one). */
  readonly bankSeed?: number;
}

const cache = new Map<string, readonly Cell[]>();

/** The `count` cells to measure, in the order they were chosen (a prefix is itself a good design). */
export function designSampleCells(
  count = DEFAULT_SAMPLE_COUNT,
  options: DesignOptions = {},
): readonly Cell[] {
  if (!Number.isInteger(count) || count < SAMPLE_COUNT_MIN || count > SAMPLE_COUNT_MAX) {
    throw new UsageError(
      `sample count ${count} is out of range; expected an integer from ${SAMPLE_COUNT_MIN} to ${SAMPLE_COUNT_MAX}`,
    );
  }
  const dataset: Dataset = parseDataset(options.dataset ?? 'cifar10');
  const bankSeed = options.bankSeed ?? DEFAULT_BANK_SEED;
  const key = `${dataset}:${count}:${bankSeed}`;
  if (!options.available && cache.has(key)) return cache.get(key)!;
  const codes = designCodes(count, dataset, bankSeed, options.available);
  const cells = codes.map((code) => decodeCell(code));
  if (!options.available) cache.set(key, cells);
  return cells;
}

interface DesignComponent {
  readonly share: number;
  readonly mean: Float64Array;
  readonly sigma: Float64Array;
  readonly noiseVariance: number;
}

/**
 * Weight of the whole bank as one more part, against the parts' shares, which sum to 1. Its
 * covariance holds the spread between the parts' means, so a design that serves it also measures
 * the cells that tell execution modes (and fusion) apart; a design for the parts alone measures
 * each part well only once the device's part is known. Without it, designs computed against other
 * draws of the bank left Pixel 3 classified as computing every edge (rho 0.90 against 0.96) and the
 * edge GPU without its fused part. Chosen over 0 / 0.5 / 2 / 4 on 9 recorded columns with designs
 * computed against 4 bank draws each (3 noise seeds, throw-away scripts): at 2 the edge GPU's rho
 * went from 0.909-0.946 to 0.943-0.954 and Pixel 3's from 0.904-0.965 to 0.956-0.963; at 0.5 one
 * draw still missed Pixel 3's mode (0.872); at 4 one draw cost the Essential Phone 0.07. Splitting
 * the parts by fusion matters too: without it, weight 2 left the edge GPU at 0.934-0.954.
 */
const MARGINAL_WEIGHT = 2;

/**
 * The bank split like the latency model's mixture prior (execution mode x regularity x fusion), so
 * that the design serves every kind of device rather than the blur of all of them, plus the whole
 * bank (see MARGINAL_WEIGHT).
 */
function designComponents(dataset: Dataset, bankSeed: number): DesignComponent[] {
  const bank = weightBank(dataset, DEFAULT_BANK_SIZE, bankSeed);
  const components = priorParts(bank).map(({ members }) =>
    gaussianOf(bank, members, members.length / bank.size),
  );
  const everyDevice = Array.from({ length: bank.size }, (_, k) => k);
  components.push(gaussianOf(bank, everyDevice, MARGINAL_WEIGHT));
  return components;
}

/** Mean, covariance and median residual variance of some bank devices' weights. */
function gaussianOf(bank: WeightBank, members: readonly number[], share: number): DesignComponent {
  const d = FEATURE_COUNT;
  const { mean, covariance } = meanAndCovariance(
    members.map((k) => bank.weights.subarray(k * d, (k + 1) * d)),
    d,
  );
  const residuals = Float64Array.from(members, (k) => bank.residualVariance[k]!).sort();
  return { share, mean, sigma: covariance.data, noiseVariance: residuals[residuals.length >> 1]! };
}

function designCodes(
  count: number,
  dataset: Dataset,
  bankSeed: number,
  available?: (code: number) => boolean,
): number[] {
  const d = FEATURE_COUNT;
  const sparse = sparseFeatureMatrix();
  const components = designComponents(dataset, bankSeed);
  // M = Σ_c x_c x_cᵀ over all cells: the average-variance criterion needs Σ M Σ.
  const gram = new Float64Array(d * d);
  for (let code = 0; code < SPACE_SIZE; code++) {
    for (let s = sparse.rowStart[code]!; s < sparse.rowStart[code + 1]!; s++) {
      for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++) {
        const at = sparse.columns[s]! * d + sparse.columns[t]!;
        gram[at] = gram[at]! + sparse.values[s]! * sparse.values[t]!;
      }
    }
  }
  const chosen: number[] = [];
  const taken = new Uint8Array(SPACE_SIZE);
  // Only connected cells: a disconnected one is a network whose output ignores its input, useless
  // to a search and, on runtimes that fold constants, not even a network to time.
  const eligible = Uint8Array.from({ length: SPACE_SIZE }, (_, code) =>
    isConnected(decodeCell(code)) && (!available || available(code)) ? 1 : 0,
  );
  const eligibleCount = eligible.reduce((sum, flag) => sum + flag, 0);
  if (eligibleCount < count) {
    throw new UsageError(
      `only ${eligibleCount} connected cells are available for the design; ${count} requested`,
    );
  }
  const gains = new Float64Array(SPACE_SIZE);
  for (let step = 0; step < count; step++) {
    gains.fill(0);
    for (const component of components) {
      const sigmaGramSigma = multiplyMatrices(multiplyMatrices(component.sigma, gram, d), component.sigma, d);
      // Each mode counts by its share of the prior, as a relative reduction of its own average
      // variance, so that modes with large latency spreads do not crowd out the others.
      let averageVariance = 0;
      for (let i = 0; i < d * d; i++) averageVariance += component.sigma[i]! * gram[i]!;
      for (let code = 0; code < SPACE_SIZE; code++) {
        if (!eligible[code] || taken[code]) continue;
        const predicted = sparseDot(component.mean, sparse, code);
        const variance = quadraticForm(component.sigma, sparse, code, d);
        const noise = component.noiseVariance * predicted * predicted;
        gains[code] =
          gains[code]! +
          (component.share * quadraticForm(sigmaGramSigma, sparse, code, d)) /
            ((variance + noise) * averageVariance);
      }
    }
    let bestCode = -1;
    let bestGain = -1;
    for (let code = 0; code < SPACE_SIZE; code++) {
      if (!eligible[code] || taken[code]) continue;
      if (gains[code]! > bestGain * (1 + 1e-12)) {
        bestGain = gains[code]!;
        bestCode = code;
      }
    }
    if (bestCode < 0) {
      throw new UsageError(`only ${chosen.length} cells are available for the design; ${count} requested`);
    }
    chosen.push(bestCode);
    taken[bestCode] = 1;
    // Condition every component on a measurement of the chosen cell (rank-one update).
    for (const component of components) {
      const u = new Float64Array(d);
      for (let t = sparse.rowStart[bestCode]!; t < sparse.rowStart[bestCode + 1]!; t++) {
        for (let j = 0; j < d; j++)
          u[j] = u[j]! + sparse.values[t]! * component.sigma[sparse.columns[t]! * d + j]!;
      }
      const predicted = sparseDot(component.mean, sparse, bestCode);
      const denominator =
        quadraticForm(component.sigma, sparse, bestCode, d) + component.noiseVariance * predicted * predicted;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++)
          component.sigma[i * d + j] = component.sigma[i * d + j]! - (u[i]! * u[j]!) / denominator;
      }
    }
  }
  return chosen;
}

function sparseDot(
  weights: Float64Array,
  sparse: ReturnType<typeof sparseFeatureMatrix>,
  code: number,
): number {
  let sum = 0;
  for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++)
    sum += sparse.values[t]! * weights[sparse.columns[t]!]!;
  return sum;
}

function quadraticForm(
  matrix: Float64Array,
  sparse: ReturnType<typeof sparseFeatureMatrix>,
  code: number,
  d: number,
): number {
  let sum = 0;
  for (let s = sparse.rowStart[code]!; s < sparse.rowStart[code + 1]!; s++) {
    for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++) {
      sum += sparse.values[s]! * sparse.values[t]! * matrix[sparse.columns[s]! * d + sparse.columns[t]!]!;
    }
  }
  return sum;
}
