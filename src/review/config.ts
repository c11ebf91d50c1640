// The repository's review config (default `simnas.json`): which model the pull request review
// measures (an architecture of the config's search space, or an ONNX file), on which dataset,
// against which budget and thresholds. Read from the working tree for the head and from git
// (`git show <ref>:<path>`) for the base, so the base is always the committed state of the base
// branch, never a file that happens to lie in the checkout. Every mistake is a UsageError naming
// the file, the key, what was found and what is accepted.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { errnoCode, UsageError } from '../errors.js';
import { parseBudget } from '../search/budget.js';
import {
  DEFAULT_SPACE_ID,
  SPACE_IDS,
  spaceById,
  type Architecture,
  type SearchSpace,
} from '../spaces/index.js';
import { quote, quotePath } from '../util/quote.js';

export const DEFAULT_CONFIG_PATH = 'simnas.json';
/** The old `searchSpace` key's one value, from when NB201 was the only space: it means `"space": "nb201"`. */
export const LEGACY_SEARCH_SPACE = 'nas-bench-201';
/** The space `searchSpace` named: the default one, NB201, the only space when that key was written. */
const LEGACY_SPACE_ID = DEFAULT_SPACE_ID;

export interface Thresholds {
  /** Latency change, in percent of the base, that counts as a regression or an improvement. */
  readonly latencyPercent: number;
  /** Task-score change (the score lies in [0, 1]) that counts as a regression or an improvement. */
  readonly taskScorePoints: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { latencyPercent: 5, taskScorePoints: 0.02 };

/** Symbolic or dynamic input dimensions fixed by name (`"batch"`) or by position (`"0"`). */
export type InputShapeOverrides = Readonly<Record<string, number>>;

/**
 * An architecture of the config's space, written under `model.arch` (any space) or `model.cell`
 * (the key NB201 configs have always used; `key` records which, and the review reports it).
 */
export type ModelSpec =
  | {
      readonly kind: 'architecture';
      readonly key: ArchitectureKey;
      readonly architecture: Architecture;
      /** The architecture in the space's own text form. */
      readonly text: string;
    }
  | { readonly kind: 'onnx'; readonly path: string; readonly inputShape: InputShapeOverrides };

/** Where a config was read from; ONNX files it names are read from the same place. */
export type ConfigOrigin =
  | { readonly kind: 'working-tree'; readonly repoDir: string }
  | { readonly kind: 'ref'; readonly repoDir: string; readonly ref: string };

export type ArchitectureKey = 'cell' | 'arch';

export interface ReviewConfig {
  /** The search space the model's architecture and dataset belong to (`space`, default nb201). */
  readonly space: SearchSpace;
  /** One of the space's datasets. */
  readonly dataset: string;
  readonly model: ModelSpec;
  readonly budgetMs?: number;
  readonly thresholds: Thresholds;
  /** The config file's path as given (relative to the repository directory). */
  readonly file: string;
  readonly origin: ConfigOrigin;
}

const ACCEPTED_KEYS = {
  top: ['space', 'searchSpace', 'dataset', 'model', 'budget', 'thresholds'],
  architectureModel: ['cell', 'arch'],
  onnxModel: ['onnx', 'inputShape'],
  thresholds: ['latencyPercent', 'taskScorePoints'],
} as const;

// Each schema's error text says what is accepted; `describeIssue` adds the key and what was found.
function architectureText(space: SearchSpace) {
  return z.string({ error: architectureNoun(space) }).transform((text, context): Architecture => {
    try {
      return space.parse(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message, params: { full: true } });
      return z.NEVER;
    }
  });
}

/** How messages name the model's architecture text: "an NB201 cell string" (as ever), "an FBNet (...) architecture string". */
function architectureNoun(space: SearchSpace): string {
  return space.id === LEGACY_SPACE_ID ? 'an NB201 cell string' : `an architecture string of ${space.title}`;
}

const budgetText = z
  .string({ error: 'a latency budget string such as "5ms", "5" (ms), "0.005s" or "500us"' })
  .transform((text, context): number => {
    try {
      return parseBudget(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message, params: { full: true } });
      return z.NEVER;
    }
  });

const onnxPath = z
  .string({ error: 'a path to an .onnx file inside the repository' })
  .min(1, { error: 'a path to an .onnx file inside the repository' })
  .refine((file) => !path.isAbsolute(file) && !path.posix.isAbsolute(file), {
    error: 'a path relative to the repository (the base is read from git, where absolute paths mean nothing)',
  })
  .refine((file) => !path.posix.normalize(file.replaceAll('\\', '/')).startsWith('../'), {
    error: 'a path inside the repository (not above it)',
  });

