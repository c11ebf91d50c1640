// The options both front ends take, specified once: the CLI flag, the action input (as action.yml
// spells it), what the value is for, what is accepted, the default and the parser. The CLI builds
// its commander options from these specs, the action reads its inputs through them, and a test
// checks that action.yml's descriptions state the same accepted values; the code that later uses a
// value (the sample design, measurement) takes its limits from here too. Parsers are strict:
// decimal numbers only (no 0x10, no 1e3), an empty value is refused rather than read as 0, and a
// refusal says whether the value is malformed or out of range, always with what is accepted.
// This module is loaded before the action installs onnxruntime-node: keep its imports light.
import { statSync } from 'node:fs';

import { invalidValue, UsageError } from './errors.js';
import { BUDGET_ACCEPTED, parseBudget } from './search/budget.js';
import { STRATEGY_CHOICES, type StrategyChoice } from './search/strategies.js';
import { DATASETS_BY_SPACE, DEFAULT_SPACE_ID, SPACE_IDS } from './spaces/index.js';

/** How a value is read from text, and what is accepted, in words that fit after "expected". */
export interface ValueSpec<T> {
  readonly accepted: string;
  /** Throws a UsageError saying what is wrong and what is accepted, not naming the option. */
  readonly parse: (text: string) => T;
}

/** One option of the CLI, the action or both. */
export interface OptionSpec<T> {
  /** The CLI flag with its value placeholder, e.g. `--samples <n>`; absent for action-only inputs. */
  readonly flag?: string;
  /** The action input as action.yml names it; absent for CLI-only options. */
  readonly input?: string;
  /** What the value is for, e.g. "cells measured to fit the latency model". */
  readonly description: string;
  readonly value: ValueSpec<T>;
  /** The default as action.yml and the CLI help state it; undefined: the option has none. */
  readonly defaultText?: string;
}

/** An integer written in decimal digits, from `min` to `max` inclusive. */
export function integerIn(
  min: number,
  max: number,
  accepted = `an integer from ${min} to ${max}`,
): ValueSpec<number> {
  return {
    accepted,
    parse(text) {
      const trimmed = text.trim();
      if (trimmed === '') throw invalidValue(text, '', accepted);
      if (!/^[+-]?\d+$/.test(trimmed)) throw invalidValue(text, 'is not a decimal integer', accepted);
      const value = Number(trimmed);
      if (value < min || value > max) throw invalidValue(text, 'is out of range', accepted);
      return value;
    },
  };
}

/** An integer written in decimal digits, at least `min` (1: "a positive integer"). */
export function integerAtLeast(min: number): ValueSpec<number> {
  const words: Record<number, string> = { 0: 'a non-negative integer', 1: 'a positive integer' };
  return integerIn(min, Number.MAX_SAFE_INTEGER, words[min] ?? `an integer >= ${min}`);
}

/** A decimal number (digits with an optional point; no exponent) in an interval. */
export function decimalIn(
  accepted: string,
  inRange: (value: number) => boolean,
  { negative = false } = {},
): ValueSpec<number> {
  return {
    accepted,
    parse(text) {
      const trimmed = text.trim();
      if (trimmed === '') throw invalidValue(text, '', accepted);
      const pattern = negative ? /^[+-]?(\d+\.?\d*|\.\d+)$/ : /^\+?(\d+\.?\d*|\.\d+)$/;
      if (!pattern.test(trimmed)) throw invalidValue(text, 'is not a decimal number', accepted);
      const value = Number(trimmed);
      if (!inRange(value)) throw invalidValue(text, 'is out of range', accepted);
      return value;
    },
  };
}

/** One of a fixed list of words (exactly as listed, or ignoring case with `caseless`). */
export function oneOf<const T extends string>(
  choices: readonly T[],
  { caseless = false } = {},
): ValueSpec<T> {
  const accepted = `one of ${choices.join(', ')}`;
  return {
    accepted,
    parse(text) {
      const key = caseless ? text.trim().toLowerCase() : text.trim();
      const found = choices.find((choice) => (caseless ? choice.toLowerCase() : choice) === key);
      if (found === undefined) throw invalidValue(text, 'is not accepted', accepted);
      return found;
    },
  };
}

/** The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput accepts them. */
export const booleanValue: ValueSpec<boolean> = {
  accepted: 'true or false',
  parse(text) {
    const trimmed = text.trim();
    if (['true', 'True', 'TRUE'].includes(trimmed)) return true;
    if (['false', 'False', 'FALSE'].includes(trimmed)) return false;
    throw invalidValue(text, 'is not accepted', 'true or false');
  },
};

/** Any non-empty text, e.g. a provider name checked later against what is installed. */
export function nonEmpty(accepted: string): ValueSpec<string> {
  return {
    accepted,
    parse(text) {
      if (text.trim() === '') throw invalidValue(text, '', accepted);
      return text.trim();
    },
  };
}

/**
 * A path; an empty one is refused here, because downstream an empty path reads as "not given" or
 * fails only after the work is done (mkdir('')). Whether it exists is checked by the front end.
 */
export function pathIn(kind: string): ValueSpec<string> {
  const accepted = `a ${kind} path`;
  return {
    accepted,
    parse(text) {
      if (text.trim() === '') throw invalidValue(text, '', accepted);
      return text;
    },
  };
}

