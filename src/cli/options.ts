// The option parsers and conventions every command shares (integers, seeds, paths, lists,
// datasets, `--json` output), so each flag means the same and fails the same way everywhere. The
// options the CLI shares with the action are built from their specs in src/options.ts; a parser's
// refusal is prefixed with its flag by program.ts (nameRefusals).
import { Option } from 'commander';

import { datasetOf, DEFAULT_SPACE_ID, spaceById } from '../spaces/index.js';
import {
  decimalIn,
  integerAtLeast,
  integerIn,
  listOf as listValue,
  OPTIONS,
  pathIn,
  type OptionSpec,
} from '../options.js';

/** A commander option built from a shared spec: its flag, its accepted values in the help, its parser. */
export function specOption<T>(spec: OptionSpec<T>, description: string = spec.description): Option {
  const option = new Option(spec.flag!, `${description} (${spec.value.accepted})`).argParser((text: string) =>
    spec.value.parse(text),
  );
  return spec.defaultText === undefined ? option : option.default(spec.value.parse(spec.defaultText));
}

/** Parses a positive decimal integer option value. */
export const positiveInteger = integerAtLeast(1).parse;

/** Parses a non-negative decimal integer option value (0 turns something off). */
export const nonNegativeInteger = integerAtLeast(0).parse;

/** Parses a positive decimal number (e.g. milliseconds). */
export const positiveNumber = decimalIn('a positive decimal number, e.g. 2 or 0.5', (v) => v > 0).parse;

/** Parses `--load 0,1,2`: counts of busy background processes, 0 to 8 each. */
export function loadList(text: string): number[] {
  const integer = integerIn(0, 8, 'background process counts from 0 to 8, e.g. 0,1,2');
  return listValue('background process counts', '0,1,2')
    .parse(text)
    .map((item) => integer.parse(item));
}

/**
 * `--samples` of the commands that measure designed cells, `what` saying what they are for: the
 * range designSampleCells accepts, stated in the help and in every refusal, so that the option
 * refuses what the design would refuse later.
 */
export function samplesOption(what: string): Option {
  return specOption(OPTIONS.samples, what);
}

/** A file or folder path; an empty one is refused (see pathIn). */
export const pathValue = pathIn('file or folder').parse;

/** Parses a seed, in the one range every seeded command accepts. */
export const seedValue = OPTIONS.seed.value.parse;

/** Parses a fraction in [0, 1), e.g. a multiplicative noise level. */
export const fractionValue = decimalIn(
  'a fraction from 0 to below 1, e.g. 0.03 for 3%',
  (v) => v >= 0 && v < 1,
).parse;

/** Parses a comma-separated list of device columns; an empty one is an error. */
export const nameList = listOf('device column names', 'fpga,eyeriss');

/**
 * A parser for a comma-separated list whose refusal of an empty list names what is listed and
 * gives an example of it (a device example under a percentile option misleads).
 */
export function listOf(what: string, example: string): (value: string) => string[] {
  return listValue(what, example).parse;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The `--dataset` option of commands that speak of the default space (NB201) only: one of its
 * datasets, its first unless told otherwise.
 */
export function datasetOption(description = 'cifar10, cifar100 or ImageNet16-120'): Option {
  const space = spaceById(DEFAULT_SPACE_ID);
  return new Option(OPTIONS.dataset.flag, description)
    .argParser((text: string) => datasetOf(space, text))
    .default(datasetOf(space, undefined));
}

/** The `--space` option: which search space the architectures belong to (a SearchSpace, nb201 by default). */
export function spaceOption(): Option {
  const spec = OPTIONS.space;
  return new Option(spec.flag, `${spec.description} (${spec.value.accepted})`)
    .argParser((text: string) => spaceById(spec.value.parse(text)))
    .default(spaceById(DEFAULT_SPACE_ID), DEFAULT_SPACE_ID);
}
