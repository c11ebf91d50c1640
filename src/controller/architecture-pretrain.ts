// Stage 1 for spaces that cannot be enumerated (FBNet): the controller is pretrained with PPO on
// synthetic devices for layered networks (layered-synthetic.ts), a fresh device and budget per
// episode as in NB201, acting on the stand-in of the task score (stand-in.ts), which is fitted
// first to real task scores of seeded random architectures and checked on others. The curve's
// evaluation deploys the policy as the search does (architecture-rollout.ts), on held-out
// synthetic devices with the stand-in as the score, against a long evolution's best there.
import { layerTable, layeredLatency, sampleLayeredDevice } from '../devices/layered-synthetic.js';
import type { TaskScorer } from '../proxies/task-scorer.js';
import { evolutionArchitectureSearch, type ArchitectureProblem } from '../search/architecture-search.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { quantile, spearman } from '../util/stats.js';
import { ArchitectureEnvironment, type PolicyProblem } from './architecture-environment.js';
import {
  ARCHITECTURE_CONTROLLER_EPISODES,
  deployArchitectureController,
  proposeArchitectures,
} from './architecture-rollout.js';
import { LAYERED_PRIOR_HASH } from './prior.js';
import {
  pretrainFor,
  type PretrainOptions,
  type PretrainResult,
  type PretrainSettings,
  type PretrainTask,
} from './pretrain.js';
import { fitStandIn, LinearStandIn } from './stand-in.js';

/**
 * Defaults of the bundled FBNet controller: NB201's, with episodes of 32 edits (22 layers). 140
 * iterations (573,440 steps) took 25.5 minutes on this shared 2-core machine (3.5-16 s per iteration
 * as the load varied); the run was set for 240 and stopped at 140 to stay within the issue's 30
 * minutes, so the default is where it stopped (the same settings reproduce it bit for bit). On the
 * 8 held-out synthetic devices the policy's own best proposal (curve.csv's proposalRegret) fell from
 * 0.135 task-score units below the reference untrained to 0.006, while the whole deployment's regret
 * (proposals plus the stand-in-guided climb) was about 0 from the start.
 */
export const DEFAULT_LAYERED_PRETRAIN: Omit<PretrainSettings, 'dataset'> = {
  timesteps: 573_440,
  seed: 0,
  episodes: 128,
  stepsPerEpisode: 32,
  hidden: [64, 64],
  learningRate: 1e-3,
  budgetQuantiles: [0.02, 0.98],
  checkpointEvery: 10,
  evaluateEvery: 10,
};

/** Random architectures each synthetic device's budget is a latency quantile of. */
const BUDGET_SAMPLE = 200;
/** The curve's evaluation: held-out devices, evaluations per deployment (the benchmark's default). */
const EVALUATION_PROBLEMS = 8;
const EVALUATION_BUDGET = 100;
/** The reference optimum of a held-out problem: evolution with this many stand-in evaluations. */
const REFERENCE_EVALUATIONS = 5_000;

/** One synthetic device for layered networks and a budget at a random quantile of its latencies. */
export function syntheticLayeredProblem(
  space: SearchSpace,
  dataset: string,
  score: (architecture: Architecture) => number,
  quantiles: readonly [number, number],
  random: Random,
): PolicyProblem {
  const table = layerTable(space, dataset);
  const device = sampleLayeredDevice(random.child('device'), table);
  const latencyMs = (architecture: Architecture): number => layeredLatency(device, table, architecture);
  const sampler = random.child('budget-sample');
  const latencies = Array.from({ length: BUDGET_SAMPLE }, () => latencyMs(space.sample(sampler)));
  const q = quantiles[0] + (quantiles[1] - quantiles[0]) * random.child('budget').next();
  return { space, score, latencyMs, budgetMs: quantile(latencies, q) };
}

