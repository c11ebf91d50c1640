// The NAS-Bench-201 / NATS-Bench topology search space: a cell is 6 edges of a 4-node DAG, each
// carrying one of 5 operations. Parsing, formatting, our own integer encoding, enumeration,
// mutation and the effective (live) graph all live here, so every other module speaks `Cell`.

import { UsageError } from '../../errors.js';
import { quote } from '../../util/quote.js';
import type { Architecture } from '../space.js';

export const OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type OpName = (typeof OPS)[number];
/** Index into OPS. */
export type Op = 0 | 1 | 2 | 3 | 4;
export const OP_NONE: Op = 0;
export const OP_SKIP: Op = 1;
export const OP_CONV1X1: Op = 2;
export const OP_CONV3X3: Op = 3;
export const OP_AVGPOOL: Op = 4;

/** One edge of the cell DAG: data flows from node `from` into node `to`. */
export interface Edge {
  readonly from: number;
  readonly to: number;
}

/** Edge order of the canonical string: node1<-0 | node2<-0, node2<-1 | node3<-0, node3<-1, node3<-2. */
export const EDGES: readonly Edge[] = [
  { from: 0, to: 1 },
  { from: 0, to: 2 },
  { from: 1, to: 2 },
  { from: 0, to: 3 },
  { from: 1, to: 3 },
  { from: 2, to: 3 },
];
export const NUM_EDGES = EDGES.length;
export const NUM_OPS = OPS.length;
export const NUM_NODES = 4;
/** 5^6 cells. */
export const SPACE_SIZE = NUM_OPS ** NUM_EDGES;

/** A cell: the op on each of the 6 edges, in EDGES order. */
export type Cell = Architecture;

export function edgeLabel(edge: number): string {
  const e = EDGES[edge];
  if (!e) throw new RangeError(`edge index ${edge} out of range 0..${NUM_EDGES - 1}`);
  return `${e.to}<-${e.from}`;
}

/** Raised for a malformed cell string; the message says where, what was found and what is accepted. */
export class CellParseError extends UsageError {
  override name = 'CellParseError';
}

const EXAMPLE =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

/** Parses the canonical NB201 string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`. */
export function parseCell(text: string): Cell {
  const trimmed = text.trim();
  const fail = (why: string): never => {
    throw new CellParseError(`invalid cell ${quote(text)}: ${why}. Expected the NB201 form, e.g. ${EXAMPLE}`);
  };
  if (trimmed.length === 0) fail('the string is empty');
  const groups = trimmed.split('+');
  if (groups.length !== 3) fail(`found ${groups.length} node group(s) separated by '+', expected 3`);
  const ops: Op[] = [];
  groups.forEach((group, g) => {
    const node = g + 1;
    if (!group.startsWith('|') || !group.endsWith('|') || group.length < 2) {
      fail(`group ${node} (${quote(group, 40)}) must start and end with '|'`);
    }
    const items = group.slice(1, -1).split('|');
    if (items.length !== node) {
      fail(
        `group ${node} has ${items.length} edge(s), node ${node} needs ${node} (one from each earlier node)`,
      );
    }
    items.forEach((item, source) => {
      const label = `edge ${node}<-${source}`;
      const tilde = item.lastIndexOf('~');
      if (tilde < 0) fail(`${label}: ${quote(item, 40)} is missing '~${source}'`);
      const name = item.slice(0, tilde);
      const from = item.slice(tilde + 1);
      if (from !== String(source)) {
        fail(
          `${label}: source node ${quote(from, 20)} found, expected '${source}' (edges are listed from node 0 up)`,
        );
      }
      const op = OPS.indexOf(name as OpName);
      if (op < 0) {
        throw new CellParseError(
          `invalid cell ${quote(text)}: ${label}: unknown op ${quote(name, 40)}; expected one of ${OPS.join(', ')}`,
        );
      }
      ops.push(op as Op);
    });
  });
  return ops;
}

/** Formats a cell as the canonical NB201 string. */
export function formatCell(cell: Cell): string {
  assertCell(cell);
  const opName = (edge: number): string => `${OPS[cell[edge]!]}~${EDGES[edge]!.from}`;
  return `|${opName(0)}|+|${opName(1)}|${opName(2)}|+|${opName(3)}|${opName(4)}|${opName(5)}|`;
}

