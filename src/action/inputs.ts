// The action's inputs, read once into one typed settings object through the option specs the CLI
// shares (src/options.ts), and checked before any work: the bootstrap calls prepareActionSettings
// before it installs onnxruntime-node, fingerprints or measures. Every refusal names the input as
// action.yml spells it, what was found (quoted: cut and escaped) and what is accepted. Paths are
// checked here too: a working directory or an explicitly given file that does not exist is an
// error, not something to create or skip; a config that exists is parsed now, not after the search.
// Loaded before onnxruntime-node is installed: nothing here may import it.
import { statSync } from 'node:fs';
import path from 'node:path';

import { errnoCode, invalidValue, UsageError } from '../errors.js';
import {
  booleanValue,
  oneOf,
  OPTIONS,
  parseAs,
  refusalNamed,
  pathIn,
  type OptionSpec,
  type ValueSpec,
} from '../options.js';
import { readConfigFile } from '../review/config.js';
import type { StrategyChoice } from '../search/strategies.js';
import { datasetOf, spaceById } from '../spaces/index.js';
import { ensureWritableFolder } from '../util/folders.js';
import { quotePath } from '../util/quote.js';
import { COMMENT_MODES, validCommentKey, type CommentMode } from './comment-key.js';

/** Tags name cache keys and comment markers: a safe alphabet. */
const hardwareTagValue: ValueSpec<string> = {
  accepted: 'up to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  parse(text) {
    const trimmed = text.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(trimmed)) {
      throw invalidValue(text, 'is not a hardware tag', hardwareTagValue.accepted);
    }
    return trimmed;
  },
};

/** The key goes into an HTML comment and a check run's name: a safe alphabet. */
const commentKeyValue: ValueSpec<string> = {
  accepted: "up to 200 letters, digits or . _ / : @ + = - (no spaces; e.g. 'jetson-orin/cifar10/main-model')",
  parse(text) {
    const trimmed = text.trim();
    if (!validCommentKey(trimmed)) throw invalidValue(text, 'is not a comment key', commentKeyValue.accepted);
    return trimmed;
  },
};

/**
 * The inputs only the action has (the ones it shares with the CLI are in OPTIONS). With OPTIONS'
 * entries that name an input, these are every input action.yml declares but the token; a test
 * checks that action.yml describes each with the same accepted values and default.
 */
export const ACTION_INPUTS = {
  hardwareTag: {
    input: 'hardware-tag',
    description: 'name of this hardware in comments, caches and aggregates',
    value: hardwareTagValue,
  },
  cache: {
    input: 'cache',
    description: "keep the controller and this hardware's measurements in the Actions cache",
    value: booleanValue,
    defaultText: 'true',
  },
  comment: {
    input: 'comment',
    description: 'pull-request comment',
    value: oneOf(COMMENT_MODES) as ValueSpec<CommentMode>,
    defaultText: 'auto',
  },
  commentKey: {
    input: 'comment-key',
    description: "identifies this run's comment",
    value: commentKeyValue,
  },
  checkRun: {
    input: 'check-run',
    description: 'also publish a check run per hardware',
    value: booleanValue,
    defaultText: 'false',
  },
  workingDirectory: {
    input: 'working-directory',
    description: 'folder that relative paths are resolved against; must exist',
    value: pathIn('folder'),
    defaultText: '.',
  },
  failOnRegression: {
    input: 'fail-on-regression',
    description: 'fail the job when the review finds a regression',
    value: booleanValue,
    defaultText: 'false',
  },
} as const satisfies Record<string, OptionSpec<unknown> & { readonly input: string }>;

/** Every input's spec, shared and action-only. */
export const INPUT_SPECS: readonly (OptionSpec<unknown> & { readonly input: string })[] = [
  ...Object.values(OPTIONS as Record<string, OptionSpec<unknown>>).flatMap((spec) =>
    spec.input === undefined ? [] : [{ ...spec, input: spec.input }],
  ),
  ...Object.values(ACTION_INPUTS),
];

export interface ActionSettings {
  readonly token: string;
  /** Empty: derived from the runner and the fingerprint once it is known. */
  readonly hardwareTag: string;
  readonly budgetMs?: number;
  /** The search space's id (the registry in src/spaces/ resolves it). */
  readonly space: string;
  /** One of the space's datasets (its first unless the input names one). */
  readonly dataset: string;
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
  /** Whether `config` was given (differs from the default): then it must exist. */
  readonly configGiven: boolean;
  /** Fail the job when the review finds a regression. */
  readonly failOnRegression: boolean;
  /** The comment's key; empty: built from hardware tag, dataset, space and config (defaultCommentKey). */
  readonly commentKey: string;
  /** Publish a check run per hardware with the verdict as its conclusion (needs checks: write). */
  readonly checkRun: boolean;
}

