// The cheap stand-in for the task score that a controller for a space that cannot be enumerated
// (FBNet) is pretrained and deployed on. The real score needs a forward pass per architecture
// (NASWOT, about 0.5-2 s here), and pretraining visits millions of architectures, so the policy
// acts on a ridge regression of real task scores on the architecture's per-(position, choice)
// one-hots: one weight per choice per layer plus a constant, fitted once to a few hundred real
// scores and shipped inside the controller artifact. Chosen over a fixed analytic proxy (FLOPs,
// parameters) because two thirds of FBNet's task score is its ReLU-layer count, exactly additive
// per layer, and the rest (NASWOT) is close to additive in the layers' widths; the fit learns both
// from real scores instead of guessing their mix. How well it ranks like the real score on
// architectures it was not fitted on is reported by pretraining (`simnas pretrain --space fbnet`).
import { cholesky, choleskySolve, squareMatrix } from '../devices/linalg.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { shortHash, type StandInRecord } from './artifact.js';
import { actionOffsets } from './environment.js';

/** A fitted stand-in, ready to score architectures of its space. */
export class LinearStandIn {
  private readonly offsets: number[];

  constructor(
    readonly space: SearchSpace,
    readonly record: StandInRecord,
  ) {
    this.offsets = actionOffsets(space);
    const expected = 1 + space.choices.reduce((sum, names) => sum + names.length, 0);
    if (record.weights.length !== expected) {
      throw new Error(
        `stand-in ${record.id} has ${record.weights.length} weights, the ${space.id} space needs ${expected}`,
      );
    }
  }

  get id(): string {
    return this.record.id;
  }

  /** The predicted task score, clipped to [0, 1] like the real one. */
  score(architecture: Architecture): number {
    const { weights } = this.record;
    let total = weights[0]!;
    for (let p = 0; p < architecture.length; p++) total += weights[1 + this.offsets[p]! + architecture[p]!]!;
    return Math.max(0, Math.min(1, total));
  }
}

/** Ridge strengths the fit chooses from by 5-fold cross-validation on its own data (none held out). */
const RIDGE_GRID = [0.1, 0.3, 1, 3, 10, 30] as const;
const FOLDS = 5;

function solveRidge(
  rows: readonly Int32Array[],
  targets: readonly number[],
  features: number,
  ridge: number,
): Float64Array {
  const gram = squareMatrix(features);
  const right = new Float64Array(features);
  rows.forEach((active, i) => {
    for (const a of active) {
      right[a]! += targets[i]!;
      for (const b of active) gram.data[a * features + b]! += 1;
    }
  });
  // The constant is not shrunk; a tiny jitter keeps its row positive definite.
  for (let f = 0; f < features; f++) gram.data[f * features + f]! += f === 0 ? 1e-9 : ridge;
  return choleskySolve(cholesky(gram), right);
}

function activeColumns(offsets: readonly number[], architecture: Architecture): Int32Array {
  const columns = new Int32Array(architecture.length + 1);
  for (let p = 0; p < architecture.length; p++) columns[p + 1] = 1 + offsets[p]! + architecture[p]!;
  return columns;
}

/**
 * Fits the stand-in to real task scores of `architectures`, choosing the ridge strength by 5-fold
 * cross-validated squared error.
 */
export function fitStandIn(
  space: SearchSpace,
  architectures: readonly Architecture[],
  scores: readonly number[],
  taskScoreId: string,
): LinearStandIn {
  if (architectures.length < FOLDS * 2) {
    throw new Error(
      `a stand-in needs at least ${FOLDS * 2} scored architectures, got ${architectures.length}`,
    );
  }
  const offsets = actionOffsets(space);
  const features = 1 + space.choices.reduce((sum, names) => sum + names.length, 0);
  const rows = architectures.map((a) => activeColumns(offsets, a));
  const predict = (weights: Float64Array, active: Int32Array): number =>
    active.reduce((sum, column) => sum + weights[column]!, 0);
  let best: { ridge: number; error: number } | undefined;
  for (const ridge of RIDGE_GRID) {
    let error = 0;
    for (let fold = 0; fold < FOLDS; fold++) {
      const train = rows.filter((_, i) => i % FOLDS !== fold);
      const weights = solveRidge(
        train,
        scores.filter((_, i) => i % FOLDS !== fold),
        features,
        ridge,
      );
      rows.forEach((active, i) => {
        if (i % FOLDS === fold) error += (predict(weights, active) - scores[i]!) ** 2;
      });
    }
    if (!best || error < best.error) best = { ridge, error };
  }
  const weights = Array.from(solveRidge(rows, scores, features, best!.ridge));
  const record: Omit<StandInRecord, 'id' | 'heldOutSpearman' | 'heldOut'> = {
    taskScoreId,
    ridge: best!.ridge,
    fittedOn: architectures.length,
    weights,
  };
  return new LinearStandIn(space, { id: `ridge-one-hot/${shortHash(record)}`, ...record });
}
