// Integer numbers for architectures in every space: the search's arrays, maps and reports index
// architectures by number. An enumerable space numbers them by its code (every architecture has a
// slot, and a number means the same in every run); a space too large for integer codes (FBNet:
// 9^22) numbers the architectures a job meets, in the order it meets them, so the job's dense
// arrays (task scores, predictions) stay as small as what it looked at.
import type { Architecture, SearchSpace } from './space.js';

export interface Numbering {
  readonly space: SearchSpace;
  /** The architecture's number; one not met before gets the next (spaces without codes). */
  numberOf(architecture: Architecture): number;
  architectureOf(number: number): Architecture;
  /** Numbers in use are 0 .. size - 1 (every code, in an enumerable space). */
  readonly size: number;
}

export function numberingOf(space: SearchSpace): Numbering {
  if (space.enumerable) {
    return {
      space,
      numberOf: (architecture) => space.code(architecture),
      architectureOf: (number) => space.fromCode(number),
      size: space.size,
    };
  }
  const met: Architecture[] = [];
  const numbers = new Map<string, number>();
  return {
    space,
    numberOf(architecture) {
      const key = space.key(architecture);
      let number = numbers.get(key);
      if (number === undefined) {
        number = met.length;
        numbers.set(key, number);
        met.push(architecture);
      }
      return number;
    },
    architectureOf(number) {
      const architecture = met[number];
      if (!architecture) {
        throw new RangeError(`architecture number ${number} was never given out (${met.length} so far)`);
      }
      return architecture;
    },
    get size() {
      return met.length;
    },
  };
}