const dimension = z
  .number({ error: 'a positive integer dimension size' })
  .int({ error: 'a positive integer dimension size' })
  .min(1, { error: 'a positive integer dimension size' })
  .max(1_000_000, { error: 'a dimension size of at most 1,000,000' });

const spaceName = z.enum(SPACE_IDS as [string, ...string[]], {
  error: `one of ${SPACE_IDS.join(', ')} (the search space of model.arch and dataset; default ${DEFAULT_SPACE_ID})`,
});

/** The top level, its `dataset` checked against the space's datasets. */
const configSchema = (space: SearchSpace) =>
  z.strictObject({
    space: spaceName.optional(),
    searchSpace: z
      .literal(LEGACY_SEARCH_SPACE, {
        error: `"${LEGACY_SEARCH_SPACE}" (the old spelling of "space": "${LEGACY_SPACE_ID}"; name other spaces with "space")`,
      })
      .optional(),
    dataset: z
      .enum(space.datasets as [string, ...string[]], { error: `one of ${space.datasets.join(', ')}` })
      .optional(),
    // Checked by parseModel: one of two shapes, each with its own precise messages.
    model: z.unknown().optional(),
    budget: budgetText.optional(),
    thresholds: z
      .strictObject(
        {
          latencyPercent: z
            .number({ error: 'a percentage in (0, 100), e.g. 5' })
            .gt(0, { error: 'a percentage in (0, 100), e.g. 5' })
            .lt(100, { error: 'a percentage in (0, 100), e.g. 5' })
            .optional(),
          taskScorePoints: z
            .number({ error: 'a task-score difference in [0, 1), e.g. 0.02' })
            .min(0, { error: 'a task-score difference in [0, 1), e.g. 0.02' })
            .lt(1, { error: 'a task-score difference in [0, 1), e.g. 0.02' })
            .optional(),
        },
        { error: 'an object with latencyPercent and/or taskScorePoints' },
      )
      .optional(),
  });

const architectureModelSchemas = (space: SearchSpace) => ({
  arch: z.strictObject({ arch: architectureText(space) }),
  cell: z.strictObject({ cell: architectureText(space) }),
});
const onnxModelSchema = z.strictObject({
  onnx: onnxPath,
  inputShape: z
    .record(z.string(), dimension, { error: 'an object of dimension name or index -> size' })
    .optional(),
});

function modelAccepted(space: SearchSpace): string {
  // NB201 configs are shown their own key, "cell"; "arch" works in every space.
  const architecture = `${space.id === LEGACY_SPACE_ID ? '"cell"' : '"arch"'} (${architectureNoun(space)})`;
  return (
    `an object with either ${architecture} or "onnx" (a path to an .onnx file in the repository, ` +
    'with optional "inputShape")'
  );
}

/** Parses and validates a config's text; `file` is how messages name it (e.g. "simnas.json at main"). */
export function parseConfig(text: string, file: string, origin: ConfigOrigin): ReviewConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${describeFile(file, origin)}: not valid JSON (${(error as Error).message})`);
  }
  const fail = (message: string): never => {
    throw new UsageError(`${describeFile(file, origin)}: ${message}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(
      `found ${describeValue(raw)} at the top level; expected a JSON object with keys ${listKeys(ACCEPTED_KEYS.top)}`,
    );
  }
  // The space decides what `dataset` and `model` accept; a bad `space` is reported by the schema.
  const named = (raw as { space?: unknown }).space;
  const space = spaceById(typeof named === 'string' && SPACE_IDS.includes(named) ? named : DEFAULT_SPACE_ID);
  const top = configSchema(space).safeParse(raw);
  if (!top.success) fail(describeIssue(firstIssue(top.error.issues), raw, []));
  const parsed = top.data!;
  if (parsed.searchSpace !== undefined && space.id !== LEGACY_SPACE_ID) {
    fail(
      `key 'searchSpace': found "${parsed.searchSpace}" (NB201) beside "space": "${space.id}"; ` +
        `expected one of them: drop 'searchSpace' (the old spelling of "space": "${LEGACY_SPACE_ID}")`,
    );
  }
  if (!('model' in (raw as object))) fail(`missing key 'model'; expected ${modelAccepted(space)}`);
  const model = parseModel(space, parsed.model, raw, fail);
  return {
    space,
    dataset: parsed.dataset ?? space.datasets[0]!,
    model,
    ...(parsed.budget !== undefined ? { budgetMs: parsed.budget } : {}),
    thresholds: { ...DEFAULT_THRESHOLDS, ...definedOnly(parsed.thresholds ?? {}) },
    file,
    origin,
  };
}

