// Computes every proxy of one cell from scratch: NASWOT (onnxruntime, float32 forward with the
// kernel in the graph) and synflow/logsynflow (our float64 interpreter of the same graph), each
// averaged over the seeded initialisations, plus skip. Values depend on the effective cell only.
import { buildNetworkGraph } from '../network.js';
import { effectiveCell, isConnected, type Cell } from '../cell.js';
import { DATASET_SHAPES, type Dataset } from '../datasets.js';
import type { ImageBatch } from '../../../proxies/naswot-kernel.js';
import { naswotOf, naswotOfNetwork } from './naswot.js';
import { skipOf } from './skip.js';
import { synflowOf, synflowOfGraph, type SynflowValues } from './synflow.js';

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

/**
 * NASWOT, synflow and logsynflow, each the mean over `seeds`: what meanNaswot and meanSynflow give,
 * from one network build per seed (its weights are drawn once; synflow reads the graph before
 * NASWOT turns it into its probe).
 */
export async function meanProxies(
  cell: Cell,
  dataset: Dataset,
  images: ImageBatch,
  seeds: readonly number[],
  threads = 1,
): Promise<{ naswot: number } & SynflowValues> {
  if (!isConnected(cell)) return { naswot: Number.NEGATIVE_INFINITY, synflow: 0, logsynflow: 0 };
  let naswot = 0;
  let synflow = 0;
  let logsynflow = 0;
  for (const seed of seeds) {
    const network = buildNetworkGraph(cell, { dataset, batchSize: images.count, seed, prune: true });
    const values = synflowOfGraph(network);
    synflow += values.synflow;
    logsynflow += values.logsynflow;
    naswot += await naswotOfNetwork(network, images, threads);
  }
  const count = seeds.length;
  return { naswot: naswot / count, synflow: synflow / count, logsynflow: logsynflow / count };
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
  return { ...(await meanProxies(live, dataset, images, seeds, threads)), skip: skipOf(live) };
}
