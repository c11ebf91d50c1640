// The registry of search spaces: the one place that names them. Adding a space is one folder under
// src/spaces/ plus one line in SPACES.
import { UsageError } from '../errors.js';
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

export type { Architecture, SearchSpace } from './space.js';
