// Stage 1 of the method: pretrain the controller with PPO on synthetic devices. Every episode
// draws a fresh device from the prior and a budget at a random quantile of that device's latency
// distribution (domain randomization), so the policy must read the device from its observation
// instead of memorizing one. Episodes are exactly one rollout long, which makes every iteration
// self-contained: a checkpoint (weights, Adam state, iteration) resumes bit-for-bit.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { InterruptedError, UsageError } from '../errors.js';
import type { Dataset } from '../space/datasets.js';
import { SPACE_SIZE } from '../space/cell.js';
import { objective, OVER_BUDGET_PENALTY, type SearchProblem } from '../search/objective.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { quantile } from '../util/stats.js';
import { SIMNAS_VERSION } from '../version.js';
import {
  CONTROLLER_FORMAT,
  CONTROLLER_FORMAT_VERSION,
  SEARCH_SPACE_ID,
  decodeWeights,
  encodeWeights,
  serializeArtifact,
  shortHash,
  type ControllerArtifact,
} from './artifact.js';
import { ACTION_COUNT, OBSERVATION_SIZE, SearchEnvironment } from './environment.js';
import { ActorCritic, type PolicyShape } from './policy.js';
import { DEFAULT_PPO, ppoIteration, type IterationStats, type PpoConfig } from './ppo.js';
import { proposeCells } from './rollout.js';
import { initTensorflow, tf } from './tf.js';

export interface PretrainSettings {
  readonly dataset: Dataset;
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
  /** Normalized task score per cell code for the dataset. */
  readonly taskScore: Float64Array;
  /** Identifies the task-score table and rule (recorded in the artifact). */
  readonly taskScoreId: string;
  /** Latency of every cell on a freshly drawn synthetic device. */
  readonly sampleDeviceLatencies: (random: Random) => Float64Array;
  readonly priorHash: string;
}

