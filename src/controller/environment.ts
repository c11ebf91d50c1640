// The search environment the controller acts in, vectorized over many episodes at once. One step
// edits one position of the current architecture (an NB201 edge, a layer; the reference's
// edit-based design). The policy sees the architecture (one-hot per position), its task score and
// latency relative to the budget, the best feasible score found so far, and a device descriptor
// (the latency of probe architectures relative to the budget), which is how one controller tells
// devices and budgets apart. Rewards are potential-based: the change in the objective, so an
// episode's return is how much better its final architecture is than its first.
import type { Random } from '../util/random.js';
import { objective, type SearchProblem } from '../search/objective.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';

/** The policy's output width: one action per (position, choice), position-major. */
export function actionCount(space: SearchSpace): number {
  return space.choices.reduce((sum, choices) => sum + choices.length, 0);
}

/** Where each position's actions start in the action vector. */
export function actionOffsets(space: SearchSpace): number[] {
  return space.choices.map((_, p) =>
    space.choices.slice(0, p).reduce((sum, choices) => sum + choices.length, 0),
  );
}

/** The position an action edits (offsets from actionOffsets). */
export function actionPosition(offsets: readonly number[], action: number): number {
  let position = offsets.length - 1;
  while (offsets[position]! > action) position--;
  return position;
}

/**
 * Architectures whose every position holds the same choice index (clamped to the position's own
 * choices): cheap, model-agnostic probes of a device.
 */
export function probeArchitectures(space: SearchSpace): Architecture[] {
  const widest = Math.max(...space.choices.map((choices) => choices.length));
  return Array.from({ length: widest }, (_, choice) =>
    space.choices.map((choices) => Math.min(choice, choices.length - 1)),
  );
}

export function probeCodes(space: SearchSpace): number[] {
  return probeArchitectures(space).map((architecture) => space.code(architecture));
}

export function observationSize(space: SearchSpace): number {
  return actionCount(space) + 4 + probeArchitectures(space).length + 1;
}

/** log2 of a latency ratio, clipped to [-4, 4] and scaled to [-1, 1]. */
export function logRatio(latency: number, budget: number): number {
  return Math.max(-4, Math.min(4, Math.log2(Math.max(latency, 1e-9) / budget))) / 4;
}

export interface EnvironmentOptions {
  /** Parallel episodes. */
  readonly episodes: number;
  /** Edits per episode. */
  readonly steps: number;
  /** Reward scale: objective differences are small, and PPO prefers rewards of order one. */
  readonly rewardScale?: number;
}

export interface StepResult {
  readonly rewards: Float32Array;
  /** 1 where the episode ended with this step (the next observation starts a new one). */
  readonly dones: Uint8Array;
}

/** Called when an episode slot starts a new episode: the problem it will search. */
export type ProblemSource = (slot: number) => SearchProblem;

export class SearchEnvironment {
  readonly episodes: number;
  readonly steps: number;
  readonly actionCount: number;
  readonly observationSize: number;
  /** Where each position's actions start in the action vector. */
  private readonly offsets: number[];
  private readonly probeCodes: number[];
  private readonly rewardScale: number;
  private readonly problems: SearchProblem[];
  private readonly probes: Float32Array[];
  private readonly codes: Int32Array;
  private readonly stepIndex: Int32Array;
  private readonly bestFeasible: Float64Array;
  /** Every cell visited, with its objective, for the caller to pick from. */
  readonly visited = new Map<number, number>();

  constructor(
    private readonly space: SearchSpace,
    options: EnvironmentOptions,
    private readonly nextProblem: ProblemSource,
    private readonly random: Random,
  ) {
    this.actionCount = actionCount(space);
    this.observationSize = observationSize(space);
    this.offsets = actionOffsets(space);
    this.probeCodes = probeCodes(space);
    this.episodes = options.episodes;
    this.steps = options.steps;
    this.rewardScale = options.rewardScale ?? 10;
    this.problems = new Array<SearchProblem>(this.episodes);
    this.probes = new Array<Float32Array>(this.episodes);
    this.codes = new Int32Array(this.episodes);
    this.stepIndex = new Int32Array(this.episodes);
    this.bestFeasible = new Float64Array(this.episodes);
    for (let slot = 0; slot < this.episodes; slot++) this.startEpisode(slot);
  }

  /** The current cell code of every episode slot. */
  currentCodes(): Int32Array {
    return this.codes;
  }

  observe(): Float32Array {
    const out = new Float32Array(this.episodes * this.observationSize);
    for (let slot = 0; slot < this.episodes; slot++) {
      const base = slot * this.observationSize;
      const problem = this.problems[slot]!;
      const code = this.codes[slot]!;
      const architecture = this.space.fromCode(code);
      architecture.forEach((choice, position) => (out[base + this.offsets[position]! + choice] = 1));
      let k = base + this.actionCount;
      const latency = problem.latencyMs[code]!;
      out[k++] = problem.taskScore[code]!;
      out[k++] = logRatio(latency, problem.budgetMs);
      out[k++] = latency <= problem.budgetMs ? 1 : 0;
      out[k++] = this.bestFeasible[slot]!;
      out.set(this.probes[slot]!, k);
      k += this.probeCodes.length;
      out[k] = this.stepIndex[slot]! / this.steps;
    }
    return out;
  }

  /** Applies one action per slot: the action at offset[position] + choice sets that position. */
  step(actions: ArrayLike<number>): StepResult {
    const rewards = new Float32Array(this.episodes);
    const dones = new Uint8Array(this.episodes);
    for (let slot = 0; slot < this.episodes; slot++) {
      const action = actions[slot]!;
      const position = actionPosition(this.offsets, action);
      const problem = this.problems[slot]!;
      const before = this.codes[slot]!;
      const architecture = [...this.space.fromCode(before)];
      architecture[position] = action - this.offsets[position]!;
      const after = this.space.code(architecture);
      const gain = this.record(slot, after) - objective(problem, before);
      rewards[slot] = gain * this.rewardScale;
      this.codes[slot] = after;
      this.stepIndex[slot]!++;
      if (this.stepIndex[slot]! >= this.steps) {
        dones[slot] = 1;
        this.startEpisode(slot);
      }
    }
    return { rewards, dones };
  }

  private startEpisode(slot: number): void {
    const problem = this.nextProblem(slot);
    this.problems[slot] = problem;
    this.probes[slot] = Float32Array.from(this.probeCodes, (code) =>
      logRatio(problem.latencyMs[code]!, problem.budgetMs),
    );
    this.stepIndex[slot] = 0;
    this.bestFeasible[slot] = 0;
    this.codes[slot] = this.random.int(problem.taskScore.length);
    this.record(slot, this.codes[slot]);
  }

  private record(slot: number, code: number): number {
    const problem = this.problems[slot]!;
    const value = objective(problem, code);
    if (problem.latencyMs[code]! <= problem.budgetMs) {
      this.bestFeasible[slot] = Math.max(this.bestFeasible[slot]!, problem.taskScore[code]!);
    }
    this.visited.set(code, value);
    return value;
  }
}
