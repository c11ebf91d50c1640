// What a search calls for the task score of any architecture in any space without a proxy table:
// `createTaskScorer(space, options)` computes proxies on demand (network-proxies.ts), caches them
// in memory and on disk, places them on the space's reference sample and scores them with the one
// term-mixing rule (terms.ts). The reference sample is NETWORK_REFERENCE_SIZE seeded random
// architectures, computed on first use and cached like any other value.
import { UsageError } from '../errors.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { silentLogger, type Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { SYNTHETIC_IMAGES_ID, folderImages, syntheticImages } from './images.js';
import type { ImageBatch } from './naswot.js';
import {
  NetworkProxyCache,
  computeNetworkProxies,
  defaultProxyCacheDir,
  inputSizeOf,
  networkProxyCacheId,
  type NetworkProxySettings,
  type NetworkProxyValues,
} from './network-proxies.js';
import {
  NETWORK_SCORE_FORMULA,
  networkNormaliserOf,
  networkTaskScore,
  type NetworkScoreNormaliser,
} from './network-score.js';

/**
 * NASWOT minibatch for networks computed on demand. Chosen on the first 150 architectures of a
 * seeded random order of NAS-Bench-Macro: NASWOT at batch 32 ranks them as at batch 64 (Spearman
 * 0.99993) and as accurately (0.896 vs 0.897 with mean accuracy), at about a third of the time.
 */
export const NETWORK_NASWOT_BATCH = 32;
/** One initialisation: on the same 150 Macro networks seeds 0 and 1 agree at Spearman 0.99993. */
export const NETWORK_SEEDS: readonly number[] = [0];
/** Random architectures the score's normaliser is taken over (a few seconds to a minute, once). */
export const NETWORK_REFERENCE_SIZE = 64;
const REFERENCE_SEED = 0;
const IMAGE_SEED = 0;

export interface TaskScorerOptions {
  /** One of the space's datasets (default its first). */
  readonly dataset?: string;
  /** Folder of PNG/JPEG images for NASWOT instead of synthetic ones. */
  readonly calibrationImages?: string;
  /** On-disk cache folder (default defaultProxyCacheDir()); null keeps values in memory only. */
  readonly cacheDir?: string | null;
  readonly referenceSize?: number;
  /** onnxruntime intra-op threads (default 1). */
  readonly threads?: number;
  readonly logger?: Logger;
}

export interface TaskScorer {
  readonly space: SearchSpace;
  readonly dataset: string;
  /** How the score is made, for reports. */
  readonly formula: string;
  /** Changes whenever any score could (proxy version, settings, images, reference). */
  readonly id: string;
  readonly normaliser: NetworkScoreNormaliser;
  values(architecture: Architecture): Promise<NetworkProxyValues>;
  score(architecture: Architecture): Promise<number>;
  /** Values computed (not read from a cache) so far. */
  readonly computed: number;
}

/** The scorer of `space` on `dataset`; computes (or reads from the cache) the reference sample first. */
export async function createTaskScorer(
  space: SearchSpace,
  options: TaskScorerOptions = {},
): Promise<TaskScorer> {
  const logger = options.logger ?? silentLogger;
  const dataset = options.dataset ?? space.datasets[0]!;
  if (!space.datasets.includes(dataset)) {
    throw new UsageError(
      `unknown dataset '${dataset}' for the ${space.id} space; expected one of ${space.datasets.join(', ')}`,
    );
  }
  const referenceSize = options.referenceSize ?? NETWORK_REFERENCE_SIZE;
  if (!Number.isInteger(referenceSize) || referenceSize < 2) {
    throw new UsageError(
      `the task score's reference sample needs an integer >= 2 networks, got ${referenceSize}`,
    );
  }
  const random = new Random(REFERENCE_SEED).child(`task-score-reference/${space.id}`);
  const reference = Array.from({ length: referenceSize }, () => space.sample(random));
  const size = inputSizeOf(space, dataset, reference[0]!);
  let images: ImageBatch;
  let imagesId: string;
  if (options.calibrationImages) {
    const found = await folderImages(options.calibrationImages, size, NETWORK_NASWOT_BATCH);
    logger.info(`NASWOT calibration: ${found.files.length} images from ${options.calibrationImages}`);
    images = found.batch;
    imagesId = `folder/${found.digest}`;
  } else {
    images = syntheticImages(NETWORK_NASWOT_BATCH, size, IMAGE_SEED);
    imagesId = `${SYNTHETIC_IMAGES_ID}/seed ${IMAGE_SEED}`;
  }
  const settings: NetworkProxySettings = { batchSize: NETWORK_NASWOT_BATCH, seeds: NETWORK_SEEDS, imagesId };
  const cacheId = networkProxyCacheId(space, dataset, settings);
  const cache = new NetworkProxyCache(
    cacheId,
    options.cacheDir === undefined ? defaultProxyCacheDir() : options.cacheDir,
    logger,
  );
  let computed = 0;
  const values = async (architecture: Architecture): Promise<NetworkProxyValues> => {
    const key = space.key(architecture);
    const cached = cache.get(key);
    if (cached) return cached;
    const found = await computeNetworkProxies(
      space,
      architecture,
      dataset,
      images,
      NETWORK_SEEDS,
      options.threads,
    );
    computed++;
    cache.set(key, found);
    return found;
  };
  const missing = reference.filter((a) => !cache.get(space.key(a))).length;
  const progress =
    missing > 0
      ? createProgress({ label: `task-score reference (${space.id})`, total: missing, logger })
      : undefined;
  const referenceValues: NetworkProxyValues[] = [];
  for (const architecture of reference) {
    const known = cache.get(space.key(architecture));
    referenceValues.push(known ?? (await values(architecture)));
    if (!known) progress?.tick();
  }
  progress?.done();
  const normaliser = networkNormaliserOf(referenceValues);
  return {
    space,
    dataset,
    formula: NETWORK_SCORE_FORMULA,
    id: `${cacheId}/${referenceSize}`,
    normaliser,
    values,
    score: async (architecture) => networkTaskScore(await values(architecture), normaliser),
    get computed() {
      return computed;
    },
  };
}
