// The latency / task-score tradeoff: the Pareto front of a set of points (no other point is both
// at least as fast and at least as good, and strictly better in one), and its knee, the point a
// user without a budget most likely wants.

export interface TradeoffPoint {
  readonly code: number;
  readonly latencyMs: number;
  readonly taskScore: number;
}

/** Non-dominated points, sorted by latency ascending (so task score ascends too). */
export function paretoFront<T extends TradeoffPoint>(points: readonly T[]): T[] {
  const sorted = [...points].sort(
    (a, b) => a.latencyMs - b.latencyMs || b.taskScore - a.taskScore || a.code - b.code,
  );
  const front: T[] = [];
  for (const point of sorted) {
    const last = front[front.length - 1];
    if (!last || point.taskScore > last.taskScore) front.push(point);
  }
  return front;
}

/**
 * Latencies closer than this ratio are not told apart when looking for the knee: about two sds of
 * a measurement's noise. Without it a slow-scoring point a hair faster than a much better one
 * (0.134 ms at score 0.2 beside 0.135 ms at 0.45) made that jump the knee of a whole front.
 */
export const KNEE_LATENCY_TOLERANCE = 0.05;

/**
 * The knee of a front: the point farthest above the straight line between its two ends, with
 * both axes scaled to [0, 1]. Latency is taken on a log scale, since users think of it in ratios;
 * a front that does not bend on that scale (every inner point below the line, so the knee would be
 * an end) is measured on a linear one instead. Points beaten by one within
 * KNEE_LATENCY_TOLERANCE of their latency are left out first. Fronts of one or two points return
 * their best-scoring point.
 */
export function kneePoint<T extends TradeoffPoint>(paretoPoints: readonly T[]): T | undefined {
  // On a front (latency and score both ascending) the next point is the fastest better one.
  const front = paretoPoints.filter((point, i) => {
    const next = paretoPoints[i + 1];
    return !next || next.latencyMs > point.latencyMs * (1 + KNEE_LATENCY_TOLERANCE);
  });
  if (front.length <= 2) return front[front.length - 1];
  const logKnee = farthestAboveChord(front, (ms) => Math.log(Math.max(ms, 1e-9)));
  if (logKnee.gap > 1e-9) return front[logKnee.index];
  return front[farthestAboveChord(front, (ms) => ms).index];
}

function farthestAboveChord(
  front: readonly TradeoffPoint[],
  scale: (latencyMs: number) => number,
): { index: number; gap: number } {
  const xs = front.map((p) => scale(p.latencyMs));
  const ys = front.map((p) => p.taskScore);
  const [x0, x1] = [xs[0]!, xs[xs.length - 1]!];
  const [y0, y1] = [ys[0]!, ys[ys.length - 1]!];
  const spanX = x1 - x0 || 1;
  const spanY = y1 - y0 || 1;
  let index = front.length - 1;
  let gap = -Infinity;
  for (let i = 1; i < front.length - 1; i++) {
    // Distance above the diagonal, up to a constant factor.
    const above = (ys[i]! - y0) / spanY - (xs[i]! - x0) / spanX;
    if (above > gap) {
      gap = above;
      index = i;
    }
  }
  return { index, gap };
}
