// The NB201 cell space: cell strings and codes round-trip, the effective (live-edge) graph, the
// count of connected cells, and single-edge mutation.
import { describe, expect, it } from 'vitest';

import {
  allCells,
  CellParseError,
  decodeCell,
  effectiveCell,
  encodeCell,
  formatCell,
  isConnected,
  liveEdges,
  mutate,
  neighbours,
  parseCell,
  SPACE_SIZE,
} from '../src/spaces/nb201/cell.js';
import { Random } from '../src/util/random.js';

const INDEX1 =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const RESNET = '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|';

describe('cell strings', () => {
  it('round-trips every cell through string and code', () => {
    const cells = allCells();
    expect(cells).toHaveLength(SPACE_SIZE);
    const strings = new Set<string>();
    cells.forEach((cell, code) => {
      const text = formatCell(cell);
      strings.add(text);
      expect(encodeCell(parseCell(text))).toBe(code);
      expect(decodeCell(code)).toEqual(cell);
    });
    expect(strings.size).toBe(SPACE_SIZE);
  });

  it('parses a known string with its ops in edge order', () => {
    expect(parseCell(INDEX1)).toEqual([3, 3, 4, 1, 3, 1]);
    expect(formatCell(parseCell(` ${INDEX1} `))).toBe(INDEX1);
  });

  it.each([
    ['', /empty/],
    ['|nor_conv_3x3~0|+|none~0|none~1|', /found 2 node group/],
    [
      '|conv3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|',
      /edge 1<-0: unknown op 'conv3x3'; expected one of none, skip_connect/,
    ],
    ['|none~0|+|none~0|+|none~0|none~1|none~2|', /group 2 has 1 edge/],
    ['|none~0|+|none~0|none~2|+|none~0|none~1|none~2|', /edge 2<-1: source node '2' found, expected '1'/],
    ['|none~0|+|none~0|none1|+|none~0|none~1|none~2|', /edge 2<-1: 'none1' is missing '~1'/],
    ['none~0|+|none~0|none~1|+|none~0|none~1|none~2|', /must start and end with '\|'/],
  ])('rejects %j with a precise message', (text, message) => {
    expect(() => parseCell(text)).toThrow(CellParseError);
    expect(() => parseCell(text)).toThrow(message);
  });
});

describe('effective graph', () => {
  it('keeps every edge of a fully convolutional cell', () => {
    expect(liveEdges(parseCell(INDEX1))).toEqual([true, true, true, true, true, true]);
  });

  it('drops edges that cannot reach the output', () => {
    // node 1 feeds only node 2, and node 2 feeds node 3 through `none`: edges 1<-0 and 2<-1 are dead.
    const cell = parseCell('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|');
    expect(liveEdges(cell)).toEqual([false, false, false, true, false, false]);
    expect(formatCell(effectiveCell(cell))).toBe('|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|');
  });

  it('drops edges that receive no input', () => {
    const cell = parseCell('|none~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|');
    expect(liveEdges(cell)).toEqual([false, false, false, true, false, false]);
  });

  it('counts 15,284 connected cells, as NAS-Bench-201 does', () => {
    expect(allCells().filter(isConnected)).toHaveLength(15284);
    expect(liveEdges(parseCell(RESNET))).toEqual([true, false, true, true, false, true]);
  });
});

describe('mutation', () => {
  it('changes exactly one edge', () => {
    const random = new Random(7);
    let cell = parseCell(INDEX1);
    for (let i = 0; i < 200; i++) {
      const next = mutate(cell, () => random.next());
      expect(next.filter((op, e) => op !== cell[e])).toHaveLength(1);
      cell = next;
    }
  });

  it('lists 24 distinct neighbours', () => {
    const list = neighbours(parseCell(RESNET)).map(encodeCell);
    expect(new Set(list).size).toBe(24);
  });
});