/** A folder that exists now (the repository a command reads from, say). */
export const existingFolder: ValueSpec<string> = {
  accepted: 'an existing folder',
  parse(text) {
    if (text.trim() === '') throw invalidValue(text, '', existingFolder.accepted);
    let stats;
    try {
      stats = statSync(text);
    } catch {
      throw invalidValue(text, 'does not exist', existingFolder.accepted);
    }
    if (!stats.isDirectory()) throw invalidValue(text, 'is a file', existingFolder.accepted);
    return text;
  },
};

/** A comma-separated list with at least one entry; `example` shows what an entry looks like. */
export function listOf(what: string, example: string): ValueSpec<string[]> {
  const accepted = `comma-separated ${what}, e.g. ${example}`;
  return {
    accepted,
    parse(text) {
      const names = text
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.length > 0);
      if (names.length === 0) throw invalidValue(text, 'names nothing', accepted);
      return names;
    },
  };
}

// Limits the code enforces where the values are used (the sample design, the measurement).
/** How many sample cells a design may have: at least two to fit a scale, at most a cheap design's worth. */
export const SAMPLE_COUNT_MIN = 2;
export const SAMPLE_COUNT_MAX = 200;
export const VERIFY_MAX = 100;
export const THREADS_MAX = 1024;
export const BATCH_MAX = 4096;
export const SEED_MAX = 2 ** 31 - 1;

export const budgetValue: ValueSpec<number> = { accepted: BUDGET_ACCEPTED, parse: parseBudget };

/** A dataset of some space (which one's is checked once the space is known: `datasetOf`). */
const anySpaceDatasetValue: ValueSpec<string> = {
  accepted: `one of ${DATASETS_BY_SPACE}`,
  parse: (text) => text.trim(),
};

/**
 * The options the CLI and the action share (the action's own inputs are in src/action/inputs.ts).
 * An entry with `input` is an action input: action.yml must describe it with the same accepted
 * values and default (test/action-inputs.test.ts checks).
 */
export const OPTIONS = {
  space: {
    flag: '--space <id>',
    input: 'space',
    description: 'search space of the architectures',
    value: oneOf(SPACE_IDS),
    defaultText: DEFAULT_SPACE_ID,
  },
  budget: {
    flag: '--budget <latency>',
    input: 'latency-budget',
    description: 'latency budget',
    value: budgetValue,
  },
  dataset: {
    flag: '--dataset <name>',
    input: 'dataset',
    description: "dataset (network input size and classes); default: the space's first",
    value: anySpaceDatasetValue,
  },
  samples: {
    flag: '--samples <n>',
    input: 'samples',
    description: 'cells measured to fit the latency model',
    value: integerIn(SAMPLE_COUNT_MIN, SAMPLE_COUNT_MAX),
    defaultText: '10',
  },
  verify: {
    flag: '--verify <n>',
    input: 'verify',
    description: 'candidates measured to verify the recommendation',
    value: integerIn(1, VERIFY_MAX),
    defaultText: '5',
  },
  strategy: {
    flag: '--strategy <name>',
    input: 'strategy',
    description:
      'search strategy (auto: the controller if --controller is given, else exhaustive where a proxy table scores every architecture (nb201), else the bundled controller where one exists (fbnet, cifar100), else evolution; see the README)',
    value: oneOf(STRATEGY_CHOICES) as ValueSpec<StrategyChoice>,
    defaultText: 'auto',
  },
  seed: {
    flag: '--seed <n>',
    input: 'seed',
    description: 'seed of every random choice',
    value: integerIn(0, SEED_MAX),
    defaultText: '0',
  },
  threads: {
    flag: '--threads <n>',
    input: 'threads',
    description: 'onnxruntime intra-op threads for measurement',
    value: integerIn(1, THREADS_MAX),
    defaultText: '1',
  },
  provider: {
    flag: '--provider <name>',
    input: 'provider',
    description: 'onnxruntime execution provider',
    value: nonEmpty('an execution provider name, e.g. cpu or cuda'),
    defaultText: 'cpu',
  },
  batch: {
    flag: '--batch <n>',
    description: 'batch size',
    value: integerIn(1, BATCH_MAX),
    defaultText: '1',
  },
  controller: {
    flag: '--controller <file>',
    input: 'controller',
    description: 'controller artifact from `simnas pretrain`, instead of the cached or bundled one',
    value: pathIn('file'),
  },
  config: {
    flag: '--config <path>',
    input: 'config',
    description: "the review's config file",
    value: pathIn('file'),
    defaultText: 'simnas.json',
  },
  reportDir: {
    flag: '--out <dir>',
    input: 'report-dir',
    description: 'report folder',
    value: pathIn('folder'),
    defaultText: 'simnas-report',
  },
} as const satisfies Record<string, OptionSpec<unknown>>;

export type OptionName = keyof typeof OPTIONS;

/** The value an option spec parses to. */
export type ValueOf<S> = S extends { value: ValueSpec<infer T> } ? T : never;

/** Runs `work`; a UsageError it throws is prefixed with `name` (a flag, or an action input). */
export function refusalNamed<T>(name: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${name}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** `spec.value.parse`, with the refusal naming the option as `name` (a flag or an input). */
export function parseAs<T>(spec: OptionSpec<T>, name: string, text: string): T {
  return refusalNamed(name, () => spec.value.parse(text));
}
