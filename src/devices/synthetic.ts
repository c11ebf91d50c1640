// Synthetic devices: the prior over latency behaviour that the controller is pretrained on and that
// the latency model learns its weight prior from (domain randomization). A device is a handful of
// physical parameters (kernel launch cost, compute rate and memory bandwidth per stage through a
// roofline, per-op kernel efficiency, an execution mode saying which dead edges still run) plus
// non-additive effects (edge position and per-node add costs on "irregular" devices, pairwise
// interactions between edges, conv-chain fusion, producer-side fusion of an op into the kernel that
// wrote its source node, node write costs, per-cell measurement noise and rare outliers).
// Drawing one costs ~300 random numbers; its 15,625 latencies are computed on demand (a few ms).
//
// How the hyperparameters were chosen: by studying the public per-cell tables of 22 device columns
// (HELP GPUs/CPUs/phones at several batch sizes, HW-NAS-Bench edge GPU, Edge TPU, Pixel 3, Eyeriss,
// FPGA) and the per-op profiles in nats_blocks.json, with throw-away scripts outside the repo. We
// fitted each table with the latency model's features and read off (a) the spread of conv3x3 :
// conv1x1 : pool : skip : none costs (conv1x1 from 1/6 of a conv3x3 on CPUs to equal on launch-bound
// GPUs; pooling from ~free to as costly as a conv3x3 on Eyeriss; skip and none from free to ~0.3 of
// a conv), which a roofline with a log-uniform ridge point and launch cost reproduces once conv1x1
// and pooling get their own log-uniform efficiency ranges; (b) which edges run: HELP devices,
// Eyeriss and the FPGA compute every edge; the edge GPU and Pixel 3 fit best when edges that do not
// feed the output are dropped but edges fed only zeros still run (output-driven dead-code
// elimination); the Edge TPU keeps only live edges; hence four modes with the probabilities below;
// (c) node additions: free at node 2 but ~2 convs at node 3 on the edge GPU, which needs per-node add
// costs and op-independent per-edge costs; GPUs and CPUs show no position effects at all, hence
// the regular/irregular split; (d) residual non-additivity relative to the squared latencies:
// ~5e-4..3e-3 on GPUs, 1e-3..1e-2 on CPUs, 1e-2..2e-2 on phones and Pixel 3, ~0 on Eyeriss/FPGA,
// which sets the log-uniform ranges of the pairwise and noise scales. Every check was a Mahalanobis
// distance of each table's fitted weights under the bank's per-mode Gaussian, and the benchmark's
// "prior pct" column shows where each real device falls. Ranges were left wider than the tables
// need, because seven devices are held back for evaluation.
import {
  type Cell,
  decodeCell,
  EDGES,
  encodeCell,
  liveEdges,
  NUM_EDGES,
  NUM_OPS,
  OP_CONV1X1,
  OP_CONV3X3,
  OP_NONE,
  SPACE_SIZE,
} from '../spaces/nb201/cell.js';
import { DATASET_SHAPES, type Dataset } from '../spaces/nb201/datasets.js';
import type { Random } from '../util/random.js';
import type { Device, Measurement } from './device.js';
import { structureCounts, usedEdges } from './features.js';

