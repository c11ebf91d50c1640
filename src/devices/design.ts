// Which cells to measure on a new device: a greedy I-optimal design against the latency model
// under the learned prior. Each step picks the cell whose measurement most reduces the average
// predictive variance over all 15,625 cells, then conditions the prior on it; deterministic, and
// fixed per dataset because the prior is. Average rather than D-optimality because what a search
// needs is a good prediction everywhere, not well-identified weights.
import { type Cell, decodeCell, SPACE_SIZE } from '../space/cell.js';
import type { Dataset } from '../space/datasets.js';
import { UsageError } from '../errors.js';
import { FEATURE_COUNT, sparseFeatureMatrix } from './features.js';
import { squareMatrix } from './linalg.js';
import { weightBank } from './prior.js';

export const DEFAULT_SAMPLE_COUNT = 10;

export interface DesignOptions {
  readonly dataset?: Dataset;
  /** Restrict to cells for which this returns true (e.g. cells a recorded table has data for). */
  readonly available?: (code: number) => boolean;
}

const cache = new Map<string, readonly Cell[]>();

/** The `count` cells to measure, in the order they were chosen (a prefix is itself a good design). */
export function designSampleCells(
  count = DEFAULT_SAMPLE_COUNT,
  options: DesignOptions = {},
): readonly Cell[] {
  if (!Number.isInteger(count) || count < 2 || count > 200) {
    throw new UsageError(`sample count ${count} is out of range; expected an integer from 2 to 200`);
  }
  const dataset = options.dataset ?? 'cifar10';
  const key = `${dataset}:${count}`;
  if (!options.available && cache.has(key)) return cache.get(key)!;
  const codes = designCodes(count, dataset, options.available);
  const cells = codes.map((code) => decodeCell(code));
  if (!options.available) cache.set(key, cells);
  return cells;
}

function designCodes(count: number, dataset: Dataset, available?: (code: number) => boolean): number[] {
  const bank = weightBank(dataset);
  const d = FEATURE_COUNT;
  const sparse = sparseFeatureMatrix();
  // Prior covariance of the (mean-normalized) weights and a typical noise variance.
  const mean = new Float64Array(d);
  for (let k = 0; k < bank.size; k++)
    for (let j = 0; j < d; j++) mean[j] = mean[j]! + bank.weights[k * d + j]! / bank.size;
  const sigma = squareMatrix(d);
  for (let k = 0; k < bank.size; k++) {
    for (let i = 0; i < d; i++) {
      const di = bank.weights[k * d + i]! - mean[i]!;
      for (let j = 0; j < d; j++)
        sigma.data[i * d + j] =
          sigma.data[i * d + j]! + (di * (bank.weights[k * d + j]! - mean[j]!)) / (bank.size - 1);
    }
  }
  const noiseVariance = Float64Array.from(bank.residualVariance).sort()[bank.size >> 1]!;
  // M = Σ_c x_c x_cᵀ over all cells: the average-variance criterion needs Σ M Σ.
  const gram = squareMatrix(d);
  for (let code = 0; code < SPACE_SIZE; code++) {
    for (let s = sparse.rowStart[code]!; s < sparse.rowStart[code + 1]!; s++) {
      for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++) {
        const at = sparse.columns[s]! * d + sparse.columns[t]!;
        gram.data[at] = gram.data[at]! + sparse.values[s]! * sparse.values[t]!;
      }
    }
  }
  const chosen: number[] = [];
  const taken = new Uint8Array(SPACE_SIZE);
  const eligible = Uint8Array.from({ length: SPACE_SIZE }, (_, code) =>
    !available || available(code) ? 1 : 0,
  );
  for (let step = 0; step < count; step++) {
    const sigmaGramSigma = multiplyMatrices(multiplyMatrices(sigma.data, gram.data, d), sigma.data, d);
    let bestCode = -1;
    let bestGain = -1;
    for (let code = 0; code < SPACE_SIZE; code++) {
      if (!eligible[code] || taken[code]) continue;
      const variance = quadraticForm(sigma.data, sparse, code, d);
      const gain = quadraticForm(sigmaGramSigma, sparse, code, d) / (variance + noiseVariance);
      if (gain > bestGain * (1 + 1e-12)) {
        bestGain = gain;
        bestCode = code;
      }
    }
    if (bestCode < 0) {
      throw new UsageError(`only ${chosen.length} cells are available for the design; ${count} requested`);
    }
    chosen.push(bestCode);
    taken[bestCode] = 1;
    // Condition Σ on a measurement of the chosen cell (rank-one update).
    const u = new Float64Array(d);
    for (let t = sparse.rowStart[bestCode]!; t < sparse.rowStart[bestCode + 1]!; t++) {
      for (let j = 0; j < d; j++) u[j] = u[j]! + sparse.values[t]! * sigma.data[sparse.columns[t]! * d + j]!;
    }
    const denominator = quadraticForm(sigma.data, sparse, bestCode, d) + noiseVariance;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++)
        sigma.data[i * d + j] = sigma.data[i * d + j]! - (u[i]! * u[j]!) / denominator;
  }
  return chosen;
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

function multiplyMatrices(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + aik * b[k * d + j]!;
    }
  }
  return out;
}
