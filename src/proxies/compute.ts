// Computes every proxy of one cell from scratch: NASWOT (onnxruntime, float32 forward with the
// kernel in the graph) and synflow/logsynflow (our float64 interpreter of the same graph), each
// averaged over the seeded initialisations, plus skip. Values depend on the effective cell only.
import { OPS, effectiveCell, type Cell } from '../space/cell.js';
import { DATASET_SHAPES, type Dataset } from '../space/datasets.js';
import type { ImageBatch } from './naswot.js';
import { naswotOf } from './naswot.js';
import { skipOf } from './skip.js';
import { synflowOf } from './synflow.js';

export const PROXY_NAMES = ['naswot', 'synflow', 'logsynflow', 'skip'] as const;
export type ProxyName = (typeof PROXY_NAMES)[number];

/** Proxy values of one cell on one dataset. naswot is -Infinity for a disconnected cell. */
export type ProxyValues = Readonly<Record<ProxyName, number>>;

/** The seeded initialisations every proxy is averaged over. */
export const DEFAULT_SEEDS: readonly number[] = [0, 1, 2];

/** Mean NASWOT over `seeds` for networks whose input is `images` (-Infinity if any is). */
export async function meanNaswot(
  cell: Cell,
  dataset: Dataset,
  images: ImageBatch,
  seeds: readonly number[],
  threads = 1,
): Promise<number> {
  let sum = 0;
  for (const seed of seeds) sum += await naswotOf(cell, dataset, images, { seed, threads });
  return sum / seeds.length;
}

export function meanSynflow(
  cell: Cell,
  dataset: Dataset,
  seeds: readonly number[],
): { synflow: number; logsynflow: number } {
  let synflow = 0;
  let logsynflow = 0;
  for (const seed of seeds) {
    const values = synflowOf(cell, dataset, seed);
    synflow += values.synflow;
    logsynflow += values.logsynflow;
  }
  return { synflow: synflow / seeds.length, logsynflow: logsynflow / seeds.length };
}

/** All proxies of `cell` on `dataset`; `images` must have the dataset's input size. */
export async function computeProxies(
  cell: Cell,
  dataset: Dataset,
  images: ImageBatch,
  seeds: readonly number[] = DEFAULT_SEEDS,
  threads = 1,
): Promise<ProxyValues> {
  const size = DATASET_SHAPES[dataset].inputSize;
  if (images.size !== size) {
    throw new RangeError(`computeProxies: ${dataset} takes ${size}px images, got ${images.size}px`);
  }
  const live = effectiveCell(cell);
  const naswot = await meanNaswot(live, dataset, images, seeds, threads);
  return { naswot, ...meanSynflow(live, dataset, seeds), skip: skipOf(live) };
}

/** For messages: the effective cell as op names. */
export function describeEffective(cell: Cell): string {
  return effectiveCell(cell)
    .map((op) => OPS[op])
    .join(',');
}
