// Identity of the synthetic-device prior a controller was pretrained on. A controller is only
// valid for the prior it saw, so artifacts record this hash and loading compares it.
import { LAYERED_PRIOR } from '../devices/layered-synthetic.js';
import { EXECUTION_MODES, PRIOR_HYPERPARAMETERS } from '../devices/synthetic.js';
import type { SearchSpace } from '../spaces/space.js';
import { shortHash } from './artifact.js';

/** Bump when the synthetic generator changes behaviour without its hyperparameters changing. */
const GENERATOR_REVISION = 1;

export const PRIOR_HASH = shortHash({
  hyperparameters: PRIOR_HYPERPARAMETERS,
  modes: EXECUTION_MODES,
  revision: GENERATOR_REVISION,
});

/** Bump when the layered generator changes behaviour without LAYERED_PRIOR changing. */
const LAYERED_GENERATOR_REVISION = 1;

/** The prior of synthetic devices for layered networks (FBNet, Macro): layered-synthetic.ts. */
export const LAYERED_PRIOR_HASH = shortHash({
  hyperparameters: LAYERED_PRIOR,
  revision: LAYERED_GENERATOR_REVISION,
});

/**
 * The prior a controller for `space` is pretrained on: NB201's cell prior, or the layered prior in
 * spaces whose networks list their operators.
 */
export function priorHashFor(space: Pick<SearchSpace, 'operators'>): string {
  return space.operators ? LAYERED_PRIOR_HASH : PRIOR_HASH;
}
