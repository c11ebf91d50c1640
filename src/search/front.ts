// The latency/score tradeoff over arrays indexed by architecture code: the fastest usable cell,
// the knee of the predicted front (the target when no budget is given) and the reported front.
import { kneePoint, paretoFront } from './pareto.js';
import type { Evaluations } from './strategies.js';

/** One point of the reported front: measured where it was measured, else predicted. */
export interface FrontPoint {
  readonly code: number;
  readonly cell: string;
  readonly latencyMs: number;
  readonly latencySource: 'measured' | 'predicted';
  /** Predictive sd for predicted points. */
  readonly latencyStdMs?: number;
  readonly taskScore: number;
}

/** Whether an architecture (by code) computes something from its input; see `SearchSpace.isUsable`. */
export type Usable = (code: number) => boolean;

/** The fastest usable cell (a disconnected cell is never recommended). */
export function fastestUsable(latencies: Float64Array, usable: Usable): { code: number; ms: number } {
  let code = -1;
  for (let c = 0; c < latencies.length; c++) {
    if ((code < 0 || latencies[c]! < latencies[code]!) && usable(c)) code = c;
  }
  return { code, ms: latencies[code]! };
}

/**
 * Whether a cell may stand on a reported front or set the knee: it has a task score, and a path
 * from input to output. A disconnected cell computes a constant (chance accuracy), no network
 * anyone would deploy; left in, the all-`none` cell anchored the front's cheap end and dragged the
 * knee down to a cell of skip connections only (`npm start` on this machine: 0.15 ms, score 0.45 of
 * a front reaching 0.93).
 */
function onFront(code: number, scores: Float64Array, usable: Usable): boolean {
  return !Number.isNaN(scores[code]!) && usable(code);
}

/**
 * The knee of the front predicted over every cell that may stand on it. Cells predicted faster
 * than the fastest measured sample are extrapolations (the design measures the cheapest kinds of
 * cell), and a target below every measurement could not be verified: the knee is taken among the
 * others.
 */
export function kneeBudget(
  scores: Float64Array,
  latencies: Float64Array,
  fastestMeasuredMs: number,
  usable: Usable,
): number {
  const points = Array.from(latencies, (latencyMs, code) => ({ code, latencyMs, taskScore: scores[code]! }));
  const candidates = points.filter(
    (p) => p.latencyMs >= fastestMeasuredMs && onFront(p.code, scores, usable),
  );
  return kneePoint(paretoFront(candidates))?.latencyMs ?? fastestMeasuredMs;
}

/** The front over every evaluated cell, measured latencies replacing predictions where known. */
export function tradeoffFront(
  evaluations: Evaluations,
  measured: ReadonlyMap<number, number>,
  predicted: { mean: Float64Array; std: Float64Array },
  scores: Float64Array,
  architecture: { usable: Usable; format: (code: number) => string },
): FrontPoint[] {
  const codes = new Set(
    [...evaluations.keys(), ...measured.keys()].filter((code) => onFront(code, scores, architecture.usable)),
  );
  const points: FrontPoint[] = [...codes].map((code) => {
    const cell = architecture.format(code);
    const measuredMs = measured.get(code);
    return measuredMs !== undefined
      ? { code, cell, latencyMs: measuredMs, latencySource: 'measured', taskScore: scores[code]! }
      : {
          code,
          cell,
          latencyMs: predicted.mean[code]!,
          latencySource: 'predicted',
          latencyStdMs: predicted.std[code]!,
          taskScore: scores[code]!,
        };
  });
  return paretoFront(points);
}
