// The "skip" proxy of FreeREA as method.md states it: over the cell's live skip_connect edges, the
// mean number of nodes each one jumps over (to - from - 1: 0 between adjacent nodes, 2 for the
// input-to-output skip), 0 without skips. Pure arithmetic on the effective cell: a skip on a dead
// edge carries nothing, so it does not count.
import { EDGES, OP_SKIP, effectiveCell, type Cell } from '../cell.js';

export function skipOf(cell: Cell): number {
  const live = effectiveCell(cell);
  let total = 0;
  let count = 0;
  live.forEach((op, e) => {
    if (op !== OP_SKIP) return;
    total += EDGES[e]!.to - EDGES[e]!.from - 1;
    count++;
  });
  return count === 0 ? 0 : total / count;
}

/** The range skipOf can take, used as its fixed normalisation bounds. */
export const SKIP_RANGE = [0, 2] as const;