/** The prior's hyperparameters; see the module comment for how they were chosen. */
export const PRIOR_HYPERPARAMETERS = {
  /** Launch cost of one kernel relative to a 16-channel conv1x1's compute time at 32x32 input. */
  launchRatio: [0.01, 30] as const,
  /** Ridge point: memory time of one activation pass relative to conv1x1 compute (stage 1). */
  memoryRatio: [0.02, 5] as const,
  /** Kernels per ReLU-Conv-BN block: 1 (fused) to 3. */
  kernelsPerConv: [1, 3] as const,
  /** Log-normal sd of per-op kernel efficiency (how far a device's kernels are from its roofline). */
  efficiencySd: 0.35,
  /** conv1x1 : conv3x3 compute, log-uniform (FLOPs say 1/9; launch-bound GPUs show ~1). */
  conv1ToConv3: [0.08, 1.1] as const,
  /** avg_pool : conv3x3 compute, log-uniform (CPUs ~0.03; Eyeriss runs pooling like a conv). */
  poolToConv3: [0.01, 1.1] as const,
  /** Kernels per node addition (elementwise add, plus a sync or copy on some runtimes). */
  kernelsPerAdd: [0.3, 4] as const,
  /**
   * Execution modes: computes every edge (HELP GPUs/CPUs/phones, Eyeriss, FPGA), drops edges that
   * do not feed the output (edge GPU, Pixel 3), keeps only live edges (Edge TPU), or in between.
   */
  modeProbabilities: { 'computes-all': 0.4, 'drops-unused': 0.25, 'live-only': 0.2, partial: 0.15 },
  /** Fixed network cost (stem, reductions, head) as a fraction of an average cell stack. */
  overheadFraction: [0.02, 1.5] as const,
  /** Log-normal sd of a per-edge-position cost factor, drawn uniform in this range per device. */
  positionSd: [0, 0.1] as const,
  /** Share of irregular devices; regular ones have the position effects below scaled by the damping. */
  irregularShare: 0.5,
  regularDamping: 0.2,
  /** Sd of an op-independent cost per edge position, as a fraction of the mean op cost (edge GPU: ~0.4). */
  edgeCostSd: [0, 0.4] as const,
  /** Log-normal sd of a factor shared by the edges into one node (fusion with that node's add). */
  targetNodeSd: [0, 0.3] as const,
  /** Log-normal sd of each node's add cost around the device's add cost (the edge GPU's node-3 adds cost ~2 convs, its node-2 adds ~0). */
  addNodeSd: 0.8,
  /**
   * Producer-side fusion, on this share of irregular devices: an op reading node j is fused into
   * the kernel that produced node j, so only a fraction f_j of its own cost remains and a fused
   * kernel cost F (whatever the op) is paid instead. f_1 = exp(-U(fusionDepth1)), f_2 = f_1 *
   * exp(-U(fusionDepth2)): fusion deepens along the cell. Chosen from the edge GPU table, where the
   * conv-minus-skip cost of an edge is 0.9 reading node 0, 0.6 reading node 1 and 0.1 reading
   * node 2 (so f ~ 1, 0.65, 0.1), and a skip reading node 2 costs about a conv (F ~ 2-2.5 mean ops).
   * Half of the irregular devices: fusing all of them moved the edge GPU's efficiency by less than
   * its spread over designs (0.941-0.950 against 0.945) and cost the Pixel 3 up to 0.04 (8 seeds
   * over 4 design variants each).
   */
  fusionShare: 0.5,
  fusionDepth1: [0, 1.5] as const,
  fusionDepth2: [0, 3] as const,
  fusedKernelCost: [0.3, 3] as const,
  /**
   * Node write cost, in mean op costs, uniform: paid once by a node that receives any edge (its
   * buffer is materialized once and further inputs accumulate into it), so the first edge into a
   * node costs more than the next ones. Edge GPU and Pixel 3 tables: edges into node 3 cost
   * +0.65 / +0.9 ms more while each further input's add costs -0.6 / -0.7 ms (~1.2 and ~0.4 mean
   * ops). Damped on regular devices like the other position effects.
   */
  nodeWriteCost: [0, 1.5] as const,
  /** Pairwise edge interactions: sd as a fraction of the mean op cost, log-uniform. */
  pairwiseSd: [0.005, 0.2] as const,
  /** Conv-to-conv chain effect (fusion < 0 < cache pressure) as a fraction of a conv's cost. */
  chainSd: 0.15,
  /** Multiplicative measurement noise sd, log-uniform. */
  noiseSd: [0.003, 0.1] as const,
  /** Share of devices with outliers; outlier rate and factor on those. */
  outlierDevices: 0.25,
  outlierRate: 0.003,
  outlierFactor: [1.3, 4] as const,
  /** Milliseconds of the mean cell, log-uniform: only fixes units. */
  scaleMs: [0.5, 50] as const,
} as const;

const H = PRIOR_HYPERPARAMETERS;
const PAIRS: readonly (readonly [number, number])[] = EDGES.flatMap((_, a) =>
  EDGES.flatMap((__, b) => (b > a ? [[a, b] as const] : [])),
);

