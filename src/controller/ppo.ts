// Proximal Policy Optimization (clipped surrogate, GAE) over the vectorized search environment.
// Rollouts run in JS with the policy evaluated in one batched call per step; updates use tfjs
// autodiff with a global gradient-norm clip. Action sampling uses our seeded Random, so a run is
// reproducible for a seed on a given backend.
import type { Random } from '../util/random.js';
import type { StepResult } from './environment.js';
import type { ActorCritic } from './policy.js';
import { tf } from './tf.js';

export interface PpoConfig {
  /** Environment steps per rollout, per parallel episode. */
  readonly rolloutLength: number;
  readonly gamma: number;
  readonly gaeLambda: number;
  readonly clipRange: number;
  readonly epochs: number;
  readonly minibatchSize: number;
  readonly learningRate: number;
  readonly entropyCoefficient: number;
  readonly valueCoefficient: number;
  readonly maxGradientNorm: number;
}

export const DEFAULT_PPO: PpoConfig = {
  rolloutLength: 24,
  gamma: 0.99,
  gaeLambda: 0.95,
  clipRange: 0.2,
  epochs: 4,
  minibatchSize: 512,
  learningRate: 3e-4,
  entropyCoefficient: 0.01,
  valueCoefficient: 0.5,
  maxGradientNorm: 0.5,
};

/** What PPO acts in: a vectorized environment of edit steps (dense cells or architectures). */
export interface PolicyEnvironment {
  readonly episodes: number;
  readonly observationSize: number;
  readonly actionCount: number;
  observe(): Float32Array;
  step(actions: ArrayLike<number>): StepResult;
}

export interface IterationStats {
  readonly meanReward: number;
  readonly policyLoss: number;
  readonly valueLoss: number;
  readonly entropy: number;
  readonly approxKl: number;
}

interface Rollout {
  observations: Float32Array;
  actions: Int32Array;
  logProbs: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  meanReward: number;
}

/** Samples one action per row of `logits` (row-major, rows of equal width); returns actions and log-probs. */
export function sampleActions(
  logits: Float32Array,
  rows: number,
  random: Random,
  greedy = false,
): { actions: Int32Array; logProbs: Float32Array } {
  const ACTION_COUNT = logits.length / rows;
  const actions = new Int32Array(rows);
  const logProbs = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * ACTION_COUNT;
    let max = -Infinity;
    for (let a = 0; a < ACTION_COUNT; a++) max = Math.max(max, logits[base + a]!);
    let total = 0;
    for (let a = 0; a < ACTION_COUNT; a++) total += Math.exp(logits[base + a]! - max);
    let choice = 0;
    if (greedy) {
      for (let a = 1; a < ACTION_COUNT; a++) if (logits[base + a]! > logits[base + choice]!) choice = a;
    } else {
      let u = random.next() * total;
      for (choice = 0; choice < ACTION_COUNT - 1; choice++) {
        u -= Math.exp(logits[base + choice]! - max);
        if (u <= 0) break;
      }
    }
    actions[r] = choice;
    logProbs[r] = logits[base + choice]! - max - Math.log(total);
  }
  return { actions, logProbs };
}

function collectRollout(
  env: PolicyEnvironment,
  policy: ActorCritic,
  config: PpoConfig,
  random: Random,
): Rollout {
  const n = env.episodes;
  const steps = config.rolloutLength;
  const OBSERVATION_SIZE = env.observationSize;
  const observations = new Float32Array(steps * n * OBSERVATION_SIZE);
  const actions = new Int32Array(steps * n);
  const logProbs = new Float32Array(steps * n);
  const values = new Float32Array((steps + 1) * n);
  const rewards = new Float32Array(steps * n);
  const dones = new Uint8Array(steps * n);
  let rewardSum = 0;
  for (let t = 0; t < steps; t++) {
    const obs = env.observe();
    observations.set(obs, t * n * OBSERVATION_SIZE);
    const [logits, value] = tf.tidy(() => {
      const input = tf.tensor2d(obs, [n, OBSERVATION_SIZE]);
      return [
        policy.logits(input).dataSync() as Float32Array,
        policy.values(input).dataSync() as Float32Array,
      ];
    });
    values.set(value, t * n);
    const sampled = sampleActions(logits, n, random);
    actions.set(sampled.actions, t * n);
    logProbs.set(sampled.logProbs, t * n);
    const result = env.step(sampled.actions);
    rewards.set(result.rewards, t * n);
    dones.set(result.dones, t * n);
    for (const r of result.rewards) rewardSum += r;
  }
  const last = tf.tidy(() => policy.values(tf.tensor2d(env.observe(), [n, OBSERVATION_SIZE])).dataSync());
  values.set(last, steps * n);

  const advantages = new Float32Array(steps * n);
  const returns = new Float32Array(steps * n);
  for (let slot = 0; slot < n; slot++) {
    let gae = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const i = t * n + slot;
      const notDone = dones[i] ? 0 : 1;
      const delta = rewards[i]! + config.gamma * values[i + n]! * notDone - values[i]!;
      gae = delta + config.gamma * config.gaeLambda * notDone * gae;
      advantages[i] = gae;
      returns[i] = gae + values[i]!;
    }
  }
  return { observations, actions, logProbs, advantages, returns, meanReward: rewardSum / (steps * n) };
}

