// Stage 1 of the method: pretrain the controller with PPO on synthetic devices. Every episode
// draws a fresh device from the prior and a budget at a random quantile of that device's latency
// distribution (domain randomization), so the policy must read the device from its observation
// instead of memorizing one. Episodes are exactly one rollout long, which makes every iteration
// self-contained: a checkpoint (weights, Adam state, iteration) resumes bit-for-bit.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { InterruptedError, UsageError } from '../errors.js';
import { objective, OVER_BUDGET_PENALTY, type SearchProblem } from '../search/objective.js';
import { ensureWritableFolder } from '../util/folders.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { quantile } from '../util/stats.js';
import { SIMNAS_VERSION } from '../version.js';
import {
  CONTROLLER_FORMAT,
  CONTROLLER_FORMAT_VERSION,
  artifactSpaceId,
  decodeWeights,
  encodeWeights,
  serializeArtifact,
  shortHash,
  type ControllerArtifact,
  type StandInRecord,
} from './artifact.js';
import { actionCount, observationSize, SearchEnvironment } from './environment.js';
import { ActorCritic, type PolicyShape } from './policy.js';
import {
  DEFAULT_PPO,
  ppoIteration,
  type IterationStats,
  type PolicyEnvironment,
  type PpoConfig,
} from './ppo.js';
import { deployController } from './rollout.js';
import type { SearchSpace } from '../spaces/space.js';
import { initTensorflow, tf } from './tf.js';

export interface PretrainSettings {
  readonly dataset: string;
  /** Environment steps in total (episodes x steps per episode x iterations). */
  readonly timesteps: number;
  readonly seed: number;
  /** Parallel episodes per iteration. */
  readonly episodes: number;
  readonly stepsPerEpisode: number;
  readonly hidden: readonly number[];
  readonly learningRate: number;
  /** Budgets are drawn uniformly between these quantiles of each device's latencies. */
  readonly budgetQuantiles: readonly [number, number];
  readonly checkpointEvery: number;
  readonly evaluateEvery: number;
}

/**
 * Defaults of the bundled controller. 300k steps (98 iterations, about 2.5 minutes on this 2-core
 * machine with the wasm backend): the held-out regret in curve.csv flattens after ~150k, and a run
 * extended to 1M steps (8 minutes) was no better on the recorded devices (its best proposal reached
 * 97.7% of the exhaustive optimum against 98.5% at 300k: lower entropy, fewer distinct cells).
 * The learning rate is PPO's usual 3e-4 raised to 1e-3, which learned about twice as fast in trials.
 */
export const DEFAULT_PRETRAIN: Omit<PretrainSettings, 'dataset'> = {
  timesteps: 300_000,
  seed: 0,
  episodes: 128,
  stepsPerEpisode: 24,
  hidden: [64, 64],
  learningRate: 1e-3,
  budgetQuantiles: [0.02, 0.98],
  checkpointEvery: 10,
  evaluateEvery: 10,
};

export interface PretrainInputs {
  /** The (enumerable) space the controller learns to edit. */
  readonly space: SearchSpace;
  /** Normalized task score per cell code for the dataset. */
  readonly taskScore: Float64Array;
  /** Identifies the task-score table and rule (recorded in the artifact). */
  readonly taskScoreId: string;
  /** Latency of every cell on a freshly drawn synthetic device. */
  readonly sampleDeviceLatencies: (random: Random) => Float64Array;
  readonly priorHash: string;
}

/**
 * What pretraining trains in, for any space: the environment of one PPO iteration (episodes on
 * freshly drawn synthetic problems) and the held-out evaluation of the curve.
 */
export interface PretrainTask {
  readonly space: SearchSpace;
  /** The score the policy's reward is made of (a stand-in's id where it is one). */
  readonly taskScoreId: string;
  readonly priorHash: string;
  /** Recorded in the artifact where the policy acts on a stand-in of the task score. */
  readonly standIn?: StandInRecord;
  environment(settings: PretrainSettings, random: Random): PolicyEnvironment;
  /**
   * Scores a policy on held-out synthetic problems, deployed as the search deploys it: the mean
   * regret in task-score units against the problems' reference optimum (curve.csv's evaluationRegret).
   */
  evaluator(settings: PretrainSettings, root: Random): (policy: ActorCritic) => Promise<PolicyEvaluation>;
}

