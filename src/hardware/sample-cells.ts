// The cells measured on a new device: a fixed default set of 10 (the paper's "10 latency probes"),
// or N cells drawn at random under a seed. The default set spans cheap to expensive cells so a
// latency model fitted on them sees every op at several multiplicities.
import { UsageError } from '../errors.js';
import { allCells, parseCell, SPACE_SIZE, type Cell } from '../space/cell.js';
import type { Dataset } from '../space/datasets.js';
import { Random } from '../util/random.js';

/**
 * DEFAULT SAMPLE CELLS — the one place the default probe set is defined. Hand-picked, cheapest
 * first: no convolutions (identity path, pooling), then growing numbers of 1x1 and 3x3
 * convolutions, up to all six edges 3x3. Every cell is connected (node 3 reachable from node 0),
 * so none degenerates to the backbone alone. The same list serves every dataset for now; a
 * statistically designed set per dataset may replace it (keep the shape: 10 strings per dataset).
 */
const DEFAULT_SAMPLE_CELL_STRINGS: readonly string[] = [
  // 0 convs: a single skip path
  '|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|',
  // 0 convs: pooling and skips
  '|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|',
  // one 1x1
  '|nor_conv_1x1~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|none~2|',
  // three 1x1, a pool
  '|nor_conv_1x1~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|',
  // ResNet-like: two 3x3
  '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|',
  // six 1x1
  '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|',
  // three 3x3, a pool (NB201 index 1)
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
  // three 3x3, two 1x1, a pool
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|',
  // five 3x3, one 1x1
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  // six 3x3: the most expensive cell
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
];

export const DEFAULT_SAMPLE_SIZE = DEFAULT_SAMPLE_CELL_STRINGS.length;

/** The fixed default probe set for `dataset` (currently the same 10 cells for every dataset). */
export function defaultSampleCells(dataset: Dataset): Cell[] {
  void dataset;
  return DEFAULT_SAMPLE_CELL_STRINGS.map((text) => parseCell(text));
}

/** `count` distinct cells drawn uniformly from the whole space (disconnected ones included). */
export function randomSampleCells(count: number, seed: number): Cell[] {
  if (!Number.isInteger(count) || count < 1 || count > SPACE_SIZE) {
    throw new UsageError(`sample size must be an integer in 1..${SPACE_SIZE}, got ${count}`);
  }
  return new Random(seed).child('sample-cells').sample(allCells(), count);
}