function parseModel(
  space: SearchSpace,
  model: unknown,
  raw: unknown,
  fail: (message: string) => never,
): ModelSpec {
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    return fail(`key 'model': found ${describeValue(model)}; expected ${modelAccepted(space)}`);
  }
  const found = ([...ACCEPTED_KEYS.architectureModel, 'onnx'] as const).filter((key) => key in model);
  if (found.length > 1) {
    const keys = found.map((key) => `"${key}"`);
    return fail(
      `key 'model': found ${found.length === 2 ? 'both ' : ''}${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}; ` +
        'expected exactly one of them',
    );
  }
  if (found.length === 0) {
    return fail(`key 'model': found keys ${listKeys(Object.keys(model))}; expected ${modelAccepted(space)}`);
  }
  const key = found[0]!;
  if (key !== 'onnx') {
    const parsed = architectureModelSchemas(space)[key].safeParse(model);
    if (!parsed.success) return fail(describeIssue(firstIssue(parsed.error.issues), raw, ['model']));
    const architecture = (parsed.data as Record<ArchitectureKey, Architecture>)[key];
    return { kind: 'architecture', key, architecture, text: space.format(architecture) };
  }
  const onnx = onnxModelSchema.safeParse(model);
  if (!onnx.success) return fail(describeIssue(firstIssue(onnx.error.issues), raw, ['model']));
  return {
    kind: 'onnx',
    path: path.posix.normalize(onnx.data.onnx.replaceAll('\\', '/')),
    inputShape: onnx.data.inputShape ?? {},
  };
}

