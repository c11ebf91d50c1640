// Stage 2's search in a space that cannot be enumerated (FBNet: 9^22 architectures): the fitted
// latency model is asked architecture by architecture, and task scores are computed on demand (a
// network's forward pass each), so the strategy spends a budget of distinct task-score evaluations
// (src/search/architecture-search.ts). What it scored is numbered (src/spaces/numbering.ts) and
// handed on as the dense arrays verification, the front and the report speak, so everything after
// the search is the same code in every space.
import type { LatencyModel } from '../devices/latency-model.js';
import type { TaskScorer } from '../proxies/task-scorer.js';
import {
  runArchitectureStrategy,
  type AnyArchitectureStrategy,
  type ArchitecturePolicy,
  type ArchitectureProblem,
} from '../search/architecture-search.js';
import { penalizedScore } from '../search/objective.js';
import type { Evaluations } from '../search/strategies.js';
import type { Numbering } from '../spaces/numbering.js';
import type { Architecture } from '../spaces/space.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import type { Random } from '../util/random.js';
import { flooredPrediction, predictionFloor, predictNumbered } from './adapt.js';
import { checkBudget, CONSERVATIVE_Z, kneeTarget, type SearchBudget } from './problem.js';
import { EVOLUTION_POPULATION } from './strategy.js';
import type { AdaptedDevice } from './types.js';

/**
 * Without a budget the target is the knee of a front, and a front needs task scores across the
 * latency range: this share of the evaluations goes to a pilot spread from the fastest
 * architecture the model knows to typical random ones (random architectures alone crowd around the
 * middle of the range: a sum of 22 independent layer choices). Not tuned.
 */
export const KNEE_PILOT_SHARE = 0.25;

export interface ArchitectureSearchInputs {
  readonly numbering: Numbering;
  readonly dataset: string;
  readonly adapted: AdaptedDevice & { readonly model: LatencyModel };
  readonly budgetMs: number | undefined;
  /** Relative sd of a measurement not made yet (the knee's room for it). */
  readonly noise: number;
  readonly seed: number;
  readonly strategy: AnyArchitectureStrategy;
  /** The deployed controller, for the controller strategies. */
  readonly policy?: ArchitecturePolicy;
  readonly evaluations: number;
  readonly scorer: TaskScorer;
  readonly outDir?: string;
  readonly random: Random;
}

export interface ArchitectureSearchOutcome {
  /** Objective by architecture number, for everything scored. */
  readonly evaluations: Evaluations;
  /** Task score by architecture number (NaN where none was computed). */
  readonly scores: Float64Array;
  /** The adapted device with predictions for every numbered architecture. */
  readonly adapted: AdaptedDevice;
  readonly budget: SearchBudget;
}