/** Our stable integer encoding: base-5 digits, edge 0 least significant. Independent of NB201's index. */
export function encodeCell(cell: Cell): number {
  assertCell(cell);
  let code = 0;
  for (let e = NUM_EDGES - 1; e >= 0; e--) code = code * NUM_OPS + cell[e]!;
  return code;
}

export function decodeCell(code: number): Cell {
  if (!Number.isInteger(code) || code < 0 || code >= SPACE_SIZE) {
    throw new RangeError(`cell code ${code} out of range: expected an integer in 0..${SPACE_SIZE - 1}`);
  }
  const ops: Op[] = [];
  let rest = code;
  for (let e = 0; e < NUM_EDGES; e++) {
    ops.push((rest % NUM_OPS) as Op);
    rest = Math.floor(rest / NUM_OPS);
  }
  return ops;
}

/** All 15,625 cells in encoding order. */
export function allCells(): Cell[] {
  return Array.from({ length: SPACE_SIZE }, (_, code) => decodeCell(code));
}

/** The cell with `edge` set to `op` (a single-edge mutation). */
export function withEdge(cell: Cell, edge: number, op: Op): Cell {
  assertCell(cell);
  if (edge < 0 || edge >= NUM_EDGES) throw new RangeError(`edge ${edge} out of range 0..${NUM_EDGES - 1}`);
  const next = [...cell];
  next[edge] = op;
  return next;
}

/** Every cell one edge edit away (6 edges x 4 other ops = 24 neighbours). */
export function neighbours(cell: Cell): Cell[] {
  const out: Cell[] = [];
  for (let e = 0; e < NUM_EDGES; e++) {
    for (let o = 0; o < NUM_OPS; o++) if (o !== cell[e]) out.push(withEdge(cell, e, o as Op));
  }
  return out;
}

/** A random single-edge mutation; `random` returns uniform numbers in [0, 1). */
export function mutate(cell: Cell, random: () => number): Cell {
  const edge = Math.floor(random() * NUM_EDGES);
  const shift = 1 + Math.floor(random() * (NUM_OPS - 1));
  return withEdge(cell, edge, ((cell[edge]! + shift) % NUM_OPS) as Op);
}

/**
 * Which edges are live: not `none`, and on some path from node 0 to node 3 through non-`none`
 * edges. Dead edges cannot influence the output, so a deployed network drops them.
 */
export function liveEdges(cell: Cell): boolean[] {
  assertCell(cell);
  const reachable = [true, false, false, false];
  for (let node = 1; node < NUM_NODES; node++) {
    reachable[node] = EDGES.some((e, i) => e.to === node && cell[i] !== OP_NONE && reachable[e.from]);
  }
  const feedsOutput = [false, false, false, true];
  for (let node = NUM_NODES - 2; node >= 0; node--) {
    feedsOutput[node] = EDGES.some((e, i) => e.from === node && cell[i] !== OP_NONE && feedsOutput[e.to]);
  }
  return EDGES.map((e, i) => cell[i] !== OP_NONE && reachable[e.from]! && feedsOutput[e.to]!);
}

/** The cell with its dead edges set to `none`: what actually computes. */
export function effectiveCell(cell: Cell): Cell {
  const live = liveEdges(cell);
  return cell.map((op, i) => (live[i] ? op : OP_NONE));
}

/** True when node 3 is reachable from node 0 (otherwise the cell outputs zeros). */
export function isConnected(cell: Cell): boolean {
  return liveEdges(cell).some(Boolean);
}

/** How many edges carry each op, indexed like OPS. */
export function opCounts(cell: Cell): number[] {
  const counts = new Array<number>(NUM_OPS).fill(0);
  for (const op of cell) counts[op]!++;
  return counts;
}

function assertCell(cell: Cell): void {
  if (cell.length !== NUM_EDGES || cell.some((op) => !Number.isInteger(op) || op < 0 || op >= NUM_OPS)) {
    throw new RangeError(
      `not a cell: [${cell.join(', ')}]; expected ${NUM_EDGES} op indices in 0..${NUM_OPS - 1}`,
    );
  }
}