export interface CurvePoint extends IterationStats {
  readonly iteration: number;
  readonly timesteps: number;
  readonly seconds: number;
  /** Mean (exhaustive optimum - controller's best) in task-score units on held-out devices. */
  readonly evaluationRegret?: number;
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

export function policyShapeFor(hidden: readonly number[]): PolicyShape {
  return { inputSize: OBSERVATION_SIZE, hidden, actions: ACTION_COUNT };
}

/** A search problem on one synthetic device with a budget at a random latency quantile. */
export function syntheticProblem(
  inputs: PretrainInputs,
  quantiles: readonly [number, number],
  random: Random,
): SearchProblem {
  const latencyMs = inputs.sampleDeviceLatencies(random.child('device'));
  const q = quantiles[0] + (quantiles[1] - quantiles[0]) * random.child('budget').next();
  return { taskScore: inputs.taskScore, latencyMs, budgetMs: quantile(latencyMs, q) };
}

interface Checkpoint {
  settingsHash: string;
  iteration: number;
  seconds: number;
  weights: ReturnType<typeof encodeWeights>;
  optimizer: ReturnType<typeof encodeWeights>;
  curve: CurvePoint[];
}

export async function pretrain(
  settings: PretrainSettings,
  inputs: PretrainInputs,
  options: { outDir: string; logger: Logger; signal?: AbortSignal },
): Promise<PretrainResult> {
  const backend = await initTensorflow();
  const { outDir, logger } = options;
  mkdirSync(outDir, { recursive: true });
  // Everything but the length: a finished or interrupted run can be extended with more timesteps.
  const { timesteps: _length, ...identity } = settings;
  const settingsHash = shortHash({ identity, taskScoreId: inputs.taskScoreId, priorHash: inputs.priorHash });
  const perIteration = settings.episodes * settings.stepsPerEpisode;
  const iterations = Math.ceil(settings.timesteps / perIteration);
  if (iterations * perIteration !== settings.timesteps) {
    logger.info(
      `${settings.timesteps} steps rounded up to ${iterations} whole PPO iterations of ${perIteration} ` +
        `(${iterations * perIteration} steps)`,
    );
  }
  const ppo: PpoConfig = {
    ...DEFAULT_PPO,
    rolloutLength: settings.stepsPerEpisode,
    learningRate: settings.learningRate,
  };
  const root = new Random(settings.seed);
  const policy = new ActorCritic(policyShapeFor(settings.hidden), root.child('policy'));
  const optimizer = tf.train.adam(settings.learningRate);

  let start = 0;
  let elapsedBefore = 0;
  let curve: CurvePoint[] = [];
  const checkpointPath = path.join(outDir, CHECKPOINT_FILE);
  if (existsSync(checkpointPath)) {
    const checkpoint = readCheckpoint(checkpointPath);
    if (checkpoint.settingsHash !== settingsHash) {
      throw new UsageError(
        `${checkpointPath} was written by a pretraining with other settings (${checkpoint.settingsHash}, ` +
          `now ${settingsHash}); pass another --out or delete that folder to start over`,
      );
    }
    policy.setWeights(decodeWeights(checkpoint.weights));
    await optimizer.setWeights(
      decodeWeights(checkpoint.optimizer).map((w) => ({
        name: w.name,
        tensor: tf.tensor(w.values, [...w.shape]),
      })),
    );
    start = checkpoint.iteration;
    elapsedBefore = checkpoint.seconds;
    curve = checkpoint.curve;
    logger.info(`resuming pretraining from iteration ${start}/${iterations} (${checkpointPath})`);
  }

  const evaluationProblems = Array.from({ length: 8 }, (_, k) =>
    syntheticProblem(inputs, settings.budgetQuantiles, root.child(`evaluation-${k}`)),
  );
  const progress = createProgress({ label: 'pretrain', total: iterations, logger });
  progress.tick(start);
  const began = performance.now();
  for (let iteration = start; iteration < iterations; iteration++) {
    const iterationRandom = root.child(`iteration-${iteration}`);
    const env = new SearchEnvironment(
      { episodes: settings.episodes, steps: settings.stepsPerEpisode },
      (slot) => syntheticProblem(inputs, settings.budgetQuantiles, iterationRandom.child(`slot-${slot}`)),
      iterationRandom.child('starts'),
    );
    const stats = ppoIteration(env, policy, optimizer, ppo, iterationRandom.child('ppo'));
    const done = iteration + 1;
    const evaluate = done % settings.evaluateEvery === 0 || done === iterations;
    const point: CurvePoint = {
      iteration: done,
      timesteps: done * perIteration,
      seconds: elapsedBefore + (performance.now() - began) / 1000,
      ...stats,
      ...(evaluate ? { evaluationRegret: evaluationRegret(evaluationProblems, policy, settings, root) } : {}),
    };
    curve.push(point);
    progress.tick(1, evaluate ? `regret ${point.evaluationRegret!.toFixed(4)}` : '');
    const interrupted = options.signal?.aborted === true;
    if (done % settings.checkpointEvery === 0 || done === iterations || interrupted) {
      await writeCheckpoint(
        checkpointPath,
        { settingsHash, iteration: done, seconds: point.seconds, curve },
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
      searchSpace: SEARCH_SPACE_ID,
      dataset: settings.dataset,
      priorHash: inputs.priorHash,
      taskScoreId: inputs.taskScoreId,
      reward: {
        overBudgetPenalty: OVER_BUDGET_PENALTY,
        rewardScale: 10,
        stepsPerEpisode: settings.stepsPerEpisode,
      },
      policy: { ...policyShapeFor(settings.hidden), hidden: [...settings.hidden] },
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
    for (let code = 0; code < SPACE_SIZE; code++) optimum = Math.max(optimum, objective(problem, code));
    const visited = proposeCells(
      problem,
      policy,
      { episodes: 16, steps: settings.stepsPerEpisode },
      root.child(`evaluation-rollout-${k}`),
    );
    total += optimum - Math.max(...visited.values());
  });
  return total / problems.length;
}

async function writeCheckpoint(
  file: string,
  state: Omit<Checkpoint, 'weights' | 'optimizer'>,
  policy: ActorCritic,
  optimizer: tf.Optimizer,
): Promise<void> {
  const optimizerWeights = await optimizer.getWeights();
  const checkpoint: Checkpoint = {
    ...state,
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
  ] as const;
  const rows = curve.map((p) => columns.map((c) => (p[c] === undefined ? '' : String(p[c]))).join(','));
  return `${columns.join(',')}\n${rows.join('\n')}\n`;
}
