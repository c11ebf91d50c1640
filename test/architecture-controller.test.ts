// The controller where architectures cannot be enumerated (FBNet): its environment (edit steps,
// observation layout, potential-based reward), the ridge stand-in of the task score, deployment
// under a budget of distinct real evaluations, a few PPO iterations of pretraining on synthetic
// layered devices, and the artifact's refusals (another space, no stand-in).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ArchitectureEnvironment, type PolicyProblem } from '../src/controller/architecture-environment.js';
import { layeredTask } from '../src/controller/architecture-pretrain.js';
import {
  ARCHITECTURE_CONTROLLER_EPISODES,
  DEPLOYMENT_BATCH,
  architecturePolicy,
  deployArchitectureController,
  loadArchitectureController,
  untrainedArchitectureController,
  type ArchitectureController,
} from '../src/controller/architecture-rollout.js';
import { runCli } from '../src/cli/program.js';
import { actionCount, observationSize } from '../src/controller/environment.js';
import { ActorCritic } from '../src/controller/policy.js';
import { policyShapeFor, pretrainFor, type PretrainSettings } from '../src/controller/pretrain.js';
import { LAYERED_PRIOR_HASH, PRIOR_HASH, priorHashFor } from '../src/controller/prior.js';
import { fitStandIn, type LinearStandIn } from '../src/controller/stand-in.js';
import { initTensorflow } from '../src/controller/tf.js';
import {
  runArchitectureStrategy,
  topArchitectures,
  type ArchitectureProblem,
} from '../src/search/architecture-search.js';
import { penalizedScore } from '../src/search/objective.js';
import { spaceById } from '../src/spaces/index.js';
import type { Architecture } from '../src/spaces/space.js';
import { silentLogger } from '../src/util/log.js';
import { Random } from '../src/util/random.js';
import { spearman } from '../src/util/stats.js';
import { capture } from './support/capture.js';

const fbnet = spaceById('fbnet');

/** A separable landscape on FBNet: per-layer choice values (score) and costs (latency), seeded. */
function landscape(seed = 5) {
  const random = new Random(seed);
  const value = fbnet.choices.map((names) => names.map(() => random.next()));
  const cost = fbnet.choices.map((names) => names.map(() => 0.5 + random.next()));
  const score = (a: Architecture): number => a.reduce((sum, c, p) => sum + value[p]![c]!, 0) / a.length;
  const latencyMs = (a: Architecture): number => a.reduce((sum, c, p) => sum + cost[p]![c]!, 0);
  return { score, latencyMs };
}

/** A stand-in fitted to the landscape's scores of 300 random architectures. */
function fittedStandIn(score: (a: Architecture) => number): LinearStandIn {
  const random = new Random(3);
  const architectures = Array.from({ length: 300 }, () => fbnet.sample(random));
  return fitStandIn(fbnet, architectures, architectures.map(score), 'synthetic landscape');
}

describe('architecture environment', () => {
  it('edits one layer per step, observes by architecture and rewards the change in objective', () => {
    const { score, latencyMs } = landscape();
    const problem: PolicyProblem = { space: fbnet, score, latencyMs, budgetMs: 22 };
    const env = new ArchitectureEnvironment(fbnet, { episodes: 2, steps: 3 }, () => problem, new Random(1));
    expect(env.actionCount).toBe(22 * 9);
    expect(env.observationSize).toBe(observationSize(fbnet));
    const obs = env.observe();
    // One-hot per layer: 22 ones in each slot's first actionCount entries.
    const oneHot = obs.subarray(0, actionCount(fbnet));
    expect(oneHot.reduce((a, b) => a + b, 0)).toBe(22);
    const [first] = [...env.visited.values()];
    expect(obs[actionCount(fbnet)]).toBeCloseTo(score(first!.architecture), 6);
    // Action 9 * 4 + 7: layer 4 takes choice 7.
    const { rewards, dones } = env.step([9 * 4 + 7, 0]);
    const [, , edited] = [...env.visited.values()];
    expect(edited!.architecture[4]).toBe(7);
    expect(edited!.architecture.filter((c, p) => c !== first!.architecture[p]).length).toBeLessThanOrEqual(1);
    const objective = (a: Architecture): number => penalizedScore(score(a), latencyMs(a), 22);
    expect(rewards[0]).toBeCloseTo(
      10 * (objective(edited!.architecture) - objective(first!.architecture)),
      4,
    );
    expect([...dones]).toEqual([0, 0]);
    env.step([0, 0]);
    expect([...env.step([0, 0]).dones]).toEqual([1, 1]);
  });
});

