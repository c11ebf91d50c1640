// The layered spaces the latency benchmark and `devices design` can model with synthetic devices
// for layered networks: any registered space that lists its operators (FBNet, NAS-Bench-Macro).
import { UsageError } from '../errors.js';
import { spaceById } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/space.js';

/** A registered space with an operator list. */
export type BenchLayeredSpace = SearchSpace & Required<Pick<SearchSpace, 'operators'>>;

export function layeredSpaceById(id: string): BenchLayeredSpace {
  const space = spaceById(id);
  if (!space.operators) {
    throw new UsageError(
      `the ${space.id} space does not list its operators, so it has no synthetic devices for layered networks`,
    );
  }
  return space as BenchLayeredSpace;
}
