// Training-free proxies of any space's network, computed on demand from `space.networkGraph`:
// NASWOT (graph-naswot.ts) with its ReLU unit count and ReLU count, and the space's own params and
// FLOPs. Values are cached in memory and in a JSONL file on disk, keyed by the architecture's key,
// the dataset and everything the values depend on (proxy version, batch size, seeds, images), so a
// rerun, another search on the same machine, or the benchmark's second pass costs nothing.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';

import type { Architecture, SearchSpace } from '../spaces/space.js';
import { silentLogger, type Logger } from '../util/log.js';
import { naswotOfGraph } from './graph-naswot.js';
import type { ImageBatch } from './naswot-kernel.js';

/** Bump whenever a value below would change for the same inputs: cached values then go unused. */
export const NETWORK_PROXY_VERSION = 'simnas-network-proxies-1';

/** Proxy values of one architecture on one dataset. */
export type NetworkProxyValues = {
  /** Mean log|det K| over the seeds. */
  readonly naswot: number;
  /** D, ReLU units per input. */
  readonly reluUnits: number;
  /** ReLU nodes in the network: its depth in nonlinearities. */
  readonly relus: number;
  readonly paramsM: number;
  readonly flopsM: number;
};

export interface NetworkProxySettings {
  /** NASWOT minibatch: the kernel's order B. */
  readonly batchSize: number;
  readonly seeds: readonly number[];
  /** Identifies the images (`dead-leaves-v1/seed 0`, or a digest of the user's folder). */
  readonly imagesId: string;
}

/**
 * Where simnas caches proxy values by default: $SIMNAS_CACHE_DIR, else $XDG_CACHE_HOME/simnas,
 * else ~/.cache/simnas (a per-user folder, so every search on this machine shares it).
 */
export function defaultProxyCacheDir(): string {
  if (process.env.SIMNAS_CACHE_DIR) return process.env.SIMNAS_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'simnas');
}

export const PROXY_CACHE_FILE = 'network-proxies.jsonl';

/** One cached line: `{"id": settings digest, "key": architecture key, "values": {...}}`. */
interface CacheLine {
  readonly id: string;
  readonly key: string;
  readonly values: NetworkProxyValues;
}

/**
 * Values by architecture key for one (space, dataset, settings), in memory and, unless `dir` is
 * null, appended to `dir/network-proxies.jsonl`. A file that cannot be read or written is a
 * warning: the cache then lives in memory only.
 */
export class NetworkProxyCache {
  private readonly memory = new Map<string, NetworkProxyValues>();
  private readonly file: string | undefined;
  private diskUsable: boolean;

  constructor(
    readonly id: string,
    dir: string | null,
    private readonly logger: Logger = silentLogger,
  ) {
    this.file = dir === null ? undefined : path.join(dir, PROXY_CACHE_FILE);
    this.diskUsable = this.file !== undefined;
    if (this.file && existsSync(this.file)) this.load(this.file);
  }

  get size(): number {
    return this.memory.size;
  }

  get(key: string): NetworkProxyValues | undefined {
    return this.memory.get(key);
  }

  set(key: string, values: NetworkProxyValues): void {
    this.memory.set(key, values);
    if (!this.diskUsable || !this.file) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const line: CacheLine = { id: this.id, key, values };
      appendFileSync(this.file, `${JSON.stringify(line, (_, v: unknown) => (v === -Infinity ? null : v))}\n`);
    } catch (error) {
      this.diskUsable = false;
      this.logger.warn(
        `proxy cache: cannot write ${this.file} (${error instanceof Error ? error.message : String(error)}); ` +
          'values stay in memory only',
      );
    }
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      this.logger.warn(
        `proxy cache: cannot read ${file} (${error instanceof Error ? error.message : String(error)}); starting empty`,
      );
      return;
    }
    let bad = 0;
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      try {
        const line = JSON.parse(raw) as CacheLine;
        if (line.id !== this.id) continue;
        const values = { ...line.values, naswot: line.values.naswot ?? Number.NEGATIVE_INFINITY };
        if (typeof line.key === 'string' && typeof values.flopsM === 'number')
          this.memory.set(line.key, values);
        else bad++;
      } catch {
        bad++;
      }
    }
    // A line cut short by an interrupted run is expected; it is recomputed when asked for.
    if (bad > 0) this.logger.warn(`proxy cache: skipped ${bad} unreadable line(s) of ${file}`);
  }
}

/** The cache id of a space, dataset and settings: values under another id are never used. */
export function networkProxyCacheId(
  space: SearchSpace,
  dataset: string,
  settings: NetworkProxySettings,
): string {
  return createHash('sha256')
    .update(JSON.stringify([NETWORK_PROXY_VERSION, space.id, dataset, settings]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Computes the proxies of `architecture`: one network per seed at batch `images.count`, BatchNorm
 * in batch-statistics mode, NASWOT averaged over the seeds; params and FLOPs from the space.
 */
export async function computeNetworkProxies(
  space: SearchSpace,
  architecture: Architecture,
  dataset: string,
  images: ImageBatch,
  seeds: readonly number[],
  threads = 1,
): Promise<NetworkProxyValues> {
  let naswot = 0;
  let reluUnits = 0;
  let relus = 0;
  for (const seed of seeds) {
    const network = space.networkGraph(architecture, {
      dataset,
      batchSize: images.count,
      seed,
      unfoldedBatchNorm: true,
    });
    relus = network.graph.nodes.filter((node) => node.opType === 'Relu').length;
    const found = await naswotOfGraph(network, images, threads);
    naswot += found.naswot;
    reluUnits = found.reluUnits;
  }
  const { paramsM, flopsM } = space.counts(architecture, dataset);
  return { naswot: naswot / seeds.length, reluUnits, relus, paramsM, flopsM };
}

/** The input side of `space`'s networks on `dataset` (read off a batch-1 graph's input). */
export function inputSizeOf(space: SearchSpace, dataset: string, architecture: Architecture): number {
  const dims = space.networkGraph(architecture, { dataset, batchSize: 1, seed: 0 }).input.dims;
  return dims[dims.length - 1]!;
}
