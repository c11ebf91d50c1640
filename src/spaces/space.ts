// The search-space interface: everything downstream of a space (measurement, device models,
// proxies, controller, search, reports) speaks of architectures through this and never names a
// space. Every space simnas knows is a fixed number of positions (NB201's edges, FBNet's and
// NAS-Bench-Macro's layers), each holding one of a few choices, so an architecture is one choice
// index per position; what the choices mean (the network, its cost, its latency features) is the
// space's own business.
import type { Graph } from '../onnx/graph.js';
import type { Logger } from '../util/log.js';
import type { Random } from '../util/random.js';
import type { Operator } from './operators.js';

/** One choice index per position, position 0 first. */
export type Architecture = readonly number[];

/** Params and MACs/FLOPs of the whole network, in millions, under the space's own convention. */
export interface NetworkCounts {
  readonly paramsM: number;
  readonly flopsM: number;
}

/** The ONNX network a device runs for one architecture. */
export interface SpaceNetwork {
  readonly bytes: Uint8Array;
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
}

/** The network before serialization: an editable graph and its input and output tensors. */
export interface SpaceGraph {
  readonly graph: Graph;
  readonly input: { readonly name: string; readonly dims: readonly number[] };
  readonly output: { readonly name: string; readonly dims: readonly number[] };
}

export interface NetworkRequest {
  /** One of the space's datasets (input setting). */
  readonly dataset: string;
  readonly batchSize: number;
  /** Seeds the weight initialisation. */
  readonly seed: number;
  /**
   * Keep every BatchNormalization as its own node, at its initial parameters, instead of folding it
   * into the convolution (what a proxy that normalises with batch statistics needs). Default false;
   * a space that never folds ignores it.
   */
  readonly unfoldedBatchNorm?: boolean;
  /**
   * Build every operation the published code runs, including those that add nothing to the output
   * (NB201's dead edges, its `none` as a multiplication by zero), instead of the deployed network.
   * Default false; a space without such operations ignores it.
   */
  readonly eager?: boolean;
}

/** One row of a human-readable description of an architecture (a layer, or an edge). */
export interface ArchitectureRow {
  readonly [column: string]: string | number;
}

/**
 * A well-known design of a space, measured beside a recommendation on the same runner so that a
 * user sees what the search bought.
 */
export interface ReferenceDesign {
  readonly name: string;
  /** The space's text form. */
  readonly architecture: string;
  /** Where its definition comes from. */
  readonly source: string;
}

/**
 * An architecture in the form the space's public model definition takes, so that a user can train
 * what simnas recommends: `definition` names the function or class, `config` is its argument.
 */
export interface PublicForm {
  readonly definition: string;
  readonly config: Readonly<Record<string, string | number | readonly number[]>>;
}

/** How a space's score table is opened: NASWOT's images (the user's folder, or synthetic ones). */
export interface ScoreTableOptions {
  readonly calibrationImages?: string;
  /** onnxruntime intra-op threads for what the table lacks (default 1). */
  readonly threads?: number;
  readonly logger?: Logger;
}

/**
 * A committed table of every architecture's task score (NB201's proxy table): the search ranks the
 * whole space at once instead of scoring architectures one by one.
 */
export interface ScoreTable {
  /** How the score is made, for reports. */
  readonly formula: string;
  /** Changes whenever the table's values could (its proxy algorithm). */
  readonly version: string;
  /** Distinct networks of the space (what computing the whole table costs). */
  readonly networks: number;
  /** One architecture's proxy values and task score; `fromTable` false when computed now. */
  lookup(
    architecture: Architecture,
    dataset: string,
  ): Promise<{
    readonly values: Readonly<Record<string, number>>;
    readonly taskScore: number;
    readonly fromTable: boolean;
  }>;
  /**
   * Every architecture's task score by code (NaN where the table lacks one, unless computeMissing);
   * `id` changes whenever any score could.
   */
  allScores(
    dataset: string,
    options: { readonly computeMissing: boolean },
  ): Promise<{ readonly scores: Float64Array; readonly id: string }>;
}

export interface SearchSpace {
  /** The `--space` name. */
  readonly id: string;
  /** Said to people: "NAS-Bench-201 topology", "FBNet (HW-NAS-Bench)". */
  readonly title: string;
  /** What reports call one architecture: "cell" (NB201), "architecture" (layered spaces). */
  readonly noun: string;
  /** The input settings networks can be built for; the first is the default. */
  readonly datasets: readonly string[];
  /** Number of positions (edges or layers). */
  readonly positions: number;
  /** The choice names at each position. */
  readonly choices: readonly (readonly string[])[];
  /** "edge 2<-1", "layer 5": how a message names a position. */
  positionLabel(position: number): string;
  /** Number of architectures (may exceed 2^53: then it is approximate). */
  readonly size: number;
  /** Whether every architecture can be scored (the fitted model searched exhaustively). */
  readonly enumerable: boolean;
  /**
   * Header of the architecture column in this space's latency tables (`arch_str` in NB201's,
   * `arch` in FBNet's and NAS-Bench-Macro's), so tables simnas records read like the published ones.
   */
  readonly archColumn: string;

  /** Parses the space's text form; a bad string throws a UsageError naming the position and what is accepted. */
  parse(text: string): Architecture;
  format(architecture: Architecture): string;
  /** A stable integer code (mixed radix, position 0 least significant); only for enumerable spaces. */
  code(architecture: Architecture): number;
  fromCode(code: number): Architecture;
  /** A stable string key for maps and caches, in every space. */
  key(architecture: Architecture): string;

  sample(random: Random): Architecture;
  /** Every architecture one position-change away. */
  neighbours(architecture: Architecture): Architecture[];
  /**
   * Whether the network computes something from its input (NB201 cells can be disconnected; a
   * disconnected one is never recommended or put on a front).
   */
  isUsable(architecture: Architecture): boolean;
  /**
   * The architecture a device actually runs: NB201 prunes dead edges, so distinct cells can be the
   * same network; elsewhere the identity. Measuring caches by this.
   */
  deployed(architecture: Architecture): Architecture;

  /** Params and FLOPs as the space's benchmark publishes them. */
  counts(architecture: Architecture, dataset: string): NetworkCounts;
  /** Well-known designs of the space (possibly none). */
  readonly references: readonly ReferenceDesign[];
  /** The architecture as the space's public model definition takes it (report.json, `simnas export`). */
  publicForm(architecture: Architecture, dataset: string): PublicForm;
  /** Rows for `simnas describe` and reports. */
  describe(architecture: Architecture, dataset: string): ArchitectureRow[];
  network(architecture: Architecture, request: NetworkRequest): SpaceNetwork;
  /** The same network as an editable graph (what `network` serializes); benchmarks time the two apart. */
  networkGraph(architecture: Architecture, request: NetworkRequest): SpaceGraph;
  /**
   * The primitive operators the network's searchable part runs, for spaces built of layers: what
   * synthetic devices for layered networks price. Absent where a space has its own device model.
   */
  operators?(architecture: Architecture, dataset: string): Operator[];
  /**
   * Opens the space's committed score table (loaded on first use); absent where every task score
   * is computed on demand, a network's forward pass each.
   */
  openScoreTable?(options: ScoreTableOptions): Promise<ScoreTable>;
}