/** Pretraining in an enumerable space (NB201): every cell's task score and latency by code. */
export function denseTask(inputs: PretrainInputs): PretrainTask {
  return {
    space: inputs.space,
    taskScoreId: inputs.taskScoreId,
    priorHash: inputs.priorHash,
    environment: (settings, random) =>
      new SearchEnvironment(
        inputs.space,
        { episodes: settings.episodes, steps: settings.stepsPerEpisode },
        (slot) => syntheticProblem(inputs, settings.budgetQuantiles, random.child(`slot-${slot}`)),
        random.child('starts'),
      ),
    evaluator: (settings, root) => {
      const problems = Array.from({ length: 8 }, (_, k) =>
        syntheticProblem(inputs, settings.budgetQuantiles, root.child(`evaluation-${k}`)),
      );
      return (policy) =>
        Promise.resolve({ evaluationRegret: evaluationRegret(problems, policy, settings, root) });
    },
  };
}

/** What the curve records of one held-out evaluation. */
export interface PolicyEvaluation {
  readonly evaluationRegret: number;
  /**
   * Where deployment refines the policy's proposals with a search of its own (spaces that cannot be
   * enumerated): the regret of the best proposal alone, what the policy itself contributes.
   */
  readonly proposalRegret?: number;
}

/** One row of the training curve; iteration 0 (before any update) has only the evaluation. */
export interface CurvePoint extends Partial<IterationStats> {
  readonly iteration: number;
  readonly timesteps: number;
  readonly seconds: number;
  /**
   * Mean (exhaustive optimum - best objective the deployed controller finds) in task-score units on
   * held-out synthetic devices, deployed as the search deploys it (episodes, then hill climbs).
   */
  readonly evaluationRegret?: number;
  readonly proposalRegret?: number;
}

export interface PretrainResult {
  readonly artifact: ControllerArtifact;
  readonly artifactPath: string;
  readonly curvePath: string;
  readonly curve: readonly CurvePoint[];
  readonly resumedFrom: number;
}

/** Pretraining stopped early on request; its checkpoint resumes it. */
export class PretrainInterrupted extends InterruptedError {
  override name = 'PretrainInterrupted';
  constructor(
    readonly checkpointPath: string,
    readonly iteration: number,
    readonly iterations: number,
  ) {
    super(
      `pretraining interrupted after iteration ${iteration}/${iterations}; ` +
        `checkpoint saved to ${checkpointPath}, run the same command again to resume`,
    );
  }
}

export const CONTROLLER_FILE = 'controller.json';
const CHECKPOINT_FILE = 'checkpoint.json';
const CURVE_FILE = 'curve.csv';

export function policyShapeFor(space: SearchSpace, hidden: readonly number[]): PolicyShape {
  return { inputSize: observationSize(space), hidden, actions: actionCount(space) };
}

/** A search problem on one synthetic device with a budget at a random latency quantile. */
export function syntheticProblem(
  inputs: PretrainInputs,
  quantiles: readonly [number, number],
  random: Random,
): SearchProblem {
  const latencyMs = inputs.sampleDeviceLatencies(random.child('device'));
  const q = quantiles[0] + (quantiles[1] - quantiles[0]) * random.child('budget').next();
  return { space: inputs.space, taskScore: inputs.taskScore, latencyMs, budgetMs: quantile(latencyMs, q) };
}

interface Checkpoint {
  settingsHash: string;
  /** What settingsHash was computed from, so a mismatch can name the settings that differ. */
  settings?: Record<string, unknown>;
  iteration: number;
  seconds: number;
  weights: ReturnType<typeof encodeWeights>;
  optimizer: ReturnType<typeof encodeWeights>;
  /** Adam's beta1^t and beta2^t as it holds them (float32); absent in older checkpoints. */
  adamPowers?: [number, number];
  curve: CurvePoint[];
}

/** tfjs's defaults, spelled out because a resume recomputes Adam's beta powers from them. */
const ADAM_BETAS = [0.9, 0.999] as const;

