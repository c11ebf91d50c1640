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
 * ISO 3 preferred numbers (R20: 20 per decade, about 12% apart). A knee target is rounded up to one
 * of them, so that runs whose predictions differ by noise land on the same target, and a reader
 * gets a round number.
 */
const R20 = [1, 1.12, 1.25, 1.4, 1.6, 1.8, 2, 2.24, 2.5, 2.8, 3.15, 3.55, 4, 4.5, 5, 5.6, 6.3, 7.1, 8, 9];

/** The smallest R20 preferred number >= `ms`. */
export function roundUpToPreferred(ms: number): number {
  if (!(ms > 0) || !Number.isFinite(ms)) return ms;
  const decade = 10 ** Math.floor(Math.log10(ms));
  for (const step of [...R20, 10]) {
    const value = Number((step * decade).toPrecision(6));
    if (value >= ms * (1 - 1e-9)) return value;
  }
  return 10 * decade;
}

/** Perturbed fronts the knee is voted on, and the relative sd of their perturbation. */
const KNEE_VOTES = 48;
const KNEE_VOTE_NOISE = 0.03;
/**
 * The share of the votes a target needs to be chosen over a slower one (one value tried, looking
 * at knee targets over 10 simulated cold runs, 2% noise, on six HELP columns: the most frequent
 * target 8.17 -> 8.67 of 10 runs; README.md has the check on the other columns).
 */
const KNEE_MIN_SHARE = 0.25;

export interface KneeTarget {
  /** The target: the knee's predicted latency with room for the margin, rounded up (roundUpToPreferred). */
  readonly ms: number;
  /** The knee cell's predicted latency. */
  readonly kneeMs: number;
  readonly kneeCode: number;
}

/**
 * The target when no budget is given: the knee of the front predicted over every cell that may
 * stand on it. Cells predicted faster than the fastest measured sample are extrapolations (the
 * design measures the cheapest kinds of cell), and a target below every measurement could not be
 * verified: the knee is taken among the others.
 *
 * Stable under noise, since a team sees it change on every push otherwise (four cold runs on an
 * idle machine chose four knees, 1.53-1.90 ms): the knee is voted on fronts whose latencies are
 * perturbed by measurement-sized noise (seeded), so a front with two bends of about equal weight
 * does not flip between them on a 1% change of one prediction. Votes are tallied by the target
 * they lead to (the knee's latency with room for the margin, `exp(marginZ * noise)`, rounded up to a
 * preferred number); the pipeline then widens the chosen knee's target by its prediction's
 * uncertainty (kneeTarget in src/pipeline/problem.ts).
 */
export function kneeBudget(
  scores: Float64Array,
  latencies: Float64Array,
  fastestMeasuredMs: number,
  usable: Usable,
  room: { readonly noise: number; readonly marginZ: number },
  random: { normal(): number },
): KneeTarget {
  const candidates = Array.from(latencies, (latencyMs, code) => ({
    code,
    latencyMs,
    taskScore: scores[code]!,
  })).filter((p) => p.latencyMs >= fastestMeasuredMs && onFront(p.code, scores, usable));
  const roomFactor = Math.exp(room.marginZ * room.noise);
  // Votes are tallied by the target they lead to (cells a few percent apart round to one target),
  // and per target by knee cell.
  const votes = new Map<number, Map<number, number>>();
  const vote = (points: typeof candidates): void => {
    const knee = kneePoint(paretoFront(points));
    if (!knee) return;
    const target = roundUpToPreferred(latencies[knee.code]! * roomFactor);
    const cells = votes.get(target) ?? new Map<number, number>();
    votes.set(target, cells.set(knee.code, (cells.get(knee.code) ?? 0) + 1));
  };
  vote(candidates);
  for (let i = 1; i < KNEE_VOTES; i++) {
    vote(
      candidates.map((p) => ({ ...p, latencyMs: p.latencyMs * Math.exp(KNEE_VOTE_NOISE * random.normal()) })),
    );
  }
  if (votes.size === 0) {
    return {
      ms: roundUpToPreferred(fastestMeasuredMs * roomFactor),
      kneeMs: fastestMeasuredMs,
      kneeCode: -1,
    };
  }
  const targets = [...votes.entries()]
    .map(([ms, cells]) => ({ ms, cells, count: [...cells.values()].reduce((a, b) => a + b, 0) }))
    .sort((a, b) => a.ms - b.ms);
  // The fastest target holding a fair share of the votes, not the most voted one: a front with two
  // bends of about equal weight splits the votes near half and half, and the most voted of the two
  // then flips with every run's noise; the faster one holds its share in every run.
  const { ms, cells } =
    targets.find((t) => t.count >= KNEE_MIN_SHARE * KNEE_VOTES) ??
    targets.reduce((a, b) => (b.count > a.count ? b : a));
  // Its knee cell: the most voted; ties go to the faster cell, then the lower code.
  let kneeCode = -1;
  for (const [code, count] of cells) {
    const best = cells.get(kneeCode) ?? 0;
    if (
      count > best ||
      (count === best &&
        (latencies[code]! < latencies[kneeCode]! ||
          (latencies[code] === latencies[kneeCode] && code < kneeCode)))
    )
      kneeCode = code;
  }
  return { ms, kneeMs: latencies[kneeCode]!, kneeCode };
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
