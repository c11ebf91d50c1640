// The latency model's prior over weight vectors, learned empirically from synthetic devices
// (empirical Bayes): each synthetic device's latencies, divided by their mean, are projected onto
// the cell features by least squares; the bank of projected weight vectors and the variance each
// projection leaves unexplained become the prior over a real device's weights and noise.
import { SPACE_SIZE } from '../spaces/nb201/cell.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import { Random } from '../util/random.js';
import { FEATURE_COUNT, sparseFeatureMatrix } from './features.js';
import { cholesky, choleskySolve, squareMatrix } from './linalg.js';
import { MIN_PART_DEVICES, type PriorBank } from './mixture-regression.js';
import { EXECUTION_MODES, samplePrior, syntheticLatenciesOf } from './synthetic.js';

export interface WeightBank extends PriorBank {
  readonly dataset: Dataset;
  readonly size: number;
  /** Row k: least-squares feature weights of synthetic device k, latencies scaled to mean 1. */
  readonly weights: Float64Array;
  /** Squared residual of each projection relative to the squared latencies (noise is multiplicative). */
  readonly residualVariance: Float64Array;
  /** Each device's execution mode, as an index into EXECUTION_MODES. */
  readonly mode: Uint8Array;
  /** 1 where the device has strong position effects (see SyntheticParameters.irregular). */
  readonly irregular: Uint8Array;
  /** 1 where an irregular device fuses ops into their producers (see PRIOR_HYPERPARAMETERS.fusionShare). */
  readonly fused: Uint8Array;
}

/** Bank size: enough that each mode's 66x66 covariance is well estimated, few enough to build in ~1 s. */
export const DEFAULT_BANK_SIZE = 1600;
/**
 * The projection uses every 6th cell (2,605 cells): the weights of a 52-feature least-squares fit
 * barely move with more, and it makes the bank six times cheaper to build.
 */
const PROJECTION_STRIDE = 6;
/**
 * The seed of the bank every fit and the sample design use. Another seed draws another bank from
 * the same prior; `simnas bench latency --bank-seed` (the prior) and `--design-bank-seed` (the
 * sample design) show how much a figure owes to this draw.
 */
export const DEFAULT_BANK_SEED = 20250401;

export { MIN_PART_DEVICES };

/** A part of the bank: the devices of one execution mode, regularity and (irregular only) fusion. */
export interface PriorPart {
  readonly mode: (typeof EXECUTION_MODES)[number];
  readonly irregular: boolean;
  readonly fused: boolean;
  /** Indices of the part's devices in the bank. */
  readonly members: readonly number[];
}

/**
 * The bank split into the parts that the latency model's mixture prior and the sample design are
 * built from, in a fixed order; parts with fewer than MIN_PART_DEVICES devices are left out.
 */
export function priorParts(bank: WeightBank): PriorPart[] {
  const byKey = new Map<number, number[]>();
  for (let k = 0; k < bank.size; k++) {
    const key = (bank.mode[k]! * 2 + bank.irregular[k]!) * 2 + bank.fused[k]!;
    const members = byKey.get(key) ?? [];
    members.push(k);
    byKey.set(key, members);
  }
  return [...byKey.entries()]
    .filter(([, members]) => members.length >= MIN_PART_DEVICES)
    .sort((a, b) => a[0] - b[0])
    .map(([key, members]) => ({
      mode: EXECUTION_MODES[key >> 2]!,
      irregular: ((key >> 1) & 1) === 1,
      fused: (key & 1) === 1,
      members,
    }));
}

const banks = new Map<string, WeightBank>();

/** The weight bank for `dataset`, built deterministically on first use and then cached. */
export function weightBank(
  dataset: Dataset = 'cifar10',
  size = DEFAULT_BANK_SIZE,
  seed = DEFAULT_BANK_SEED,
): WeightBank {
  const key = `${dataset}:${size}:${seed}`;
  let bank = banks.get(key);
  if (!bank) {
    bank = buildWeightBank(dataset, size, seed);
    banks.set(key, bank);
  }
  return bank;
}

function buildWeightBank(dataset: Dataset, size: number, seed: number): WeightBank {
  const sparse = sparseFeatureMatrix();
  const d = FEATURE_COUNT;
  const codes = Int32Array.from(
    { length: Math.ceil(SPACE_SIZE / PROJECTION_STRIDE) },
    (_, i) => i * PROJECTION_STRIDE,
  );
  const gram = squareMatrix(d);
  for (const code of codes) {
    for (let s = sparse.rowStart[code]!; s < sparse.rowStart[code + 1]!; s++) {
      for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++) {
        const at = sparse.columns[s]! * d + sparse.columns[t]!;
        gram.data[at] = gram.data[at]! + sparse.values[s]! * sparse.values[t]!;
      }
    }
  }
  // A whisper of ridge: some features are collinear (e.g. node adds and the fan-in one-hots).
  for (let i = 0; i < d; i++) gram.data[i * d + i] = gram.data[i * d + i]! + 1e-6 * codes.length;
  const factor = cholesky(gram);
  const random = new Random(seed).child(`weight-bank:${dataset}`);
  const weights = new Float64Array(size * d);
  const residualVariance = new Float64Array(size);
  const mode = new Uint8Array(size);
  const irregular = new Uint8Array(size);
  const fused = new Uint8Array(size);
  const rhs = new Float64Array(d);
  for (let k = 0; k < size; k++) {
    const parameters = samplePrior(random.child(String(k)), dataset);
    mode[k] = EXECUTION_MODES.indexOf(parameters.mode);
    irregular[k] = parameters.irregular ? 1 : 0;
    fused[k] = parameters.sourceRetained[1]! < 1 ? 1 : 0;
    const latencies = syntheticLatenciesOf(parameters, codes);
    let mean = 0;
    for (const latency of latencies) mean += latency;
    mean /= latencies.length;
    rhs.fill(0);
    codes.forEach((code, i) => {
      const y = latencies[i]! / mean;
      for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++) {
        rhs[sparse.columns[t]!] = rhs[sparse.columns[t]!]! + sparse.values[t]! * y;
      }
    });
    const w = choleskySolve(factor, rhs);
    weights.set(w, k * d);
    let sum = 0;
    let sumSquares = 0;
    codes.forEach((code, i) => {
      let fit = 0;
      for (let t = sparse.rowStart[code]!; t < sparse.rowStart[code + 1]!; t++) {
        fit += sparse.values[t]! * w[sparse.columns[t]!]!;
      }
      sum += (latencies[i]! / mean - fit) ** 2;
      sumSquares += (latencies[i]! / mean) ** 2;
    });
    // Relative to the latencies' mean square: the model treats noise as multiplicative.
    residualVariance[k] = sum / sumSquares;
  }
  return { dataset, size, featureCount: d, weights, residualVariance, mode, irregular, fused };
}
