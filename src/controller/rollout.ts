// Running a trained controller on one device's search problem: many short episodes from random
// starting cells, every visited cell recorded with its objective. The caller (the search) picks
// the best visited cells and verifies them; the controller only proposes.
import type { Random } from '../util/random.js';
import type { SearchProblem } from '../search/objective.js';
import { SearchEnvironment } from './environment.js';
import type { ActorCritic } from './policy.js';
import { sampleActions } from './ppo.js';
import { tf } from './tf.js';

export interface RolloutOptions {
  readonly episodes: number;
  readonly steps: number;
}

/** Returns every cell the controller visited on `problem`, mapped to its objective value. */
export function proposeCells(
  problem: SearchProblem,
  policy: ActorCritic,
  options: RolloutOptions,
  random: Random,
): Map<number, number> {
  const env = new SearchEnvironment(
    problem.space,
    { episodes: options.episodes, steps: options.steps },
    () => problem,
    random.child('starts'),
  );
  const actionRandom = random.child('actions');
  for (let t = 0; t < options.steps; t++) {
    const obs = env.observe();
    const logits = tf.tidy(
      () =>
        policy.logits(tf.tensor2d(obs, [options.episodes, env.observationSize])).dataSync() as Float32Array,
    );
    env.step(sampleActions(logits, options.episodes, actionRandom).actions);
  }
  return env.visited;
}
