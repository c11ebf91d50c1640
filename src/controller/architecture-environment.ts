// The controller's environment in spaces that cannot be enumerated (FBNet): the same edit steps,
// observation layout and potential-based reward as environment.ts, but over architectures instead
// of dense cell codes. A problem gives the score the policy acts on (a cheap stand-in of the task
// score, stand-in.ts) and the latency of any architecture; the device descriptor is the latency of
// the probe architectures (every layer the same choice), computed by architecture.
import { penalizedScore } from '../search/objective.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Random } from '../util/random.js';
import {
  actionCount,
  actionOffsets,
  actionPosition,
  logRatio,
  observationSize,
  probeArchitectures,
  type EnvironmentOptions,
  type StepResult,
} from './environment.js';
import type { PolicyEnvironment } from './ppo.js';

/** What the policy searches on one device: a cheap score and a latency for any architecture. */
export interface PolicyProblem {
  readonly space: SearchSpace;
  /** In [0, 1], higher is better; called for every step, so it must be cheap. */
  score(architecture: Architecture): number;
  latencyMs(architecture: Architecture): number;
  readonly budgetMs: number;
}

export interface VisitedArchitecture {
  readonly architecture: Architecture;
  /** penalizedScore of the problem's score and latency. */
  readonly objective: number;
}

/** Called when an episode slot starts a new episode: the problem it will search. */
export type PolicyProblemSource = (slot: number) => PolicyProblem;

interface SlotState {
  problem: PolicyProblem;
  probes: Float32Array;
  architecture: number[];
  score: number;
  latencyMs: number;
  objective: number;
  step: number;
  bestFeasible: number;
}

export class ArchitectureEnvironment implements PolicyEnvironment {
  readonly episodes: number;
  readonly steps: number;
  readonly actionCount: number;
  readonly observationSize: number;
  private readonly offsets: number[];
  private readonly probes: Architecture[];
  private readonly rewardScale: number;
  private readonly slots: SlotState[] = [];
  /** Every architecture visited (by `space.key`), with its objective, in visiting order. */
  readonly visited = new Map<string, VisitedArchitecture>();

  constructor(
    private readonly space: SearchSpace,
    options: EnvironmentOptions & { readonly recordVisits?: boolean },
    private readonly nextProblem: PolicyProblemSource,
    private readonly random: Random,
  ) {
    this.actionCount = actionCount(space);
    this.observationSize = observationSize(space);
    this.offsets = actionOffsets(space);
    this.probes = probeArchitectures(space);
    this.episodes = options.episodes;
    this.steps = options.steps;
    this.rewardScale = options.rewardScale ?? 10;
    this.recordVisits = options.recordVisits ?? true;
    for (let slot = 0; slot < this.episodes; slot++) this.slots.push(this.startEpisode(slot));
  }

  private readonly recordVisits: boolean;

  observe(): Float32Array {
    const out = new Float32Array(this.episodes * this.observationSize);
    this.slots.forEach((state, slot) => {
      const base = slot * this.observationSize;
      state.architecture.forEach((choice, position) => (out[base + this.offsets[position]! + choice] = 1));
      let k = base + this.actionCount;
      out[k++] = state.score;
      out[k++] = logRatio(state.latencyMs, state.problem.budgetMs);
      out[k++] = state.latencyMs <= state.problem.budgetMs ? 1 : 0;
      out[k++] = state.bestFeasible;
      out.set(state.probes, k);
      k += this.probes.length;
      out[k] = state.step / this.steps;
    });
    return out;
  }

  /** Applies one action per slot: the action at offset[position] + choice sets that position. */
  step(actions: ArrayLike<number>): StepResult {
    const rewards = new Float32Array(this.episodes);
    const dones = new Uint8Array(this.episodes);
    for (let slot = 0; slot < this.episodes; slot++) {
      const state = this.slots[slot]!;
      const action = actions[slot]!;
      const position = actionPosition(this.offsets, action);
      const before = state.objective;
      state.architecture[position] = action - this.offsets[position]!;
      this.evaluate(state);
      rewards[slot] = (state.objective - before) * this.rewardScale;
      state.step++;
      if (state.step >= this.steps) {
        dones[slot] = 1;
        this.slots[slot] = this.startEpisode(slot);
      }
    }
    return { rewards, dones };
  }

  private startEpisode(slot: number): SlotState {
    const problem = this.nextProblem(slot);
    const state: SlotState = {
      problem,
      probes: Float32Array.from(this.probes, (a) => logRatio(problem.latencyMs(a), problem.budgetMs)),
      architecture: [...this.space.sample(this.random)],
      score: 0,
      latencyMs: 0,
      objective: 0,
      step: 0,
      bestFeasible: 0,
    };
    this.evaluate(state);
    return state;
  }

  private evaluate(state: SlotState): void {
    const { problem, architecture } = state;
    state.score = problem.score(architecture);
    state.latencyMs = problem.latencyMs(architecture);
    state.objective = penalizedScore(state.score, state.latencyMs, problem.budgetMs);
    if (state.latencyMs <= problem.budgetMs) state.bestFeasible = Math.max(state.bestFeasible, state.score);
    if (this.recordVisits) {
      const key = this.space.key(architecture);
      if (!this.visited.has(key)) {
        this.visited.set(key, { architecture: [...architecture], objective: state.objective });
      }
    }
  }
}
