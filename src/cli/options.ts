// The option parsers and conventions every command shares (integers, seeds, paths, lists,
// datasets, `--json` output), so each flag means the same and fails the same way everywhere.
import { InvalidArgumentError, Option } from 'commander';

import { UsageError } from '../errors.js';
import { DEFAULT_SAMPLE_COUNT, SAMPLE_COUNT_MAX, SAMPLE_COUNT_MIN } from '../devices/design.js';
import { parseDataset } from '../spaces/nb201/datasets.js';
import { DEFAULT_SPACE_ID, SPACE_IDS, spaceById } from '../spaces/index.js';

/** Wraps a parser so that its UsageError becomes commander's "invalid argument" message. */
export function argumentParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value: string) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof UsageError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

/** Parses a positive integer option value. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  }
  return parsed;
}

/**
 * A parser for an integer option with a range (inclusive), whose message states the range for
 * every value outside it, so that users learn the limits from the first refusal.
 */
function integerInRange(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
      const what = Number.isInteger(parsed) && value.trim() !== '' ? 'is out of range' : 'is not an integer';
      throw new InvalidArgumentError(`'${value}' ${what}; expected an integer from ${min} to ${max}`);
    }
    return parsed;
  };
}

/**
 * `--samples` of the commands that measure designed cells, `what` saying what they are for: the
 * range designSampleCells accepts, stated in the help and in every refusal, so that the option
 * refuses what the design would refuse later.
 */
export function samplesOption(what: string): Option {
  return new Option('--samples <n>', `${what} (${SAMPLE_COUNT_MIN} to ${SAMPLE_COUNT_MAX})`)
    .argParser(integerInRange(SAMPLE_COUNT_MIN, SAMPLE_COUNT_MAX))
    .default(DEFAULT_SAMPLE_COUNT);
}

/**
 * A file or folder path: an empty one is refused here, because downstream an empty path reads as
 * "not given" or fails only after the work is done (mkdir('')).
 */
export function pathValue(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError(`an empty path; expected a file or folder path`);
  return value;
}

/** Parses an integer seed (any 32-bit integer). */
export function seedValue(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || Math.abs(parsed) > 2 ** 31) {
    throw new InvalidArgumentError(`'${value}' is not an integer seed (expected e.g. 0, 42)`);
  }
  return parsed;
}

/** Parses a fraction in [0, 1), e.g. a multiplicative noise level. */
export function fractionValue(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed >= 1) {
    throw new InvalidArgumentError(`'${value}' is not a fraction in [0, 1) (e.g. 0.03 for 3%)`);
  }
  return parsed;
}

/** Parses a comma-separated list of device columns; an empty one is an error. */
export const nameList = listOf('device column names', 'fpga,eyeriss');

/**
 * A parser for a comma-separated list whose refusal of an empty list names what is listed and
 * gives an example of it (a device example under a percentile option misleads).
 */
export function listOf(what: string, example: string): (value: string) => string[] {
  return (value: string) => {
    const names = value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0);
    if (names.length === 0) {
      throw new InvalidArgumentError(
        `'${value}' names nothing; expected comma-separated ${what}, e.g. ${example}`,
      );
    }
    return names;
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The `--dataset` option every command shares: validated, cifar10 unless told otherwise. */
export function datasetOption(description = 'cifar10, cifar100 or ImageNet16-120'): Option {
  return new Option('--dataset <name>', description)
    .argParser(argumentParser(parseDataset))
    .default('cifar10');
}

/** The `--space` option: which search space the architectures belong to (a SearchSpace, nb201 by default). */
export function spaceOption(): Option {
  return new Option('--space <id>', `search space: ${SPACE_IDS.join(', ')}`)
    .argParser(argumentParser(spaceById))
    .default(spaceById(DEFAULT_SPACE_ID), DEFAULT_SPACE_ID);
}
