// The controller artifact: policy weights plus the metadata that says what they were trained for
// (search space, dataset, prior, reward, observation layout). Loading refuses an artifact whose
// metadata does not match this build, because a policy trained for another prior or observation
// layout would search confidently and wrongly.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { UsageError } from '../errors.js';
import type { NamedWeights, PolicyShape } from './policy.js';
import { quotePath } from '../util/quote.js';

export const CONTROLLER_FORMAT = 'simnas-controller';
/** Bump when the observation layout, action encoding or reward changes meaning. */
export const CONTROLLER_FORMAT_VERSION = 1;
/**
 * How an artifact names its search space: the space's `--space` id, except that artifacts made
 * before spaces were pluggable (the bundled NB201 controllers among them, whose bytes and hashes
 * caches and reports refer to) wrote 'nas-bench-201-topology', which stays NB201's.
 */
const LEGACY_SPACE_IDS: Readonly<Record<string, string>> = { nb201: 'nas-bench-201-topology' };

export function artifactSpaceId(spaceId: string): string {
  return LEGACY_SPACE_IDS[spaceId] ?? spaceId;
}

/**
 * The file name of the controller bundled for a space and dataset, under controllers/: a space
 * with a legacy artifact id keeps its old names (`cifar10.json`), every other space is prefixed
 * (`fbnet-cifar100.json`).
 */
export function bundledControllerName(spaceId: string, dataset: string): string {
  return spaceId in LEGACY_SPACE_IDS ? `${dataset}.json` : `${spaceId}-${dataset}.json`;
}

const weightsSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().positive()),
  data: z.string().describe('little-endian float32, base64'),
});

/**
 * The stand-in a controller for a space that cannot be enumerated acts on (stand-in.ts): a ridge
 * fit of real task scores on per-(position, choice) one-hots, shipped with the policy.
 */
export const standInSchema = z.object({
  id: z.string(),
  /** The real task score it was fitted to. */
  taskScoreId: z.string(),
  ridge: z.number().nonnegative(),
  fittedOn: z.number().int().positive(),
  /** Spearman with the real score on architectures it was not fitted on, and how many. */
  heldOutSpearman: z.number().optional(),
  heldOut: z.number().int().nonnegative().optional(),
  /** The constant, then one weight per (position, choice), position-major. */
  weights: z.array(z.number()),
});
export type StandInRecord = z.infer<typeof standInSchema>;

export const controllerMetadataSchema = z.object({
  format: z.literal(CONTROLLER_FORMAT),
  formatVersion: z.number().int(),
  simnasVersion: z.string(),
  searchSpace: z.string(),
  // One of the space's datasets: loading compares it with the search's, which the space checked.
  dataset: z.string().min(1),
  priorHash: z.string(),
  // Where a stand-in is recorded, the task score the policy was trained on is the stand-in's.
  taskScoreId: z.string(),
  standIn: standInSchema.optional(),
  reward: z.object({
    overBudgetPenalty: z.number(),
    rewardScale: z.number(),
    stepsPerEpisode: z.number().int().positive(),
  }),
  policy: z.object({
    inputSize: z.number().int().positive(),
    hidden: z.array(z.number().int().positive()),
    actions: z.number().int().positive(),
  }),
  training: z.object({
    seed: z.number().int(),
    timesteps: z.number().int().nonnegative(),
    iterations: z.number().int().nonnegative(),
    backend: z.string(),
    settings: z.record(z.string(), z.unknown()),
  }),
});
export type ControllerMetadata = z.infer<typeof controllerMetadataSchema>;

const artifactSchema = controllerMetadataSchema.extend({ weights: z.array(weightsSchema) });

export interface ControllerArtifact {
  readonly metadata: ControllerMetadata;
  readonly weights: readonly NamedWeights[];
}

/** What the running build expects an artifact to have been trained for. */
export interface ControllerExpectation {
  /** The `--space` id the search runs in. */
  readonly space: string;
  readonly dataset: string;
  readonly priorHash: string;
  readonly policy: PolicyShape;
}

export function encodeWeights(weights: readonly NamedWeights[]): z.infer<typeof weightsSchema>[] {
  return weights.map((w) => ({
    name: w.name,
    shape: [...w.shape],
    data: Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength).toString('base64'),
  }));
}

export function decodeWeights(encoded: readonly z.infer<typeof weightsSchema>[]): NamedWeights[] {
  return encoded.map((w) => {
    const bytes = Buffer.from(w.data, 'base64');
    const values = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const expected = w.shape.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw new UsageError(`controller weights '${w.name}': ${values.length} values for shape [${w.shape}]`);
    }
    return { name: w.name, shape: w.shape, values };
  });
}

export function serializeArtifact(artifact: ControllerArtifact): string {
  return `${JSON.stringify({ ...artifact.metadata, weights: encodeWeights(artifact.weights) })}\n`;
}

/** Parses and validates an artifact file; `where` names it in errors. */
export function parseArtifact(text: string, where: string): ControllerArtifact {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not a simnas controller (not JSON: ${(error as Error).message})`);
  }
  const parsed = artifactSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      `${where} is not a valid simnas controller: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  const { weights, ...metadata } = parsed.data;
  return { metadata, weights: decodeWeights(weights) };
}

/** The artifact in `path`, with the file's sha256 (16 hex digits), which reports name it by. */
export function readArtifact(path: string): ControllerArtifact & { readonly sha256: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read controller ${quotePath(path)}: ${(error as Error).message}`);
  }
  const sha256 = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { ...parseArtifact(text, path), sha256 };
}

/** Refuses an artifact trained for something else, saying what differs and what to do. */
export function checkCompatible(
  metadata: ControllerMetadata,
  expected: ControllerExpectation,
  where: string,
): void {
  const problems: string[] = [];
  if (metadata.formatVersion !== CONTROLLER_FORMAT_VERSION) {
    problems.push(`format version ${metadata.formatVersion}, this simnas reads ${CONTROLLER_FORMAT_VERSION}`);
  }
  if (metadata.searchSpace !== artifactSpaceId(expected.space)) {
    problems.push(
      `search space '${metadata.searchSpace}', the search runs in '${artifactSpaceId(expected.space)}'`,
    );
  }
  if (metadata.dataset !== expected.dataset) {
    problems.push(`dataset '${metadata.dataset}', the search asks for '${expected.dataset}'`);
  }
  if (metadata.priorHash !== expected.priorHash) {
    problems.push(`synthetic-device prior ${metadata.priorHash}, this simnas has ${expected.priorHash}`);
  }
  const shape = metadata.policy;
  if (
    shape.inputSize !== expected.policy.inputSize ||
    shape.actions !== expected.policy.actions ||
    shape.hidden.join(',') !== expected.policy.hidden.join(',')
  ) {
    problems.push(
      `policy ${shape.inputSize}->[${shape.hidden}]->${shape.actions}, expected ` +
        `${expected.policy.inputSize}->[${expected.policy.hidden}]->${expected.policy.actions}`,
    );
  }
  if (problems.length > 0) {
    throw new UsageError(
      `controller ${where} does not match this simnas: ${problems.join('; ')}. ` +
        `Pretrain a matching one with 'simnas pretrain${expected.space in LEGACY_SPACE_IDS ? '' : ` --space ${expected.space}`} --dataset ${expected.dataset}'.`,
    );
  }
}

/** A short, stable hash of any JSON-serializable description (prior, task-score settings). */
export function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}
