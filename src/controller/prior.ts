// Identity of the synthetic-device prior a controller was pretrained on. A controller is only
// valid for the prior it saw, so artifacts record this hash and loading compares it.
import { EXECUTION_MODES, PRIOR_HYPERPARAMETERS } from '../devices/synthetic.js';
import { shortHash } from './artifact.js';

/** Bump when the synthetic generator changes behaviour without its hyperparameters changing. */
const GENERATOR_REVISION = 1;

export const PRIOR_HASH = shortHash({
  hyperparameters: PRIOR_HYPERPARAMETERS,
  modes: EXECUTION_MODES,
  revision: GENERATOR_REVISION,
});
