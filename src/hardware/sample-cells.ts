// The cells measured on a new device: a fixed default set of 10 (the paper's "10 latency probes"),
// or N cells drawn at random under a seed. The default set is the device models' designed sample
// (src/devices/design.ts), chosen so that the latency model learns the most from 10 measurements.
import { UsageError } from '../errors.js';
import { allCells, parseCell, SPACE_SIZE, type Cell } from '../spaces/nb201/cell.js';
import { parseDataset, type Dataset } from '../spaces/nb201/datasets.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { Random } from '../util/random.js';

/**
 * DEFAULT SAMPLE CELLS — from the device models: the greedy I-optimal design against the latency
 * model under the synthetic-device prior (src/devices/design.ts), fixed per dataset, connected
 * cells only. `simnas devices design --dataset <name>` prints them; for cifar10 they span the
 * all-3x3 cell, skip-, pool- and 1x1-heavy cells and mixed cells with dead edges and edges fed only
 * zeros, which is what separates devices that compute dead edges from devices that prune them.
 *
 * The design's output for the default count, written out: designing takes seconds (it draws the
 * prior's weight bank and searches greedily), and every run measures these cells first.
 * test/devices.test.ts recomputes the design and fails if these drift from it.
 */
export const DEFAULT_SAMPLE_CELLS: Readonly<Record<Dataset, readonly string[]>> = {
  cifar10: [
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
    '|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|',
    '|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|none~2|',
    '|none~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
    '|skip_connect~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|',
    '|none~0|+|avg_pool_3x3~0|none~1|+|none~0|avg_pool_3x3~1|avg_pool_3x3~2|',
    '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|none~0|none~1|nor_conv_1x1~2|',
    '|skip_connect~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
    '|skip_connect~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|none~2|',
    '|skip_connect~0|+|skip_connect~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  ],
  cifar100: [
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
    '|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|',
    '|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|skip_connect~2|',
    '|none~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
    '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|skip_connect~1|none~2|',
    '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
    '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|none~0|none~1|nor_conv_1x1~2|',
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|skip_connect~1|skip_connect~2|',
    '|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|',
    '|skip_connect~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|none~0|none~1|nor_conv_3x3~2|',
  ],
  'ImageNet16-120': [
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
    '|none~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|',
    '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|nor_conv_1x1~1|none~2|',
    '|none~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_1x1~2|',
    '|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|',
    '|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
    '|none~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|',
    '|none~0|+|skip_connect~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|',
    '|avg_pool_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
    '|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|skip_connect~2|',
  ],
};

/** The fixed default NB201 probe set for `dataset` (one of NB201's datasets). */
export function defaultSampleCells(dataset: string): Cell[] {
  return DEFAULT_SAMPLE_CELLS[parseDataset(dataset)].map((text) => parseCell(text));
}

/** `count` distinct cells drawn uniformly from the whole space (disconnected ones included). */
export function randomSampleCells(count: number, seed: number): Cell[] {
  if (!Number.isInteger(count) || count < 1 || count > SPACE_SIZE) {
    throw new UsageError(`sample size must be an integer in 1..${SPACE_SIZE}, got ${count}`);
  }
  return new Random(seed).child('sample-cells').sample(allCells(), count);
}

/**
 * `count` distinct architectures of `space` drawn uniformly under `seed`. In an enumerable space,
 * the same draw as randomSampleCells (so NB201 samples are unchanged); elsewhere, seeded draws
 * until `count` distinct keys.
 */
export function randomSampleArchitectures(space: SearchSpace, count: number, seed: number): Architecture[] {
  const limit = space.enumerable ? space.size : 1e6;
  if (!Number.isInteger(count) || count < 1 || count > limit) {
    throw new UsageError(`sample size must be an integer in 1..${limit}, got ${count}`);
  }
  const random = new Random(seed).child('sample-cells');
  if (space.enumerable) {
    return random.sample(
      Array.from({ length: space.size }, (_, code) => space.fromCode(code)),
      count,
    );
  }
  const drawn = new Map<string, Architecture>();
  while (drawn.size < count) {
    const architecture = space.sample(random);
    drawn.set(space.key(architecture), architecture);
  }
  return [...drawn.values()];
}
