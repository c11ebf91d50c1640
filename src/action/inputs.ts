// The action's inputs, read once into one typed settings object. Every rejected value names the
// input, what was found and what is accepted, in the style of actions/checkout's input helper.
import path from 'node:path';

import { UsageError } from '../errors.js';
import { COMMENT_MODES, validCommentKey, type CommentMode } from './comment.js';
import { DEFAULT_CONFIG_PATH } from '../review/config.js';
import { parseBudget } from '../search/budget.js';
import { STRATEGY_CHOICES, type StrategyChoice } from '../search/strategies.js';
import { DATASETS, type Dataset } from '../spaces/nb201/datasets.js';

export interface ActionSettings {
  readonly token: string;
  /** Empty: derived from the runner and the fingerprint once it is known. */
  readonly hardwareTag: string;
  readonly budgetMs?: number;
  readonly dataset: Dataset;
  readonly samples: number;
  readonly verify: number;
  readonly strategy: StrategyChoice;
  readonly seed: number;
  readonly cache: boolean;
  readonly comment: CommentMode;
  readonly provider: string;
  readonly threads: number;
  readonly workingDirectory: string;
  /** Absolute path of the report folder. */
  readonly reportDir: string;
  /** A controller artifact in the repository, instead of the cached or bundled one. */
  readonly controllerPath?: string;
  /** The review's config, relative to the working directory. */
  readonly configPath: string;
  /** Fail the job when the review finds a regression. */
  readonly failOnRegression: boolean;
  /** The comment's key; empty: built from hardware tag, dataset, space and config (defaultCommentKey). */
  readonly commentKey: string;
  /** Publish a check run per hardware with the verdict as its conclusion (needs checks: write). */
  readonly checkRun: boolean;
}

/** Reads one input as the runner passes it (empty string when unset). */
export type InputReader = (name: string) => string;

export function readActionSettings(read: InputReader, cwd = process.cwd()): ActionSettings {
  const text = (name: string): string => read(name).trim();
  const workingDirectory = path.resolve(cwd, text('working-directory') || '.');
  const budget = text('latency-budget');
  const controller = text('controller');
  return {
    token: text('github-token'),
    hardwareTag: hardwareTagInput(text('hardware-tag')),
    ...(budget ? { budgetMs: wrap('latency-budget', () => parseBudget(budget)) } : {}),
    dataset: oneOf('dataset', text('dataset') || 'cifar10', DATASETS),
    samples: integer('samples', text('samples'), 10, 3),
    verify: integer('verify', text('verify'), 5, 1),
    strategy: oneOf('strategy', text('strategy') || 'auto', STRATEGY_CHOICES),
    seed: integer('seed', text('seed'), 0, 0),
    cache: boolean('cache', text('cache'), true),
    comment: oneOf('comment', text('comment') || 'auto', COMMENT_MODES),
    provider: text('provider') || 'cpu',
    threads: integer('threads', text('threads'), 1, 1),
    workingDirectory,
    reportDir: path.resolve(workingDirectory, text('report-dir') || 'simnas-report'),
    ...(controller ? { controllerPath: path.resolve(workingDirectory, controller) } : {}),
    configPath: text('config') || DEFAULT_CONFIG_PATH,
    failOnRegression: boolean('fail-on-regression', text('fail-on-regression'), false),
    commentKey: commentKeyInput(text('comment-key')),
    checkRun: boolean('check-run', text('check-run'), false),
  };
}

function invalid(name: string, found: string, accepted: string): UsageError {
  return new UsageError(`Invalid input '${name}': '${found}'. Expected ${accepted}.`);
}

function wrap<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`Invalid input '${name}': ${error.message}`);
    throw error;
  }
}

function oneOf<const T extends string>(name: string, value: string, accepted: readonly T[]): T {
  const found = accepted.find((candidate) => candidate === value);
  if (found === undefined) throw invalid(name, value, `one of ${accepted.join(', ')}`);
  return found;
}

function integer(name: string, value: string, fallback: number, minimum: number): number {
  if (value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < minimum) {
    throw invalid(name, value, `an integer >= ${minimum}`);
  }
  return parsed;
}

function boolean(name: string, value: string, fallback: boolean): boolean {
  if (value === '') return fallback;
  // The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput accepts them.
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw invalid(name, value, 'true or false');
}

/** The key goes into an HTML comment and a check run's name: keep it to a safe alphabet. */
function commentKeyInput(value: string): string {
  if (value !== '' && !validCommentKey(value)) {
    throw invalid(
      'comment-key',
      value,
      "up to 200 letters, digits or . _ / : @ + = - (no spaces; e.g. 'jetson-orin/cifar10/main-model')",
    );
  }
  return value;
}

/** Tags name cache keys and comment markers: keep them to a safe alphabet. */
function hardwareTagInput(value: string): string {
  if (value !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
    throw invalid(
      'hardware-tag',
      value,
      'up to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    );
  }
  return value;
}