/** Reads one input as the runner passes it (empty string when unset). */
export type InputReader = (name: string) => string;

/** How a refusal names an input: as action.yml spells it, the way actions/checkout does. */
export const inputName = (input: string): string => `Invalid input '${input}'`;

/**
 * Parses every input (no file system access): an empty input takes action.yml's default, and an
 * input without a default is then absent. Throws a UsageError naming the first bad input.
 */
export function readActionSettings(read: InputReader, cwd = process.cwd()): ActionSettings {
  function input<T>(spec: OptionSpec<T> & { readonly input: string }): T | undefined {
    const text = read(spec.input);
    const given = text.trim() === '' ? spec.defaultText : text;
    return given === undefined ? undefined : parseAs(spec, inputName(spec.input), given);
  }
  const required = <T>(spec: OptionSpec<T> & { readonly input: string }): T => input(spec)!;
  const workingDirectory = path.resolve(cwd, required(ACTION_INPUTS.workingDirectory));
  const budgetMs = input(OPTIONS.budget);
  const controller = input(OPTIONS.controller);
  const configPath = required(OPTIONS.config);
  const space = required(OPTIONS.space);
  return {
    token: read('github-token').trim(),
    hardwareTag: input(ACTION_INPUTS.hardwareTag) ?? '',
    ...(budgetMs !== undefined ? { budgetMs } : {}),
    space,
    dataset: refusalNamed(inputName(OPTIONS.dataset.input), () =>
      datasetOf(spaceById(space), input(OPTIONS.dataset)),
    ),
    samples: required(OPTIONS.samples),
    verify: required(OPTIONS.verify),
    strategy: required(OPTIONS.strategy),
    seed: required(OPTIONS.seed),
    cache: required(ACTION_INPUTS.cache),
    comment: required(ACTION_INPUTS.comment),
    provider: required(OPTIONS.provider),
    threads: required(OPTIONS.threads),
    workingDirectory,
    reportDir: path.resolve(workingDirectory, required(OPTIONS.reportDir)),
    ...(controller !== undefined ? { controllerPath: path.resolve(workingDirectory, controller) } : {}),
    configPath,
    configGiven: configPath !== OPTIONS.config.defaultText,
    failOnRegression: required(ACTION_INPUTS.failOnRegression),
    commentKey: input(ACTION_INPUTS.commentKey) ?? '',
    checkRun: required(ACTION_INPUTS.checkRun),
  };
}

/**
 * Checks what the inputs name on disk, before any work: the working directory exists, the report
 * folder can be written, an explicit controller or config exists, and a config that exists parses.
 */
export function checkActionPaths(settings: ActionSettings): void {
  const kind = (file: string): 'folder' | 'file' | 'missing' => {
    try {
      return statSync(file).isDirectory() ? 'folder' : 'file';
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return 'missing';
      throw new UsageError(`cannot look at ${quotePath(file)} (${errnoCode(error) ?? String(error)})`);
    }
  };
  const refuse = (input: string, message: string): never => {
    throw new UsageError(`${inputName(input)}: ${message}`);
  };
  const workingDirectory = kind(settings.workingDirectory);
  if (workingDirectory !== 'folder') {
    refuse(
      'working-directory',
      `${quotePath(settings.workingDirectory)} ${workingDirectory === 'missing' ? 'does not exist' : 'is a file'}; ` +
        'expected an existing folder (relative to the workspace), e.g. . or models',
    );
  }
  ensureWritableFolder(settings.reportDir, inputName('report-dir'));
  if (settings.controllerPath !== undefined && kind(settings.controllerPath) !== 'file') {
    refuse(
      'controller',
      `${quotePath(settings.controllerPath)} ${kind(settings.controllerPath) === 'missing' ? 'does not exist' : 'is a folder'}; ` +
        'expected a controller.json from `simnas pretrain`, relative to working-directory',
    );
  }
  const config = path.resolve(settings.workingDirectory, settings.configPath);
  const configKind = kind(config);
  if (configKind === 'missing' && settings.configGiven) {
    refuse(
      'config',
      `${quotePath(settings.configPath)} does not exist in ${quotePath(settings.workingDirectory)}; ` +
        `expected a review config relative to working-directory (leave the input out to review only when ${OPTIONS.config.defaultText} exists)`,
    );
  }
  if (configKind === 'folder') refuse('config', `${quotePath(config)} is a folder; expected a JSON file`);
  if (configKind === 'file') {
    try {
      readConfigFile(settings.workingDirectory, settings.configPath);
    } catch (error) {
      if (error instanceof UsageError) refuse('config', error.message);
      throw error;
    }
  }
}

/** The inputs parsed and checked: what the action does first, before installing or measuring. */
export function prepareActionSettings(read: InputReader, cwd = process.cwd()): ActionSettings {
  const settings = readActionSettings(read, cwd);
  checkActionPaths(settings);
  return settings;
}
