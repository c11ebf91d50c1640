// The latency model's view of a cell: a fixed feature vector whose linear combinations can express
// what we know real devices do. Per-edge op one-hots cover per-op costs and their position; a second
// set restricted to live edges lets one weight vector describe a device that computes dead edges,
// one that prunes them, or anything in between; node fan-in (the adds a node performs), conv-to-conv
// chains and a connectivity flag cover the largest non-additive effects seen on edge devices.
import {
  type Cell,
  decodeCell,
  EDGES,
  liveEdges,
  NUM_EDGES,
  OP_CONV1X1,
  OP_CONV3X3,
  OP_NONE,
  SPACE_SIZE,
} from '../spaces/nb201/cell.js';

/** Edges whose liveness is not implied by their op: node3<-0 is live whenever it is not `none`. */
const LIVE_FEATURE_EDGES = [0, 1, 2, 4, 5] as const;
/** Edges into node 3 are always used; only edges into nodes 1 and 2 can be dropped as unused. */
const USED_FEATURE_EDGES = [0, 1, 2] as const;
const NON_NONE_OPS = [1, 2, 3, 4] as const;

export const FEATURE_NAMES: readonly string[] = [
  'constant',
  'connected',
  ...EDGES.flatMap((e) => NON_NONE_OPS.map((op) => `edge ${e.to}<-${e.from} op ${op}`)),
  ...LIVE_FEATURE_EDGES.flatMap((i) =>
    NON_NONE_OPS.map((op) => `live edge ${EDGES[i]!.to}<-${EDGES[i]!.from} op ${op}`),
  ),
  ...USED_FEATURE_EDGES.flatMap((i) =>
    NON_NONE_OPS.map((op) => `used edge ${EDGES[i]!.to}<-${EDGES[i]!.from} op ${op}`),
  ),
  'live adds node 2',
  'live adds node 3',
  'adds node 2',
  'adds node 3',
  'used adds node 2',
  'live conv chains',
  'conv chains',
  'used conv chains',
];
export const FEATURE_COUNT = FEATURE_NAMES.length;

const isConv = (op: number): boolean => op === OP_CONV1X1 || op === OP_CONV3X3;

/**
 * Edges that output-driven dead-code elimination keeps: not `none` and ending in a node that feeds
 * node 3. Unlike `liveEdges` they may start in a node that only ever holds zeros, which a graph
 * compiler cannot know. Edge GPU and Pixel 3 tables behave like this; the Edge TPU like `liveEdges`.
 */
export function usedEdges(cell: Cell): boolean[] {
  const feedsOutput = [false, false, false, true];
  for (let node = 2; node >= 0; node--) {
    feedsOutput[node] = EDGES.some((e, i) => e.from === node && cell[i] !== OP_NONE && feedsOutput[e.to]);
  }
  return EDGES.map((e, i) => cell[i] !== OP_NONE && feedsOutput[e.to]!);
}

/** Writes the feature vector of `cell` into `out` at `offset`. */
export function writeFeatures(cell: Cell, out: Float64Array, offset = 0): void {
  const live = liveEdges(cell);
  out.fill(0, offset, offset + FEATURE_COUNT);
  let k = offset;
  out[k++] = 1;
  out[k++] = live.some(Boolean) ? 1 : 0;
  for (let e = 0; e < NUM_EDGES; e++) {
    const op = cell[e]!;
    if (op !== OP_NONE) out[k + op - 1] = 1;
    k += NON_NONE_OPS.length;
  }
  for (const e of LIVE_FEATURE_EDGES) {
    const op = cell[e]!;
    if (live[e]) out[k + op - 1] = 1;
    k += NON_NONE_OPS.length;
  }
  const used = usedEdges(cell);
  for (const e of USED_FEATURE_EDGES) {
    const op = cell[e]!;
    if (used[e]) out[k + op - 1] = 1;
    k += NON_NONE_OPS.length;
  }
  const counts = structureCounts(cell, live, used);
  out.set(
    [
      counts.liveAdds[0],
      counts.liveAdds[1],
      counts.adds[0],
      counts.adds[1],
      counts.usedAdds[0],
      counts.liveChains,
      counts.chains,
      counts.usedChains,
    ],
    k,
  );
}

/** Node additions (inputs - 1, at nodes 2 and 3) and conv-to-conv chains, over three edge sets. */
export interface StructureCounts {
  readonly adds: readonly [number, number];
  readonly usedAdds: readonly [number, number];
  readonly liveAdds: readonly [number, number];
  readonly chains: number;
  readonly usedChains: number;
  readonly liveChains: number;
}

export function structureCounts(
  cell: Cell,
  live: readonly boolean[],
  used: readonly boolean[],
): StructureCounts {
  const addsOver = (edgeSet: (i: number) => boolean): [number, number] => {
    const at = (node: number): number =>
      Math.max(0, EDGES.filter((e, i) => e.to === node && cell[i] !== OP_NONE && edgeSet(i)).length - 1);
    return [at(2), at(3)];
  };
  const chainsOver = (edgeSet: (i: number) => boolean): number => {
    let count = 0;
    EDGES.forEach((into, a) =>
      EDGES.forEach((outOf, b) => {
        if (into.to === outOf.from && isConv(cell[a]!) && isConv(cell[b]!) && edgeSet(a) && edgeSet(b))
          count++;
      }),
    );
    return count;
  };
  const all = (): boolean => true;
  const isUsed = (i: number): boolean => used[i]!;
  const isLive = (i: number): boolean => live[i]!;
  return {
    adds: addsOver(all),
    usedAdds: addsOver(isUsed),
    liveAdds: addsOver(isLive),
    chains: chainsOver(all),
    usedChains: chainsOver(isUsed),
    liveChains: chainsOver(isLive),
  };
}

export function cellFeatures(cell: Cell): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  writeFeatures(cell, out);
  return out;
}

let cachedMatrix: Float64Array | undefined;

/** Features of all 15,625 cells, row-major, row = cell code. Built once (about 20 ms). */
export function featureMatrix(): Float64Array {
  if (!cachedMatrix) {
    const matrix = new Float64Array(SPACE_SIZE * FEATURE_COUNT);
    for (let code = 0; code < SPACE_SIZE; code++)
      writeFeatures(decodeCell(code), matrix, code * FEATURE_COUNT);
    cachedMatrix = matrix;
  }
  return cachedMatrix;
}

/** The feature matrix in compressed sparse rows: each cell has about 15 non-zero features. */
export interface SparseFeatures {
  readonly rowStart: Int32Array;
  readonly columns: Int32Array;
  readonly values: Float64Array;
}

let cachedSparse: SparseFeatures | undefined;

export function sparseFeatureMatrix(): SparseFeatures {
  if (cachedSparse) return cachedSparse;
  const dense = featureMatrix();
  const rowStart = new Int32Array(SPACE_SIZE + 1);
  const columns: number[] = [];
  const values: number[] = [];
  for (let code = 0; code < SPACE_SIZE; code++) {
    for (let j = 0; j < FEATURE_COUNT; j++) {
      const value = dense[code * FEATURE_COUNT + j]!;
      if (value !== 0) {
        columns.push(j);
        values.push(value);
      }
    }
    rowStart[code + 1] = columns.length;
  }
  cachedSparse = { rowStart, columns: Int32Array.from(columns), values: Float64Array.from(values) };
  return cachedSparse;
}