describe('stand-in of the task score', () => {
  it('ranks an additive score like the score on architectures it was not fitted on', () => {
    const { score } = landscape();
    const standIn = fittedStandIn(score);
    const random = new Random(99);
    const unseen = Array.from({ length: 200 }, () => fbnet.sample(random));
    expect(
      spearman(
        unseen.map((a) => standIn.score(a)),
        unseen.map(score),
      ),
    ).toBeGreaterThan(0.99);
    expect(standIn.id).toMatch(/^ridge-one-hot\/[0-9a-f]{12}$/);
    expect(standIn.record.weights).toHaveLength(1 + 22 * 9);
  });
});

describe('controller deployment over architectures', () => {
  const { score, latencyMs } = landscape();
  const standIn = fittedStandIn(score);
  const budgetMs = 22;
  const asked: string[][] = [];
  const problem: ArchitectureProblem = {
    space: fbnet,
    budgetMs,
    latencyMs,
    taskScores: (architectures) => {
      asked.push(architectures.map((a) => fbnet.key(a)));
      return Promise.resolve(architectures.map(score));
    },
  };
  const controller = (seed: number): ArchitectureController => ({
    policy: new ActorCritic(policyShapeFor(fbnet, [16]), new Random(seed)),
    stepsPerEpisode: 6,
    standIn,
  });

  it('spends exactly its budget of distinct evaluations, the first on its best proposals', async () => {
    await initTensorflow('cpu');
    asked.length = 0;
    const found = await deployArchitectureController(
      problem,
      controller(0),
      { evaluations: 40 },
      new Random(2),
    );
    expect(found.size).toBe(40);
    expect(new Set(asked.flat()).size).toBe(40);
    expect(asked.flat()).toHaveLength(40);
    expect(Math.max(...asked.map((b) => b.length))).toBeLessThanOrEqual(DEPLOYMENT_BATCH);
    // The first 20 (PROPOSAL_SHARE) are proposals ranked by the stand-in's objective.
    const guesses = asked
      .flat()
      .slice(0, 20)
      .map((key) => {
        const a = found.get(key)!.architecture;
        return penalizedScore(standIn.score(a), latencyMs(a), budgetMs);
      });
    expect(guesses).toEqual([...guesses].sort((a, b) => b - a));
  });

  it('is deterministic under a seed, and its refinement climbs past the proposals', async () => {
    await initTensorflow('cpu');
    const run = async (seed: number) => [
      ...(
        await runArchitectureStrategy(
          'controller',
          problem,
          { evaluations: 60 },
          new Random(seed),
          architecturePolicy(controller(0)),
        )
      ).keys(),
    ];
    expect(await run(4)).toEqual(await run(4));
    expect(await run(4)).not.toEqual(await run(5));
    const found = await deployArchitectureController(
      problem,
      controller(0),
      { evaluations: 120 },
      new Random(4),
    );
    const order = [...found.values()];
    const bestProposal = Math.max(...order.slice(0, 60).map((e) => e.objective));
    expect(topArchitectures(found, 1)[0]!.objective).toBeGreaterThan(bestProposal);
    expect(ARCHITECTURE_CONTROLLER_EPISODES).toBe(64);
  });

  it('needs a policy to run the controller strategies', async () => {
    await expect(
      runArchitectureStrategy('controller-untrained', problem, { evaluations: 10 }, new Random(1)),
    ).rejects.toThrow(/needs a policy/);
  });

  it('deploys the untrained twin with the same stand-in and episode length, seeded', () => {
    const twin = untrainedArchitectureController(controller(0), 7);
    expect(twin.standIn).toBe(standIn);
    expect(twin.stepsPerEpisode).toBe(6);
    const again = untrainedArchitectureController(controller(1), 7);
    expect(twin.policy.getWeights()[0]!.values).toEqual(again.policy.getWeights()[0]!.values);
  });
});

