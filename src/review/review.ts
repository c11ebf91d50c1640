// The pull-request review: read the config at the head (working tree or a ref) and at the base
// (from git), load both models (architectures of the config's search space, or ONNX files), time
// them interleaved on this machine, score architectures where the space has a task score, and judge.
// Free of @actions/*: the action and `simnas review` are two front ends over this one function.
import { UsageError } from '../errors.js';
import { createTaskScorer, type TaskScorer } from '../proxies/task-scorer.js';
import type { Architecture, SearchSpace } from '../spaces/index.js';
import type { Logger } from '../util/log.js';
import {
  prepareModel,
  releaseModel,
  timeAB,
  timeSingle,
  type AbTimingOptions,
  type Interval,
  type ModelSource,
  type ModelTiming,
  type PreparedModel,
} from './ab-timing.js';
import {
  describeModel,
  parseConfig,
  readConfigFile,
  readFileAtRef,
  readModelFile,
  type ReviewConfig,
} from './config.js';
import { decideVerdicts, type RecommendedCell, type Review, type SideFacts } from './verdict.js';

export type { Review } from './verdict.js';

/** The head as the checked-out files are, rather than a commit. */
export const WORKING_TREE = 'working-tree';

/** Task score of an architecture on a dataset; undefined (or NaN) when none can be had. */
export type TaskScoreFunction = (
  space: SearchSpace,
  architecture: Architecture,
  dataset: string,
) => Promise<number | undefined>;

/**
 * Task scores of any space's architectures, through the one task scorer a search uses (NB201: the
 * proxy table, or computed on demand for cells it lacks; other spaces: their proxies computed on
 * demand, about 0.3-0.6 s a network, and cached on disk in `cacheDir`, the user's cache folder
 * by default). One scorer per space and dataset, built on first use.
 */
export function proxyTaskScore(logger: Logger, options: { cacheDir?: string } = {}): TaskScoreFunction {
  const scorers = new Map<string, Promise<TaskScorer>>();
  return async (space, architecture, dataset) => {
    const key = `${space.id}/${dataset}`;
    let scorer = scorers.get(key);
    if (!scorer) {
      scorer = createTaskScorer(space, { dataset, logger, ...options });
      scorers.set(key, scorer);
    }
    return (await scorer).score(architecture);
  };
}

export interface ReviewOptions {
  /** The repository (or the folder inside it that config and model paths are relative to). */
  readonly repoDir: string;
  /** The base commit (e.g. the pull request's base SHA); undefined reviews the head alone. */
  readonly baseRef: string | undefined;
  readonly headRef: string | typeof WORKING_TREE;
  readonly configPath: string;
  readonly seed: number;
  readonly threads: number;
  /** onnxruntime execution provider ("cpu", ...). */
  readonly provider: string;
  readonly taskScore?: TaskScoreFunction;
  /** The search's recommended cell on this hardware (for the `dominated` verdict). */
  readonly recommended?: RecommendedCell;
  /** Budget used when the config has none (e.g. the action's `latency-budget` input). */
  readonly budgetMs?: number;
  /** Overrides of the timing protocol (tests use short runs). */
  readonly timing?: Partial<AbTimingOptions>;
}

interface LoadedSide {
  readonly config: ReviewConfig;
  readonly ref: string;
  readonly model: PreparedModel;
}