export interface PretrainOptions {
  readonly outDir: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** Pretrains a controller for an enumerable space (NB201): `pretrainFor(settings, denseTask(inputs))`. */
export function pretrain(
  settings: PretrainSettings,
  inputs: PretrainInputs,
  options: PretrainOptions,
): Promise<PretrainResult> {
  return pretrainFor(settings, denseTask(inputs), options);
}

export async function pretrainFor(
  settings: PretrainSettings,
  inputs: PretrainTask,
  options: PretrainOptions,
): Promise<PretrainResult> {
  const { outDir, logger } = options;
  if (!Number.isInteger(settings.timesteps) || settings.timesteps <= 0) {
    throw new UsageError(
      `cannot pretrain for ${settings.timesteps} steps; expected a positive integer number of environment steps`,
    );
  }
  // Before anything slow: an --out that is a file or unwritable is a UsageError, not a stack trace.
  ensureWritableFolder(outDir, '--out');
  const backend = await initTensorflow();
  // Everything but the length: a finished or interrupted run can be extended with more timesteps.
  const { timesteps: _length, ...identity } = settings;
  const settingsHash = shortHash({ identity, taskScoreId: inputs.taskScoreId, priorHash: inputs.priorHash });
  // What the hash covers, recorded in the checkpoint so that a mismatch can name what differs.
  const recorded = { ...identity, taskScoreId: inputs.taskScoreId, priorHash: inputs.priorHash };
  const perIteration = settings.episodes * settings.stepsPerEpisode;
  const iterations = Math.ceil(settings.timesteps / perIteration);
  if (iterations * perIteration !== settings.timesteps) {
    logger.info(
      `${settings.timesteps} steps rounded up to ${iterations} whole PPO iteration${iterations === 1 ? '' : 's'} ` +
        `of ${perIteration} (${iterations * perIteration} steps)`,
    );
  }
  const ppo: PpoConfig = {
    ...DEFAULT_PPO,
    rolloutLength: settings.stepsPerEpisode,
    learningRate: settings.learningRate,
  };
  const root = new Random(settings.seed);
  const policy = new ActorCritic(policyShapeFor(inputs.space, settings.hidden), root.child('policy'));
  const optimizer = tf.train.adam(settings.learningRate, ADAM_BETAS[0], ADAM_BETAS[1]);

  let start = 0;
  let elapsedBefore = 0;
  let curve: CurvePoint[] = [];
  const checkpointPath = path.join(outDir, CHECKPOINT_FILE);
  if (existsSync(checkpointPath)) {
    const checkpoint = readCheckpoint(checkpointPath);
    if (checkpoint.settingsHash !== settingsHash) {
      throw new UsageError(
        `${checkpointPath} was written by a pretraining with other settings: ` +
          `${settingsDifference(checkpoint, recorded, settingsHash)}; ` +
          `to resume it, run with the settings it was written with; to start a new pretraining, ` +
          `pass another --out (or delete ${outDir})`,
      );
    }
    if (checkpoint.iteration > iterations) {
      // Refused rather than finished from the checkpoint: its weights are those of the longer run,
      // and a controller labelled with the shorter one's steps would not be what it claims to be.
      throw new UsageError(
        `${checkpointPath} already holds ${checkpoint.iteration} PPO iterations ` +
          `(${checkpoint.iteration * perIteration} steps), more than the ${iterations} requested ` +
          `(${settings.timesteps} steps); pass --steps ${checkpoint.iteration * perIteration} or more ` +
          `to continue that pretraining, or another --out for a shorter one`,
      );
    }
    policy.setWeights(decodeWeights(checkpoint.weights));
    await restoreOptimizer(optimizer, checkpoint);
    start = checkpoint.iteration;
    elapsedBefore = checkpoint.seconds;
    curve = checkpoint.curve;
    logger.info(
      start === iterations
        ? `${checkpointPath} already holds all ${iterations} PPO iterations; writing the controller from it`
        : `resuming pretraining from iteration ${start}/${iterations} (${checkpointPath})`,
    );
  }

  const evaluate = inputs.evaluator(settings, root);
  if (start === 0) {
    // Where the untrained policy starts, deployed as the search would deploy it: the curve's first
    // point, so what pretraining buys is read off the curve itself.
    curve.push({
      iteration: 0,
      timesteps: 0,
      seconds: 0,
      ...(await evaluate(policy)),
    });
  }
  const progress = createProgress({ label: 'pretrain', total: iterations, logger });
  progress.tick(start);
  const began = performance.now();
  for (let iteration = start; iteration < iterations; iteration++) {
    const iterationRandom = root.child(`iteration-${iteration}`);
    const env = inputs.environment(settings, iterationRandom);
    const stats = ppoIteration(env, policy, optimizer, ppo, iterationRandom.child('ppo'));
    const done = iteration + 1;
    const evaluating = done % settings.evaluateEvery === 0 || done === iterations;
    const point: CurvePoint = {
      iteration: done,
      timesteps: done * perIteration,
      seconds: elapsedBefore + (performance.now() - began) / 1000,
      ...stats,
      ...(evaluating ? await evaluate(policy) : {}),
    };
    curve.push(point);
    progress.tick(1, evaluating ? `regret ${point.evaluationRegret!.toFixed(4)}` : '');
    const interrupted = options.signal?.aborted === true;
    if (done % settings.checkpointEvery === 0 || done === iterations || interrupted) {
      await writeCheckpoint(
        checkpointPath,
        {
          settingsHash,
          settings: recorded,
          iteration: done,
          seconds: point.seconds,
          curve,
        },
        policy,
        optimizer,
      );
    }
    if (interrupted && done < iterations) {
      progress.done();
      policy.dispose();
      optimizer.dispose();
      throw new PretrainInterrupted(checkpointPath, done, iterations);
    }
  }
  progress.done();

  const artifact: ControllerArtifact = {
    metadata: {
      format: CONTROLLER_FORMAT,
      formatVersion: CONTROLLER_FORMAT_VERSION,
      simnasVersion: SIMNAS_VERSION,
      searchSpace: artifactSpaceId(inputs.space.id),
      dataset: settings.dataset,
      priorHash: inputs.priorHash,
      taskScoreId: inputs.taskScoreId,
      ...(inputs.standIn ? { standIn: inputs.standIn } : {}),
      reward: {
        overBudgetPenalty: OVER_BUDGET_PENALTY,
        rewardScale: 10,
        stepsPerEpisode: settings.stepsPerEpisode,
      },
      policy: { ...policyShapeFor(inputs.space, settings.hidden), hidden: [...settings.hidden] },
      training: {
        seed: settings.seed,
        timesteps: iterations * perIteration,
        iterations,
        backend,
        settings: { ...settings, ppo },
      },
    },
    weights: policy.getWeights(),
  };
  const artifactPath = path.join(outDir, CONTROLLER_FILE);
  writeAtomically(artifactPath, serializeArtifact(artifact));
  const curvePath = path.join(outDir, CURVE_FILE);
  writeAtomically(curvePath, curveCsv(curve));
  policy.dispose();
  optimizer.dispose();
  return { artifact, artifactPath, curvePath, curve, resumedFrom: start };
}

function evaluationRegret(
  problems: readonly SearchProblem[],
  policy: ActorCritic,
  settings: PretrainSettings,
  root: Random,
): number {
  let total = 0;
  problems.forEach((problem, k) => {
    let optimum = -Infinity;
    for (let code = 0; code < problem.space.size; code++)
      optimum = Math.max(optimum, objective(problem, code));
    const visited = deployController(
      problem,
      policy,
      settings.stepsPerEpisode,
      root.child(`evaluation-rollout-${k}`),
    );
    total += optimum - Math.max(...visited.values());
  });
  return total / problems.length;
}

/** Says which settings differ between a checkpoint and this run, e.g. `seed 0 in the checkpoint, 1 now`. */
function settingsDifference(checkpoint: Checkpoint, now: Record<string, unknown>, nowHash: string): string {
  const then = checkpoint.settings ?? {};
  const names = [...new Set([...Object.keys(then), ...Object.keys(now)])];
  const differing = names.filter((name) => JSON.stringify(then[name]) !== JSON.stringify(now[name]));
  // Checkpoints written before the settings were recorded carry only their hash.
  if (!checkpoint.settings || differing.length === 0) {
    return `settings hash ${checkpoint.settingsHash} in the checkpoint, ${nowHash} now`;
  }
  const shown = (value: unknown): string => (value === undefined ? 'unset' : JSON.stringify(value));
  return differing
    .map((name) => `${name} ${shown(then[name])} in the checkpoint, ${shown(now[name])} now`)
    .join('; ');
}

/**
 * tfjs's Adam keeps beta1^t and beta2^t as float32 running products (one multiplication per
 * update), but its setWeights() recomputes them as pow(beta, t + 1), which rounds differently
 * (on wasm, 1 - beta2^t differs for almost every t past 18): a resumed run left an uninterrupted one by
 * about 1e-7 per weight at its first update. So the checkpoint records the running products and a
 * resume puts them back. They are private fields of tfjs's AdamOptimizer, hence the checks.
 */
interface AdamPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function adamPowers(optimizer: tf.AdamOptimizer): AdamPowers {
  const inner = optimizer as unknown as Partial<AdamPowers>;
  if (!(inner.accBeta1 instanceof tf.Variable) || !(inner.accBeta2 instanceof tf.Variable)) {
    throw new Error(
      'this @tensorflow/tfjs AdamOptimizer has no accBeta1/accBeta2 variables; ' +
        'pretraining checkpoints need them to resume exactly',
    );
  }
  return inner as AdamPowers;
}

/** beta^(updates + 1) as Adam accumulates it: float32 products, each correctly rounded. */
function adamRunningPower(beta: number, updates: number): number {
  const factor = Math.fround(beta);
  let power = factor;
  for (let k = 0; k < updates; k++) power = Math.fround(power * factor);
  return power;
}

async function restoreOptimizer(optimizer: tf.AdamOptimizer, checkpoint: Checkpoint): Promise<void> {
  await optimizer.setWeights(
    decodeWeights(checkpoint.optimizer).map((w) => ({
      name: w.name,
      tensor: tf.tensor(w.values, [...w.shape]),
    })),
  );
  // Checkpoints from before adamPowers was recorded: the running products are recomputed, which
  // matches them exactly where float32 multiplication is IEEE (wasm, cpu, tfjs-node).
  const [power1, power2] = checkpoint.adamPowers ?? [
    adamRunningPower(ADAM_BETAS[0], optimizer.iterations),
    adamRunningPower(ADAM_BETAS[1], optimizer.iterations),
  ];
  const powers = adamPowers(optimizer);
  tf.tidy(() => {
    powers.accBeta1.assign(tf.scalar(power1));
    powers.accBeta2.assign(tf.scalar(power2));
  });
}

async function writeCheckpoint(
  file: string,
  state: Omit<Checkpoint, 'weights' | 'optimizer' | 'adamPowers'>,
  policy: ActorCritic,
  optimizer: tf.AdamOptimizer,
): Promise<void> {
  const optimizerWeights = await optimizer.getWeights();
  const powers = adamPowers(optimizer);
  const checkpoint: Checkpoint = {
    ...state,
    adamPowers: [powers.accBeta1.dataSync()[0]!, powers.accBeta2.dataSync()[0]!],
    weights: encodeWeights(policy.getWeights()),
    optimizer: encodeWeights(
      optimizerWeights.map((w) => ({
        name: w.name,
        shape: w.tensor.shape,
        values: Float32Array.from(w.tensor.dataSync()),
      })),
    ),
  };
  writeAtomically(file, JSON.stringify(checkpoint));
}

function readCheckpoint(file: string): Checkpoint {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (error) {
    throw new UsageError(
      `cannot read the pretraining checkpoint ${file} (${(error as Error).message}); delete it to start over`,
    );
  }
}

/** Write then rename, so an interruption never leaves a half-written file behind. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.partial`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

function curveCsv(curve: readonly CurvePoint[]): string {
  const columns = [
    'iteration',
    'timesteps',
    'seconds',
    'meanReward',
    'policyLoss',
    'valueLoss',
    'entropy',
    'approxKl',
    'evaluationRegret',
    ...(curve.some((p) => p.proposalRegret !== undefined) ? (['proposalRegret'] as const) : []),
  ] as const;
  const rows = curve.map((p) => columns.map((c) => (p[c] === undefined ? '' : String(p[c]))).join(','));
  return `${columns.join(',')}\n${rows.join('\n')}\n`;
}