const PAIR_COUNT = PAIRS.length;
const PAIR_FIRST = Int32Array.from(PAIRS, ([a]) => a);
const PAIR_SECOND = Int32Array.from(PAIRS, ([, b]) => b);

export const EXECUTION_MODES = ['computes-all', 'drops-unused', 'live-only', 'partial'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

function drawMode(random: Random): ExecutionMode {
  let roll = random.next();
  for (const mode of EXECUTION_MODES) {
    roll -= H.modeProbabilities[mode];
    if (roll < 0) return mode;
  }
  return 'partial';
}

/** Everything about a synthetic device needed to give any cell's latency. */
export interface SyntheticParameters {
  readonly dataset: Dataset;
  /** Cost of one edge carrying each op (summed over the three stages), indexed like OPS. */
  readonly opCost: Float64Array;
  /**
   * Cost of one addition at node 2 and at node 3 (runtimes fuse some adds and not others), less
   * the node's write cost, which the edges into the node pay; may be negative.
   */
  readonly addCost: readonly [number, number];
  /** Multiplier of the op cost on each edge position (including producer-side fusion). */
  readonly positionFactor: Float64Array;
  /**
   * Cost added on each edge position whatever its (non-`none`) op: buffers, scheduling, layout,
   * the target node's write cost and the fused kernel of producer-side fusion.
   */
  readonly edgeCost: Float64Array;
  /**
   * Share of an edge's cost still paid when it ends in a node that does not feed the output
   * (1 = computes everything, 0 = output-driven dead-code elimination), and when it feeds the output
   * but its source only ever holds zeros (0 = prunes to the live graph).
   */
  readonly unusedShare: number;
  readonly zeroInputShare: number;
  /** Share of an op's own cost kept when it reads node 0..3 (below 1: fused into the node's producer). */
  readonly sourceRetained: readonly number[];
  /** Which of the prior's execution modes the device was drawn in. */
  readonly mode: ExecutionMode;
  /** Whether position effects (edge, node and add-site costs) are strong or damped. */
  readonly irregular: boolean;
  readonly overhead: number;
  /** Share of the overhead left when a pruning device drops a disconnected cell. */
  readonly disconnectedOverheadShare: number;
  /** Interaction cost of ops (a, b) on edge pair p, at [p * 25 + a * 5 + b]. */
  readonly pairwise: Float64Array;
  readonly chainCost: number;
  readonly noiseSd: number;
  readonly outlierRate: number;
  readonly outlierFactor: number;
  readonly noiseSeed: number;
  readonly scaleMs: number;
}

/** A draw log-uniform in [low, high] (synthetic devices of every space draw their parameters so). */
export const logUniform = (random: Random, [low, high]: readonly [number, number]): number =>
  Math.exp(Math.log(low) + random.next() * (Math.log(high) - Math.log(low)));
/** A draw uniform in [low, high]. */
export const uniform = (random: Random, [low, high]: readonly [number, number]): number =>
  low + random.next() * (high - low);

/** Draws one synthetic device's parameters from the prior. */
export function samplePrior(random: Random, dataset: Dataset = 'cifar10'): SyntheticParameters {
  const side = DATASET_SHAPES[dataset].inputSize;
  // Launch cost is fixed in ms while compute shrinks with the input area.
  const launch = logUniform(random, H.launchRatio) * (32 / side) ** 2;
  const memory = logUniform(random, H.memoryRatio);
  const kernelsPerConv = uniform(random, H.kernelsPerConv);
  const efficiency = (): number => Math.exp(H.efficiencySd * random.normal());
  const conv3Compute = 9 / efficiency();
  // conv1x1 and pooling relative to conv3x3 compute: 1/9 is the FLOP ratio for conv1x1, but
  // small kernels are often far less efficient; pooling can be nearly free or run as a full conv.
  const conv1Compute = conv3Compute * logUniform(random, H.conv1ToConv3) * efficiency();
  const poolCompute = conv3Compute * logUniform(random, H.poolToConv3);
  const skipLaunches = random.next() < 0.5 ? uniform(random, [0.5, 1.5]) : 0;
  const skipCopies = random.next() < 0.5 ? 1 : 0;
  const noneLaunches = random.next() < 0.7 ? 1 : 0;
  const addLaunches = uniform(random, H.kernelsPerAdd);
  const opCost = new Float64Array(NUM_OPS);
  let addCost = 0;
  for (let stage = 0; stage < 3; stage++) {
    const channels = 16 * 2 ** stage;
    // Conv compute (C^2 HW) is the same in every stage; activation traffic (C HW) halves per stage.
    const traffic = memory / 2 ** stage;
    const weightTraffic = (k: number): number => (traffic * channels * k) / (side / 2 ** stage) ** 2;
    const roofline = (launches: number, compute: number, bytes: number): number =>
      launches * launch + Math.max(compute, bytes);
    opCost[OP_NONE] = opCost[OP_NONE]! + roofline(noneLaunches, 1 / channels, traffic);
    opCost[1] = opCost[1]! + roofline(skipLaunches, 0, 2 * traffic * skipCopies);
    opCost[OP_CONV1X1] =
      opCost[OP_CONV1X1]! + roofline(kernelsPerConv, conv1Compute, 2 * traffic + weightTraffic(1));
    opCost[OP_CONV3X3] =
      opCost[OP_CONV3X3]! + roofline(kernelsPerConv, conv3Compute, 2 * traffic + weightTraffic(9));
    opCost[4] = opCost[4]! + roofline(1, poolCompute, 2 * traffic);
    addCost += roofline(addLaunches, 1 / channels, 3 * traffic);
  }
  let meanOp = 0;
  for (let op = 0; op < NUM_OPS; op++) meanOp += opCost[op]! / NUM_OPS;
  // Regular devices (most GPUs and CPUs) cost the same op the same wherever it sits; irregular
  // ones (edge GPU, phones) do not. Drawn as a class so the latency model can tell them apart.
  const irregular = random.next() < H.irregularShare;
  const damp = irregular ? 1 : H.regularDamping;
  const positionSd = damp * uniform(random, H.positionSd);
  const nodeSd = damp * uniform(random, H.targetNodeSd);
  const nodeFactor = [1, 1, 1, 1].map(() => Math.exp(nodeSd * random.normal()));
  const positionFactor = Float64Array.from(
    EDGES,
    (edge) => nodeFactor[edge.to]! * Math.exp(positionSd * random.normal()),
  );
  const edgeCostSd = damp * uniform(random, H.edgeCostSd) * meanOp;
  const edgeCost = Float64Array.from(EDGES, () => edgeCostSd * random.normal());
  const addFactor = (): number => Math.exp(damp * H.addNodeSd * random.normal());
  const addCosts: [number, number] = [addCost * addFactor(), addCost * addFactor()];
  // A node's write cost W is paid once: as W on every edge into it and -W on every add there,
  // which the existing per-edge and per-add terms carry without a new loop.
  const writeCost = [0, 0, 0, 0].map((_, node) =>
    node === 0 ? 0 : damp * uniform(random, H.nodeWriteCost) * meanOp,
  );
  addCosts[0] -= writeCost[2]!;
  addCosts[1] -= writeCost[3]!;
  const fused = irregular && random.next() < H.fusionShare;
  const retained = [1, 1, 1, 1];
  let fusedKernel = 0;
  if (fused) {
    retained[1] = Math.exp(-uniform(random, H.fusionDepth1));
    retained[2] = retained[1]! * Math.exp(-uniform(random, H.fusionDepth2));
    fusedKernel = logUniform(random, H.fusedKernelCost) * meanOp;
  }
  EDGES.forEach((edge, e) => {
    positionFactor[e] = positionFactor[e]! * retained[edge.from]!;
    edgeCost[e] = edgeCost[e]! + writeCost[edge.to]! + (1 - retained[edge.from]!) * fusedKernel;
  });
  const mode = drawMode(random);
  const unusedShare = mode === 'computes-all' ? 1 : mode === 'partial' ? random.next() : 0;
  const zeroInputShare =
    mode === 'live-only' ? 0 : mode === 'partial' ? unusedShare + (1 - unusedShare) * random.next() : 1;
  const pairwiseSd = logUniform(random, H.pairwiseSd) * meanOp;
  const pairwise = new Float64Array(PAIRS.length * NUM_OPS * NUM_OPS);
  for (let i = 0; i < pairwise.length; i++) pairwise[i] = pairwiseSd * random.normal();
  const meanConv = (opCost[OP_CONV1X1]! + opCost[OP_CONV3X3]!) / 2;
  const hasOutliers = random.next() < H.outlierDevices;
  return {
    dataset,
    opCost,
    addCost: addCosts,
    positionFactor,
    edgeCost,
    sourceRetained: retained,
    unusedShare,
    zeroInputShare,
    mode,
    irregular,
    overhead: logUniform(random, H.overheadFraction) * meanOp * NUM_EDGES,
    disconnectedOverheadShare: random.next(),
    pairwise,
    chainCost: H.chainSd * random.normal() * meanConv,
    noiseSd: logUniform(random, H.noiseSd),
    outlierRate: hasOutliers ? H.outlierRate : 0,
    outlierFactor: uniform(random, H.outlierFactor),
    noiseSeed: random.int(2 ** 31),
    scaleMs: logUniform(random, H.scaleMs) / (meanOp * NUM_EDGES),
  };
}

/** Per-cell structure shared by every synthetic device, built once. */
interface SpaceStructure {
  readonly ops: Uint8Array;
  /** Per edge: 2 live, 1 used (feeds the output from a zero-only node), 0 unused or `none`. */
  readonly status: Uint8Array;
  readonly connected: Uint8Array;
  /** Adds at nodes 2 and 3 ([code * 2 + node - 2]) and conv chains, each over all / used / live edges. */
  readonly adds: Uint8Array;
  readonly usedAdds: Uint8Array;
  readonly liveAdds: Uint8Array;
  readonly chains: Uint8Array;
  readonly usedChains: Uint8Array;
  readonly liveChains: Uint8Array;
}

let structure: SpaceStructure | undefined;

function spaceStructure(): SpaceStructure {
  if (structure) return structure;
  const ops = new Uint8Array(SPACE_SIZE * NUM_EDGES);
  const status = new Uint8Array(SPACE_SIZE * NUM_EDGES);
  const connected = new Uint8Array(SPACE_SIZE);
  const adds = new Uint8Array(SPACE_SIZE * 2);
  const usedAdds = new Uint8Array(SPACE_SIZE * 2);
  const liveAdds = new Uint8Array(SPACE_SIZE * 2);
  const chains = new Uint8Array(SPACE_SIZE);
  const usedChains = new Uint8Array(SPACE_SIZE);
  const liveChains = new Uint8Array(SPACE_SIZE);
  for (let code = 0; code < SPACE_SIZE; code++) {
    const cell = decodeCell(code);
    const live = liveEdges(cell);
    const used = usedEdges(cell);
    for (let e = 0; e < NUM_EDGES; e++) {
      ops[code * NUM_EDGES + e] = cell[e]!;
      status[code * NUM_EDGES + e] = live[e] ? 2 : used[e] ? 1 : 0;
    }
    connected[code] = live.some(Boolean) ? 1 : 0;
    const counts = structureCounts(cell, live, used);
    adds.set(counts.adds, code * 2);
    usedAdds.set(counts.usedAdds, code * 2);
    liveAdds.set(counts.liveAdds, code * 2);
    chains[code] = counts.chains;
    usedChains[code] = counts.usedChains;
    liveChains[code] = counts.liveChains;
  }
  structure = { ops, status, connected, adds, usedAdds, liveAdds, chains, usedChains, liveChains };
  return structure;
}

/** A deterministic standard normal for (seed, index): quenched noise, so a device is reproducible. */
export function hashedNormal(seed: number, index: number): number {
  const u1 = (hash32(seed, index * 2) + 0.5) / 4294967296;
  const u2 = (hash32(seed, index * 2 + 1) + 0.5) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export function hash32(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Latencies (ms) of all cells, indexed by `encodeCell`. A few ms per device. */
export function syntheticLatencies(parameters: SyntheticParameters): Float64Array {
  return syntheticLatenciesOf(parameters);
}

/** Latencies (ms) of the cells with the given codes (default: all, in code order). */
export function syntheticLatenciesOf(
  parameters: SyntheticParameters,
  codes?: ArrayLike<number>,
): Float64Array {
  const s = spaceStructure();
  const p = parameters;
  const count = codes ? codes.length : SPACE_SIZE;
  const out = new Float64Array(count);
  const weight = new Float64Array(NUM_EDGES);
  // Share of the cost paid by an edge that is live, used but fed only zeros, or unused.
  const shareByStatus = [p.unusedShare, p.zeroInputShare, 1];
  for (let index = 0; index < count; index++) {
    const code = codes ? codes[index]! : index;
    const base = code * NUM_EDGES;
    let total = 0;
    for (let e = 0; e < NUM_EDGES; e++) {
      const w = shareByStatus[s.status[base + e]!]!;
      weight[e] = w;
      const op = s.ops[base + e]!;
      total += w * (p.opCost[op]! * p.positionFactor[e]! + (op === OP_NONE ? 0 : p.edgeCost[e]!));
    }
    for (let pair = 0; pair < PAIR_COUNT; pair++) {
      const opA = s.ops[base + PAIR_FIRST[pair]!]!;
      const opB = s.ops[base + PAIR_SECOND[pair]!]!;
      if (opA === OP_NONE || opB === OP_NONE) continue;
      total +=
        weight[PAIR_FIRST[pair]!]! *
        weight[PAIR_SECOND[pair]!]! *
        p.pairwise[pair * 25 + opA * NUM_OPS + opB]!;
    }
    for (let node = 0; node < 2; node++) {
      const live = s.liveAdds[code * 2 + node]!;
      const used = s.usedAdds[code * 2 + node]!;
      const all = s.adds[code * 2 + node]!;
      total += p.addCost[node]! * (live + p.zeroInputShare * (used - live) + p.unusedShare * (all - used));
    }
    const liveChains = s.liveChains[code]!;
    const usedChains = s.usedChains[code]!;
    total +=
      p.chainCost *
      (liveChains +
        p.zeroInputShare * (usedChains - liveChains) +
        p.unusedShare * (s.chains[code]! - usedChains));
    // A disconnected cell makes the network's output constant: a device that drops unused work
    // then drops every cell and part of the overhead.
    if (!s.connected[code]) total *= p.unusedShare;
    const overheadShare = s.connected[code]
      ? 1
      : p.unusedShare + (1 - p.unusedShare) * p.disconnectedOverheadShare;
    total = Math.max(total, 0) + p.overhead * overheadShare;
    let noisy = total * Math.exp(p.noiseSd * hashedNormal(p.noiseSeed, code));
    if (p.outlierRate > 0 && (hash32(p.noiseSeed ^ 0x5bd1e995, code) + 0.5) / 4294967296 < p.outlierRate) {
      noisy *= p.outlierFactor;
    }
    out[index] = noisy * p.scaleMs;
  }
  return out;
}

/** A device drawn from the prior: free to measure, all 15,625 latencies on demand. */
export class SyntheticDevice implements Device {
  readonly kind = 'synthetic' as const;
  private latencies: Float64Array | undefined;

  constructor(
    readonly parameters: SyntheticParameters,
    readonly name = 'synthetic',
  ) {}

  static sample(random: Random, dataset: Dataset = 'cifar10', name?: string): SyntheticDevice {
    return new SyntheticDevice(samplePrior(random, dataset), name ?? `synthetic-${random.seed >>> 0}`);
  }

  /** Latencies (ms) of all cells, indexed by `encodeCell`; computed on first use, then cached. */
  allLatencies(): Float64Array {
    this.latencies ??= syntheticLatencies(this.parameters);
    return this.latencies;
  }

  latency(cell: Cell): number {
    return this.allLatencies()[encodeCell(cell)]!;
  }

  measure(cells: readonly Cell[]): Promise<Measurement> {
    const all = this.allLatencies();
    return Promise.resolve({
      latenciesMs: Float64Array.from(cells, (cell) => all[encodeCell(cell)]!),
      measurementsSpent: 0,
    });
  }
}