export async function reviewPullRequest(options: ReviewOptions, logger: Logger): Promise<Review> {
  const timingOptions: Partial<AbTimingOptions> = {
    ...options.timing,
    seed: options.seed,
    threads: options.threads,
    provider: options.provider,
  };
  const headConfig = await readHeadConfig(options);
  const headRef = options.headRef === WORKING_TREE ? 'working tree' : options.headRef;
  const notes: string[] = [];
  let head: LoadedSide | undefined;
  let base: LoadedSide | undefined;
  try {
    head = {
      config: headConfig,
      ref: headRef,
      model: await prepareModel(await modelSource(headConfig), timingOptions),
    };
    const baseLoad = await loadBase(options, timingOptions, logger);
    base = baseLoad.side;
    const baseMissing = baseLoad.missing;
    for (const side of [head, base]) {
      if (side && side.model.unusedShapeKeys.length > 0) {
        notes.push(
          `${side.ref}: model.inputShape key(s) ${side.model.unusedShapeKeys.map((k) => `'${k}'`).join(', ')} ` +
            'matched no dynamic dimension of the model',
        );
      }
    }
    if (base && base.config.dataset !== headConfig.dataset) {
      notes.push(
        `the dataset changed (${base.config.dataset} -> ${headConfig.dataset}): task scores are not compared`,
      );
    }

    const labels = base ? ` ${describeModel(base.config.model)} (base) vs` : '';
    logger.info(`review: timing${labels} ${describeModel(headConfig.model)} (head) on this machine`);
    const measured = base
      ? await timeAB(base.model, head.model, timingOptions, logger)
      : await timeSingle(head.model, timingOptions, logger);
    const headTiming = 'head' in measured ? measured.head : measured.model;
    const baseTiming = 'base' in measured ? measured.base : undefined;

    const headFacts = await sideFacts(head, headTiming, options.taskScore);
    const baseFacts = base && baseTiming ? await sideFacts(base, baseTiming, options.taskScore) : undefined;
    const ratio = 'ratio' in measured ? { value: measured.ratio, ...measured.ratioInterval } : undefined;
    const budgetMs = headConfig.budgetMs ?? options.budgetMs;
    const outcome = decideVerdicts({
      head: headFacts,
      ...(baseFacts ? { base: baseFacts } : {}),
      ...(baseMissing ? { baseMissing } : {}),
      ...(ratio ? { ratio } : {}),
      ...(budgetMs !== undefined ? { budgetMs } : {}),
      thresholds: headConfig.thresholds,
      ...(options.recommended ? { recommended: options.recommended } : {}),
    });
    return {
      schema: 'simnas-review',
      schemaVersion: 1,
      configPath: options.configPath,
      baseRef: options.baseRef ?? 'none',
      headRef,
      head: headFacts,
      ...(baseFacts ? { base: baseFacts } : {}),
      ...(baseMissing ? { baseMissing } : {}),
      ...(ratio ? { latencyRatio: ratio } : {}),
      ...(budgetMs !== undefined ? { budgetMs } : {}),
      thresholds: headConfig.thresholds,
      ...(options.recommended ? { recommended: options.recommended } : {}),
      notes,
      timing: { protocol: measured.protocol, wallMs: measured.wallMs },
      ...outcome,
    };
  } finally {
    await Promise.all([head, base].flatMap((side) => (side ? [releaseModel(side.model)] : [])));
  }
}

async function readHeadConfig(options: ReviewOptions): Promise<ReviewConfig> {
  if (options.headRef === WORKING_TREE) return readConfigFile(options.repoDir, options.configPath);
  const bytes = await readFileAtRef(options.repoDir, options.headRef, options.configPath);
  if (bytes === undefined) {
    throw new UsageError(
      `${options.configPath} does not exist at ${options.headRef}; the review needs it at the head`,
    );
  }
  return parseConfig(bytes.toString('utf8'), options.configPath, {
    kind: 'ref',
    repoDir: options.repoDir,
    ref: options.headRef,
  });
}

/**
 * The base side, or why there is none. A base whose config or model is unusable does not fail
 * the review (the pull request may be the fix); git failures and unknown refs still throw.
 */
async function loadBase(
  options: ReviewOptions,
  timingOptions: Partial<AbTimingOptions>,
  logger: Logger,
): Promise<{ side?: LoadedSide; missing?: string }> {
  const ref = options.baseRef;
  if (ref === undefined) return { missing: 'no base ref was given: the head is reviewed on its own' };
  const bytes = await readFileAtRef(options.repoDir, ref, options.configPath);
  if (bytes === undefined) {
    return {
      missing: `${options.configPath} does not exist at ${ref}: the config is new in this pull request`,
    };
  }
  try {
    const config = parseConfig(bytes.toString('utf8'), options.configPath, {
      kind: 'ref',
      repoDir: options.repoDir,
      ref,
    });
    return { side: { config, ref, model: await prepareModel(await modelSource(config), timingOptions) } };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    logger.warn(`review: the base is unusable, reviewing the head alone: ${error.message}`);
    return { missing: `the base cannot be measured (${error.message}); the head is reviewed on its own` };
  }
}

async function modelSource(config: ReviewConfig): Promise<ModelSource> {
  if (config.model.kind === 'architecture') {
    return {
      kind: 'architecture',
      label: config.model.text,
      space: config.space,
      architecture: config.model.architecture,
      dataset: config.dataset,
    };
  }
  return {
    kind: 'onnx',
    label: config.model.path,
    bytes: await readModelFile(config.origin, config.model.path),
    inputShape: config.model.inputShape,
  };
}

async function sideFacts(
  side: LoadedSide,
  timing: ModelTiming,
  taskScore: TaskScoreFunction | undefined,
): Promise<SideFacts> {
  const model = side.config.model;
  const score =
    model.kind === 'architecture' && taskScore
      ? await taskScore(side.config.space, model.architecture, side.config.dataset)
      : undefined;
  const interval: Interval = timing.medianInterval;
  return {
    ref: side.ref,
    modelKind: model.kind === 'architecture' ? model.key : 'onnx',
    model: describeModel(model),
    dataset: side.config.dataset,
    latencyMs: timing.medianMs,
    latencyInterval: interval,
    ...(score !== undefined && Number.isFinite(score) ? { taskScore: score } : {}),
  };
}