export async function searchArchitectures(
  inputs: ArchitectureSearchInputs,
  logger: Logger,
): Promise<ArchitectureSearchOutcome> {
  const { numbering, adapted, scorer } = inputs;
  const { space } = numbering;
  const known = new Map<number, number>();
  // The samples' scores come first, beyond the strategy's evaluations.
  const progress = createProgress({
    label: 'task scores',
    total: adapted.samples.length + inputs.evaluations,
    logger,
  });
  const taskScores = async (architectures: readonly Architecture[]): Promise<number[]> => {
    const out: number[] = [];
    for (const architecture of architectures) {
      const score = await scorer.score(architecture);
      const number = numbering.numberOf(architecture);
      if (!known.has(number)) progress.tick(1, `${score.toFixed(3)}`);
      known.set(number, score);
      out.push(score);
    }
    return out;
  };
  const floorMs = predictionFloor(adapted.samples.map((sample) => sample.measuredMs));
  const predictedOf = (): AdaptedDevice['predicted'] =>
    flooredPrediction(
      predictNumbered(adapted.model, numbering, adapted.predicted),
      adapted.samples.map((sample) => [sample.code, sample.measuredMs] as const),
    );
  const conservativeMs = (architecture: Architecture): number => {
    const p = adapted.model.predict(architecture);
    return Math.max(p.meanMs, floorMs) + CONSERVATIVE_Z * p.stdMs;
  };
  // The samples' scores: the best certified sample competes with the verified candidates.
  const sampleArchitectures = adapted.samples.map((sample) => numbering.architectureOf(sample.code));
  await taskScores(sampleArchitectures);
  const fastest = fastestArchitecture(numbering, adapted.model);
  const arrays = (): { scores: Float64Array; adapted: AdaptedDevice } => ({
    scores: Float64Array.from({ length: numbering.size }, (_, n) => known.get(n) ?? Number.NaN),
    adapted: { ...adapted, predicted: predictedOf() },
  });

  let budget: SearchBudget;
  let evaluationsLeft = inputs.evaluations;
  if (inputs.budgetMs !== undefined) {
    checkBudget(numbering, arrays().adapted, inputs.budgetMs, inputs.outDir);
    budget = { ms: inputs.budgetMs, source: 'given' };
  } else {
    const pilot = Math.max(1, Math.round(KNEE_PILOT_SHARE * inputs.evaluations));
    // The strategy must still be able to start (evolution: its population) after the pilot.
    const needed = inputs.policy?.minimumEvaluations ?? EVOLUTION_POPULATION;
    const spent = Math.min(pilot, Math.max(1, inputs.evaluations - needed));
    await taskScores(spreadArchitectures(numbering, fastest, spent, inputs.random.child('knee-pilot')));
    evaluationsLeft = Math.max(1, inputs.evaluations - spent);
    const now = arrays();
    // Voted over the pilot's front, not over every architecture, this knee sets the target only:
    // the strategy then finds architectures that dominate it (FBNet here: a sample scoring 0.62
    // was the knee, and architectures scoring 0.78-0.91 were predicted faster), so the best
    // certified architecture is recommended, not the knee.
    const { kneeNumber: _pilotKnee, ...target } = kneeTarget(
      numbering,
      now.adapted,
      now.scores,
      inputs.noise,
      inputs.seed,
    );
    budget = target;
    logger.info(
      `no budget given: the knee of the front over ${spent} pilot and ${adapted.samples.length} sample ` +
        `architectures is at ${budget.kneeMs?.toPrecision(3)} ms predicted; searching for ${budget.ms} ms`,
    );
  }
  const problem: ArchitectureProblem = {
    space,
    taskScores,
    latencyMs: conservativeMs,
    budgetMs: budget.ms,
  };
  const scored = await runArchitectureStrategy(
    inputs.strategy,
    problem,
    { evaluations: evaluationsLeft, population: EVOLUTION_POPULATION },
    inputs.random.child(`strategy:${inputs.strategy}`),
    inputs.policy,
  );
  progress.done();
  // Everything scored competes for verification, samples and pilot included, on the final budget.
  for (const e of scored.values()) numbering.numberOf(e.architecture);
  const evaluations: Evaluations = new Map();
  for (const [number, score] of known) {
    evaluations.set(
      number,
      penalizedScore(score, conservativeMs(numbering.architectureOf(number)), budget.ms),
    );
  }
  return { evaluations, ...arrays(), budget };
}

/**
 * The fastest architecture the model predicts, as far as a cheap search finds it: the fastest
 * uniform architecture (every position the same choice), then the fastest single-position change
 * while one helps. What the budget check and the pilot's fast end stand on.
 */
export function fastestArchitecture(numbering: Numbering, model: LatencyModel): Architecture {
  const { space } = numbering;
  const widest = Math.max(...space.choices.map((choices) => choices.length));
  const meanOf = (a: Architecture): number => model.predict(a).meanMs;
  const uniform = (choice: number): Architecture =>
    space.choices.map((choices) => Math.min(choice, choices.length - 1));
  let best = uniform(0);
  let bestMs = meanOf(best);
  for (let choice = 1; choice < widest; choice++) {
    const ms = meanOf(uniform(choice));
    if (space.isUsable(uniform(choice)) && ms < bestMs) [best, bestMs] = [uniform(choice), ms];
  }
  for (let step = 0; step < space.positions; step++) {
    let improved = false;
    for (const neighbour of space.neighbours(best)) {
      const ms = meanOf(neighbour);
      if (ms < bestMs && space.isUsable(neighbour)) {
        [best, bestMs] = [neighbour, ms];
        improved = true;
      }
    }
    if (!improved) break;
  }
  numbering.numberOf(best);
  return best;
}

/**
 * `count` architectures from the fastest one to typical random ones: the i-th redraws each position
 * at random with probability (i + u) / count, else keeps the fastest architecture's choice.
 */
export function spreadArchitectures(
  numbering: Numbering,
  fastest: Architecture,
  count: number,
  random: Random,
): Architecture[] {
  const { space } = numbering;
  return Array.from({ length: count }, (_, i) => {
    const redraw = (i + random.next()) / count;
    return fastest.map((choice, position) =>
      random.next() < redraw ? random.int(space.choices[position]!.length) : choice,
    );
  });
}