/** One PPO iteration: a rollout, then `epochs` passes of minibatch updates. */
export function ppoIteration(
  env: PolicyEnvironment,
  policy: ActorCritic,
  optimizer: tf.Optimizer,
  config: PpoConfig,
  random: Random,
): IterationStats {
  const rollout = collectRollout(env, policy, config, random);
  const { observationSize: OBSERVATION_SIZE, actionCount: ACTION_COUNT } = env;
  const total = rollout.actions.length;
  // Normalized advantages keep the step size independent of the reward scale.
  let mean = 0;
  for (const a of rollout.advantages) mean += a;
  mean /= total;
  let variance = 0;
  for (const a of rollout.advantages) variance += (a - mean) ** 2;
  const std = Math.sqrt(variance / total) + 1e-8;
  const normalized = rollout.advantages.map((a) => (a - mean) / std);

  let policyLoss = 0;
  let valueLoss = 0;
  let entropy = 0;
  let approxKl = 0;
  let updates = 0;
  const order = Array.from({ length: total }, (_, i) => i);
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const shuffled = random.shuffled(order);
    for (let start = 0; start + config.minibatchSize <= total; start += config.minibatchSize) {
      const batch = shuffled.slice(start, start + config.minibatchSize);
      const obs = new Float32Array(batch.length * OBSERVATION_SIZE);
      batch.forEach((i, row) =>
        obs.set(
          rollout.observations.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE),
          row * OBSERVATION_SIZE,
        ),
      );
      const stats = tf.tidy(() => {
        const input = tf.tensor2d(obs, [batch.length, OBSERVATION_SIZE]);
        const actions = tf.tensor1d(
          Int32Array.from(batch, (i) => rollout.actions[i]!),
          'int32',
        );
        const oldLogProbs = tf.tensor1d(Float32Array.from(batch, (i) => rollout.logProbs[i]!));
        const advantages = tf.tensor1d(Float32Array.from(batch, (i) => normalized[i]!));
        const returns = tf.tensor1d(Float32Array.from(batch, (i) => rollout.returns[i]!));
        const parts: tf.Scalar[] = [];
        const lossFn = (): tf.Scalar => {
          const logits = policy.logits(input);
          const logSoftmax = tf.logSoftmax(logits);
          const chosen = tf.sum(tf.mul(logSoftmax, tf.oneHot(actions, ACTION_COUNT)), 1);
          const ratio = tf.exp(tf.sub(chosen, oldLogProbs));
          const clipped = tf.clipByValue(ratio, 1 - config.clipRange, 1 + config.clipRange);
          const surrogate = tf.neg(
            tf.mean(tf.minimum(tf.mul(ratio, advantages), tf.mul(clipped, advantages))),
          );
          const valueError = tf.mean(tf.square(tf.sub(policy.values(input), returns)));
          const ent = tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), 1)));
          const kl = tf.mean(tf.sub(oldLogProbs, chosen));
          // Kept past the gradient tape's own tidy so the stats can be read after the update.
          parts.push(...[surrogate, valueError, ent, kl].map((t) => tf.keep(t as tf.Scalar)));
          return tf.sub(
            tf.add(surrogate, tf.mul(config.valueCoefficient, valueError)),
            tf.mul(config.entropyCoefficient, ent),
          ) as tf.Scalar;
        };
        const { grads } = tf.variableGrads(lossFn, policy.variables);
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]!))))).dataSync()[0]!;
        const scale = norm > config.maxGradientNorm ? config.maxGradientNorm / norm : 1;
        const scaled: tf.NamedTensorMap = {};
        for (const k of names) scaled[k] = tf.mul(grads[k]!, scale);
        optimizer.applyGradients(scaled);
        const values = parts.map((p) => p.dataSync()[0]!);
        tf.dispose(parts);
        return values;
      });
      policyLoss += stats[0]!;
      valueLoss += stats[1]!;
      entropy += stats[2]!;
      approxKl += stats[3]!;
      updates++;
    }
  }
  const per = Math.max(1, updates);
  return {
    meanReward: rollout.meanReward,
    policyLoss: policyLoss / per,
    valueLoss: valueLoss / per,
    entropy: entropy / per,
    approxKl: approxKl / per,
  };
}
