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
 * The knee of a front: the point farthest above the straight line between its two ends, with
 * both axes scaled to [0, 1] (latency on a log scale, since users think of it in ratios).
 * Fronts of one or two points return their best-scoring point.
 */
export function kneePoint<T extends TradeoffPoint>(front: readonly T[]): T | undefined {
  if (front.length <= 2) return front[front.length - 1];
  const xs = front.map((p) => Math.log(Math.max(p.latencyMs, 1e-9)));
  const ys = front.map((p) => p.taskScore);
  const [x0, x1] = [xs[0]!, xs[xs.length - 1]!];
  const [y0, y1] = [ys[0]!, ys[ys.length - 1]!];
  const spanX = x1 - x0 || 1;
  const spanY = y1 - y0 || 1;
  let best = front.length - 1;
  let bestGap = -Infinity;
  front.forEach((_, i) => {
    const x = (xs[i]! - x0) / spanX;
    const y = (ys[i]! - y0) / spanY;
    const gap = y - x; // distance above the diagonal, up to a constant factor
    if (gap > bestGap) {
      bestGap = gap;
      best = i;
    }
  });
  return front[best];
}
