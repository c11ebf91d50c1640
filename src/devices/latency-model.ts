// The NB201 latency model: from a few measured cells plus the learned prior, a latency estimate
// with an uncertainty for every cell (mixture-regression.ts holds the Bayesian core every space
// shares). NB201's mixture prior is the synthetic-device bank split by execution mode (computes
// every edge, drops unused edges, live edges only, in between), by regularity (position effects or
// not) and, for irregular devices, by producer-side fusion (ops fused into the kernel that wrote
// their input): a device either computes dead edges or drops them, and one Gaussian over both
// would blur the two. Fusion makes edges cheaper the later they sit in the cell, which one Gaussian
// per mode blurred with the unfused devices: splitting on it moved the batch-1 2080 Ti from 0.941
// to 0.948 and the edge GPU from 0.927 to 0.929 (8 seeds over 4 designs), left the other 23
// recorded columns unchanged, and held-out synthetic devices from 0.961 to 0.962.
import { type Cell, encodeCell, SPACE_SIZE } from '../spaces/nb201/cell.js';
import type { Architecture } from '../spaces/space.js';
import { parseDataset } from '../spaces/nb201/datasets.js';
import { UsageError } from '../errors.js';
import { cellFeatures, FEATURE_NAMES, sparseFeatureMatrix } from './features.js';
import {
  fitMixtureRegression,
  type LatencyModelParameters,
  type LatencyPrediction,
  type LeaveOneOutError,
  type MixturePrior,
  modelParameters,
  predictRow,
  sparseRow,
  validateLatencies,
} from './mixture-regression.js';
import { PRIOR_HYPERPARAMETERS } from './synthetic.js';
import { priorParts, weightBank, type WeightBank } from './prior.js';

export type { LatencyModelParameters, LatencyPrediction, LeaveOneOutError } from './mixture-regression.js';
export { studentQuantile95 } from './mixture-regression.js';

export interface LatencySamples {
  readonly cells: readonly Cell[];
  readonly latenciesMs: ArrayLike<number>;
}

export interface LatencyModelOptions {
  readonly dataset?: string;
  /** Override the prior (tests, or a controller that brings its own bank). */
  readonly bank?: WeightBank;
  /**
   * Relative sd of the measurement noise when the caller knows it (e.g. from the spread of repeated
   * timings). The fit then adds it to every sample's variance, and the intervals are for the
   * noise-free latency: they keep the model's misfit but not this noise. Default 0: the noise is
   * unknown, so it is part of the misfit and the intervals cover a fresh measurement.
   */
  readonly measurementNoise?: number;
}

/**
 * A latency model of any space: a mean and an interval sd for any architecture. Search,
 * verification and reports speak only this.
 */
export interface LatencyModel {
  readonly sampleCount: number;
  readonly parameters: LatencyModelParameters;
  readonly looError: LeaveOneOutError;
  predict(architecture: Architecture): LatencyPrediction;
  /** Predictions for every architecture, indexed by code: only models of enumerable spaces have it. */
  predictAll?(): { mean: Float64Array; std: Float64Array };
}

/** NB201's model: every one of its 15,625 cells can be predicted at once. */
export interface EnumerableLatencyModel extends LatencyModel {
  /** Predictions for all cells, indexed by `encodeCell`, in ms. */
  predictAll(): { mean: Float64Array; std: Float64Array };
}

/**
 * Prior probability that a device has strong position effects. Once irregular devices could also
 * fuse ops into their producers, the batch-1 RTX 2080 Ti leaned on the irregular parts: its rho was
 * 0.926 / 0.934 / 0.942 at 0.5 / 0.3 / 0.15 (naive baseline 0.937; 20 seeds over 4 designs), while
 * the edge GPU moved within its spread over designs (0.930 / 0.929 / 0.926) and the Pixel 3 not at all.
 */
const IRREGULAR_PRIOR = 0.15;
const IRREGULAR_SHARE_IN_BANK = PRIOR_HYPERPARAMETERS.irregularShare;
export function fitLatencyModel(
  samples: LatencySamples,
  options: LatencyModelOptions = {},
): EnumerableLatencyModel {
  validateSamples(samples);
  const bank = options.bank ?? weightBank(parseDataset(options.dataset ?? 'cifar10'));
  const fit = fitMixtureRegression(
    samples.cells.map((cell) => cellFeatures(cell)),
    samples.latenciesMs,
    nb201Prior(bank),
    options.measurementNoise,
  );
  let cached: { mean: Float64Array; std: Float64Array } | undefined;
  return {
    sampleCount: fit.sampleCount,
    parameters: modelParameters(fit, FEATURE_NAMES),
    looError: fit.looError,
    predict(cell: Architecture): LatencyPrediction {
      const { columns, values } = sparseRow(cellFeatures(cell as Cell));
      return predictRow(fit, columns, values);
    },
    predictAll() {
      if (!cached) {
        const sparse = sparseFeatureMatrix();
        const mean = new Float64Array(SPACE_SIZE);
        const std = new Float64Array(SPACE_SIZE);
        for (let code = 0; code < SPACE_SIZE; code++) {
          const p = predictRow(
            fit,
            sparse.columns,
            sparse.values,
            sparse.rowStart[code]!,
            sparse.rowStart[code + 1]!,
          );
          mean[code] = p.meanMs;
          std[code] = p.stdMs;
        }
        cached = { mean, std };
      }
      return cached;
    },
  };
}

/**
 * The bank's parts (mode x regularity x fusion), each weighted by its share of the bank and by how
 * common we believe irregular devices are: the bank draws regular and irregular devices alike so
 * both covariances are well estimated.
 */
function nb201Prior(bank: WeightBank): MixturePrior {
  return {
    bank,
    parts: priorParts(bank).map(({ mode, irregular, fused, members }) => ({
      label: `${mode}${irregular ? ', irregular' : ''}${fused ? ', fused' : ''}`,
      members,
      logShare:
        Math.log(members.length / bank.size) +
        Math.log((irregular ? IRREGULAR_PRIOR : 1 - IRREGULAR_PRIOR) / IRREGULAR_SHARE_IN_BANK),
    })),
  };
}

function validateSamples(samples: LatencySamples): void {
  const n = samples.cells.length;
  validateLatencies(n, samples.latenciesMs, 'cells');
  const codes = new Set(samples.cells.map((cell) => encodeCell(cell)));
  if (codes.size !== n) throw new UsageError(`latency model: the ${n} sample cells contain duplicates`);
}