describe('pretraining on synthetic layered devices', () => {
  it('starts its curve with the untrained policy deployed, and records space, prior and stand-in', async () => {
    await initTensorflow('cpu');
    const { score } = landscape(8);
    const standIn = fittedStandIn(score);
    const outDir = mkdtempSync(path.join(tmpdir(), 'simnas-layered-pretrain-'));
    const settings: PretrainSettings = {
      dataset: 'cifar100',
      timesteps: 2 * 16 * 8,
      seed: 3,
      episodes: 16,
      stepsPerEpisode: 8,
      hidden: [16],
      learningRate: 1e-3,
      budgetQuantiles: [0.2, 0.8],
      checkpointEvery: 1,
      evaluateEvery: 2,
    };
    const result = await pretrainFor(settings, layeredTask(fbnet, 'cifar100', standIn), {
      outDir,
      logger: silentLogger,
    });
    expect(result.curve.map((p) => p.iteration)).toEqual([0, 1, 2]);
    expect(result.curve[0]!.evaluationRegret).toBeTypeOf('number');
    expect(result.curve[0]!.proposalRegret).toBeGreaterThanOrEqual(result.curve[0]!.evaluationRegret! - 1e-9);
    expect(result.curve[2]!.evaluationRegret).toBeTypeOf('number');
    const { metadata } = result.artifact;
    expect(metadata.searchSpace).toBe('fbnet');
    expect(metadata.priorHash).toBe(LAYERED_PRIOR_HASH);
    expect(metadata.taskScoreId).toBe(standIn.id);
    expect(metadata.standIn?.weights).toEqual(standIn.record.weights);
    expect(metadata.training.seed).toBe(3);

    const loaded = loadArchitectureController(result.artifactPath, fbnet, 'cifar100');
    expect(loaded.standIn.id).toBe(standIn.id);
    expect(loaded.stepsPerEpisode).toBe(8);
    expect(() => loadArchitectureController(result.artifactPath, fbnet, 'imagenet')).toThrow(
      /dataset 'cifar100', the search asks for 'imagenet'.*simnas pretrain --space fbnet --dataset imagenet/,
    );
    expect(() => loadArchitectureController(result.artifactPath, spaceById('macro'), 'cifar10')).toThrow(
      /search space 'fbnet', the search runs in 'macro'/,
    );
  }, 120_000);

  it('simnas pretrain --space fbnet refuses a dataset of another space before any work', async () => {
    const stderr = capture(process.stderr);
    expect(await runCli(['node', 'simnas', 'pretrain', '--space', 'fbnet', '--dataset', 'cifar10'])).toBe(2);
    expect(stderr()).toMatch(
      /--dataset: 'cifar10' is not a dataset of the fbnet space; expected one of cifar100, imagenet/,
    );
  });

  it('refuses an NB201 controller for FBNet, naming the space it was pretrained for', () => {
    expect(priorHashFor(fbnet)).toBe(LAYERED_PRIOR_HASH);
    expect(priorHashFor(spaceById('nb201'))).toBe(PRIOR_HASH);
    expect(() => loadArchitectureController('controllers/cifar100.json', fbnet, 'cifar100')).toThrow(
      /search space 'nas-bench-201-topology', the search runs in 'fbnet'/,
    );
  });
});