/** Unknown keys first: a typo explains the missing or wrong value that follows from it. */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  return issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0]!;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One zod issue as "key 'a.b': found X; expected Y" (the schemas' messages say what is accepted). */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown, prefix: readonly PropertyKey[]): string {
  const keyPath = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const where = keyPath.length === 0 ? 'at the top level' : `in '${keyPath.join('.')}'`;
    const accepted = acceptedKeysAt(keyPath);
    const hints = issue.keys.map((key) => {
      const near = closest(key, accepted);
      return near ? `'${key}' (did you mean '${near}'?)` : `'${key}'`;
    });
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${hints.join(', ')} ${where}; accepted keys: ${listKeys(accepted)}`;
  }
  const key = `key '${keyPath.join('.')}'`;
  const params = issue.code === 'custom' ? (issue.params as { full?: boolean } | undefined) : undefined;
  if (params?.full) return `${key}: ${issue.message}`;
  return `${key}: found ${describeValue(valueAt(raw, keyPath))}; expected ${issue.message}`;
}

function acceptedKeysAt(keyPath: readonly PropertyKey[]): readonly string[] {
  if (keyPath.length === 0) return ACCEPTED_KEYS.top;
  if (keyPath[0] === 'thresholds') return ACCEPTED_KEYS.thresholds;
  if (keyPath[0] === 'model')
    return keyPath.length === 1 ? [...ACCEPTED_KEYS.onnxModel, ...ACCEPTED_KEYS.architectureModel] : [];
  return [];
}

/** The accepted key a typo most likely meant (edit distance at most 2, or a case slip). */
function closest(key: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of accepted) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

function valueAt(raw: unknown, keyPath: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of keyPath) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const shown = JSON.stringify(value);
  return `${typeof value} ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`;
}

function listKeys(keys: readonly string[]): string {
  return keys.length === 0 ? '(none)' : keys.map((key) => `'${key}'`).join(', ');
}

function describeFile(file: string, origin: ConfigOrigin): string {
  return origin.kind === 'ref' ? `${file} at ${origin.ref}` : file;
}

/** How a reader names the model: the architecture string or the ONNX path. */
export function describeModel(model: ModelSpec): string {
  return model.kind === 'architecture' ? model.text : model.path;
}

/** The config in the working tree under `repoDir`; a missing file is a UsageError saying so. */
export function readConfigFile(repoDir: string, configPath: string): ReviewConfig {
  const origin: ConfigOrigin = { kind: 'working-tree', repoDir };
  let text: string;
  try {
    text = readFileSync(path.resolve(repoDir, configPath), 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' && !existsSync(repoDir)) {
      throw new UsageError(`the repository folder ${quotePath(repoDir)} does not exist`);
    }
    throw new UsageError(
      code === 'EISDIR'
        ? `${quotePath(configPath)} in ${repoDir} is a folder; expected a JSON config file`
        : code === 'ENOENT'
          ? `${configPath}: no such config file in ${repoDir}; create it (a JSON object with "model" and optionally ` +
            '"space", "dataset", "budget", "thresholds") or pass the path of yours'
          : `${configPath}: cannot read (${code ?? (error as Error).message})`,
    );
  }
  return parseConfig(text, configPath, origin);
}

/**
 * The config committed at `ref`, or undefined when the file does not exist there (a config that
 * is new in the pull request). An unknown ref or any other git failure throws with git's message.
 */
export async function readConfigAtRef(
  repoDir: string,
  ref: string,
  configPath: string,
): Promise<ReviewConfig | undefined> {
  const bytes = await readFileAtRef(repoDir, ref, configPath);
  if (bytes === undefined) return undefined;
  return parseConfig(bytes.toString('utf8'), configPath, { kind: 'ref', repoDir, ref });
}

/** A file's bytes at `ref` (path relative to `repoDir`), or undefined when it does not exist there. */
export async function readFileAtRef(repoDir: string, ref: string, file: string): Promise<Buffer | undefined> {
  if (ref.startsWith('-')) throw new UsageError(`invalid git ref ${quote(ref)}`);
  await git(repoDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).catch(
    (error: GitError) => {
      // Base or head alike: the hint names the ref that is missing, not the side it usually is.
      throw new UsageError(
        `git ref ${quote(ref)} is not a commit in ${repoDir}` +
          (error.stderr
            ? `: ${error.stderr}`
            : `; check the name, and that ${quote(ref)} is fetched (actions/checkout: fetch-depth: 0, or git fetch it)`),
      );
    },
  );
  // `./` makes the path relative to repoDir (which may be a subfolder of the repository).
  const object = `${ref}:./${path.posix.normalize(file.replaceAll('\\', '/'))}`;
  try {
    await git(repoDir, ['cat-file', '-e', object]);
  } catch (error) {
    // "path 'x' does not exist in 'ref'" (or "exists on disk, but not in"): absent at that ref.
    const stderr = (error as GitError).stderr;
    if (/does not exist in|exists on disk, but not in/.test(stderr)) return undefined;
    throw new UsageError(
      `cannot read ${quotePath(file)} at ${ref} in ${repoDir}: ${stderr || (error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const type = (await git(repoDir, ['cat-file', '-t', object])).toString('utf8').trim();
  if (type !== 'blob') throw new UsageError(`${quotePath(file)} is a folder at ${quote(ref)}, not a file`);
  try {
    return await git(repoDir, ['show', object]);
  } catch (error) {
    throw new Error(
      `git show ${object} failed in ${repoDir}: ${(error as GitError).stderr || (error as Error).message}`,
      { cause: error },
    );
  }
}

/** The bytes of a model file named by a config, from the same place the config came from. */
export async function readModelFile(origin: ConfigOrigin, file: string): Promise<Uint8Array> {
  if (origin.kind === 'ref') {
    const bytes = await readFileAtRef(origin.repoDir, origin.ref, file);
    if (bytes === undefined) throw new UsageError(`${quotePath(file)} does not exist at ${origin.ref}`);
    return bytes;
  }
  try {
    return readFileSync(path.resolve(origin.repoDir, file));
  } catch (error) {
    const code = errnoCode(error);
    throw new UsageError(
      code === 'ENOENT'
        ? `${quotePath(file)} does not exist in ${origin.repoDir} (the config's model.onnx is relative to the repository)`
        : code === 'EISDIR'
          ? `${quotePath(file)} is a folder, not a file; the config's model.onnx names an .onnx file in the repository`
          : `${quotePath(file)}: cannot read (${code ?? (error as Error).message})`,
    );
  }
}

interface GitError extends Error {
  stderr: string;
}

/** Runs git without a shell; rejects with git's trimmed stderr. */
function git(repoDir: string, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', repoDir, ...args],
      { encoding: 'buffer', maxBuffer: 2 ** 31 - 1, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          const failure = error as GitError;
          failure.stderr = stderr.toString('utf8').trim();
          reject(failure);
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