/** Pretraining on synthetic layered devices with the stand-in as the score. */
export function layeredTask(space: SearchSpace, dataset: string, standIn: LinearStandIn): PretrainTask {
  const score = (architecture: Architecture): number => standIn.score(architecture);
  return {
    space,
    taskScoreId: standIn.id,
    priorHash: LAYERED_PRIOR_HASH,
    standIn: standIn.record,
    environment: (settings, random) =>
      new ArchitectureEnvironment(
        space,
        { episodes: settings.episodes, steps: settings.stepsPerEpisode, recordVisits: false },
        (slot) =>
          syntheticLayeredProblem(
            space,
            dataset,
            score,
            settings.budgetQuantiles,
            random.child(`slot-${slot}`),
          ),
        random.child('starts'),
      ),
    evaluator: (settings, root) => {
      const problems: ArchitectureProblem[] = Array.from({ length: EVALUATION_PROBLEMS }, (_, k) => {
        const problem = syntheticLayeredProblem(
          space,
          dataset,
          score,
          settings.budgetQuantiles,
          root.child(`evaluation-${k}`),
        );
        return {
          space,
          budgetMs: problem.budgetMs,
          latencyMs: problem.latencyMs,
          taskScores: (architectures) => Promise.resolve(architectures.map(score)),
        };
      });
      let references: number[] | undefined;
      return async (policy) => {
        references ??= await Promise.all(
          problems.map(async (problem, k) => {
            const found = await evolutionArchitectureSearch(
              problem,
              { evaluations: REFERENCE_EVALUATIONS },
              root.child(`evaluation-reference-${k}`),
            );
            return Math.max(...[...found.values()].map((e) => e.objective));
          }),
        );
        let total = 0;
        let proposals = 0;
        for (const [k, problem] of problems.entries()) {
          const random = root.child(`evaluation-rollout-${k}`);
          const found = await deployArchitectureController(
            problem,
            { policy, stepsPerEpisode: settings.stepsPerEpisode, standIn },
            { evaluations: EVALUATION_BUDGET },
            random,
          );
          total += references[k]! - Math.max(...[...found.values()].map((e) => e.objective));
          // The same episodes as the deployment's (same stream): the policy's own best proposal.
          const visited = proposeArchitectures(
            { ...problem, score },
            policy,
            { episodes: ARCHITECTURE_CONTROLLER_EPISODES, steps: settings.stepsPerEpisode },
            random,
          );
          proposals += references[k]! - Math.max(...[...visited.values()].map((v) => v.objective));
        }
        return {
          evaluationRegret: total / problems.length,
          proposalRegret: proposals / problems.length,
        };
      };
    },
  };
}

/** How the stand-in was fitted and how well it ranks like the real score where it was not fitted. */
export interface StandInFit {
  readonly standIn: LinearStandIn;
  readonly fitted: number;
  readonly heldOut: number;
  /** Spearman of the stand-in with the real score on the held-out architectures. */
  readonly heldOutSpearman: number;
  /** The same on the fitted ones (how much the fit flatters itself). */
  readonly fittedSpearman: number;
}

/**
 * Architectures the stand-in is fitted on and checked on: the first `fit`, then `heldOut` further
 * draws of two seeded streams. The fitted ones are the draws of random search at seed 0 in the
 * search benchmark (its 'strategy:random' stream), the held-out ones those of seed 1, so a
 * benchmark's task-score cache already holds them; any uniform sample would do.
 */
export const STAND_IN_SAMPLES = { fit: 200, heldOut: 100 } as const;

export async function fitLayeredStandIn(
  scorer: TaskScorer,
  logger: Logger,
  sizes: { readonly fit: number; readonly heldOut: number } = STAND_IN_SAMPLES,
): Promise<StandInFit> {
  const { space } = scorer;
  const draw = (seed: number, count: number): Architecture[] => {
    const random = new Random(seed).child('strategy:random');
    return Array.from({ length: count }, () => space.sample(random));
  };
  const fitOn = draw(0, sizes.fit);
  const fitKeys = new Set(fitOn.map((a) => space.key(a)));
  const heldOut = draw(1, sizes.heldOut).filter((a) => !fitKeys.has(space.key(a)));
  const progress = createProgress({
    label: 'stand-in task scores',
    total: fitOn.length + heldOut.length,
    logger,
  });
  const scoresOf = async (architectures: readonly Architecture[]): Promise<number[]> => {
    const out: number[] = [];
    for (const architecture of architectures) {
      out.push(await scorer.score(architecture));
      progress.tick();
    }
    return out;
  };
  const fitScores = await scoresOf(fitOn);
  const heldOutScores = await scoresOf(heldOut);
  progress.done();
  const fitted = fitStandIn(space, fitOn, fitScores, scorer.id);
  const heldOutSpearman = spearman(
    heldOut.map((a) => fitted.score(a)),
    heldOutScores,
  );
  const standIn = new LinearStandIn(space, { ...fitted.record, heldOutSpearman, heldOut: heldOut.length });
  return {
    standIn,
    fitted: fitOn.length,
    heldOut: heldOut.length,
    heldOutSpearman,
    fittedSpearman: spearman(
      fitOn.map((a) => fitted.score(a)),
      fitScores,
    ),
  };
}

/**
 * `simnas pretrain --space fbnet`: fits the stand-in to real task scores (computed or read from the
 * task-score cache), then pretrains on synthetic layered devices.
 */
export async function pretrainLayeredController(
  settings: PretrainSettings,
  scorer: TaskScorer,
  options: PretrainOptions,
): Promise<PretrainResult & { readonly standInFit: StandInFit }> {
  const fit = await fitLayeredStandIn(scorer, options.logger);
  options.logger.info(
    `stand-in ${fit.standIn.id} (ridge ${fit.standIn.record.ridge} on ${fit.fitted} real task scores of ` +
      `${scorer.id}): Spearman ${fit.heldOutSpearman.toFixed(3)} with the real score on ${fit.heldOut} ` +
      `architectures it was not fitted on (${fit.fittedSpearman.toFixed(3)} on those it was)`,
  );
  const result = await pretrainFor(settings, layeredTask(scorer.space, scorer.dataset, fit.standIn), options);
  return { ...result, standInFit: fit };
}
