// The registry of search spaces: the one place that names them. Adding a space is one folder under
// src/spaces/ plus one line in SPACES.
import { UsageError } from '../errors.js';
import { quote } from '../util/quote.js';
import { fbnetSpace } from './fbnet/space.js';
import { macroSpace } from './macro/space.js';
import { nb201Space } from './nb201/space.js';
import type { SearchSpace } from './space.js';

const SPACES: readonly SearchSpace[] = [nb201Space, fbnetSpace, macroSpace];

export const SPACE_IDS: readonly string[] = SPACES.map((space) => space.id);
/** The space every command uses when none is named. */
export const DEFAULT_SPACE_ID = 'nb201';

/** Raised for a `--space` (or `space` setting) simnas does not know. */
export class UnknownSpaceError extends UsageError {
  override name = 'UnknownSpaceError';
}

export function spaceById(id: string): SearchSpace {
  const space = SPACES.find((candidate) => candidate.id === id.trim().toLowerCase());
  if (!space) {
    throw new UnknownSpaceError(`unknown search space '${id}'; expected one of ${SPACE_IDS.join(', ')}`);
  }
  return space;
}

/** Every space's datasets, as `--dataset` and the `dataset` input accept them before the space is known. */
export const DATASETS_BY_SPACE = SPACES.map((space) => `${space.datasets.join(', ')} (${space.id})`).join(
  '; ',
);

/** The space's dataset `given` names, case-insensitively (its first when none is), or a UsageError listing them. */
export function datasetOf(space: SearchSpace, given: string | undefined): string {
  if (given === undefined) return space.datasets[0]!;
  const found = space.datasets.find((name) => name.toLowerCase() === given.trim().toLowerCase());
  if (!found) {
    throw new UsageError(
      `${quote(given)} is not a dataset of the ${space.id} space; expected one of ${space.datasets.join(', ')}`,
    );
  }
  return found;
}

export type { Architecture, SearchSpace } from './space.js';
