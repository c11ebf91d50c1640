// What a search calls for the task score of any architecture in any space: `createTaskScorer(space,
// options)`. A space with a committed score table (NB201's proxy table) is scored from it, through
// SearchSpace.openScoreTable; every other space computes its proxies on demand (network-proxies.ts),
// caches them in memory and on disk, and places them on the space's reference sample:
// NETWORK_REFERENCE_SIZE seeded random architectures, computed on first use and cached like any
// other value. Both scores are mixes of terms by the one rule in terms.ts.
import { UsageError } from '../errors.js';
import type { Architecture, ScoreTable, SearchSpace } from '../spaces/space.js';
import { silentLogger, type Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { Random } from '../util/random.js';
import {
  DEFAULT_BATCH_SIZE,
  SYNTHETIC_IMAGES_ID,
  folderImages,
  syntheticImages,
  type FolderImages,
} from './images.js';
import type { ImageBatch } from './naswot-kernel.js';
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
import { BUNDLED_REFERENCE_NORMALISERS } from './network-references.js';

/**
 * NASWOT minibatch for networks computed on demand. Chosen on the first 150 architectures of a
 * seeded random order of NAS-Bench-Macro: NASWOT at batch 32 ranks them as at batch 64 (Spearman
 * 0.99993) and as accurately (0.896 vs 0.897 with mean accuracy), at about a third of the time.
 */
export const NETWORK_NASWOT_BATCH = 32;
/** One initialisation: on the same 150 Macro networks seeds 0 and 1 agree at Spearman 0.99993. */
export const NETWORK_SEEDS: readonly number[] = [0];
/**
 * Random architectures the score's normaliser (a mean and sd per term) is taken over, once per space,
 * dataset and settings (then cached). Checked on the 1,468 NAS-Bench-Macro networks the weights were
 * chosen from: with the normaliser taken over 50 random sets of 16 of them instead of all, the score
 * ranks the networks as the full one does at Spearman >= 0.9965 (median 0.9996; 64: >= 0.9997) and
 * accuracy at 0.905-0.91 either way. 16 costs a quarter of 64's first-use time (about 9 s of one
 * core for FBNet CIFAR-100 instead of 36 s at a load average of 3.5).
 */
export const NETWORK_REFERENCE_SIZE = 16;
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
  /**
   * Use the written-out normaliser where one matches (network-references.ts; default true): false
   * computes the reference sample, as the test that checks those values does.
   */
  readonly bundledReference?: boolean;
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
  /** The proxy values the score is made of, by name. */
  values(architecture: Architecture): Promise<Readonly<Record<string, number>>>;
  /** The task score, in [0, 1]; higher is better. */
  score(architecture: Architecture): Promise<number>;
  /** Values computed (not read from a table or cache) so far. */
  readonly computed: number;
}

/** The scorer of a space without a proxy table. */
export interface NetworkTaskScorer extends TaskScorer {
  readonly normaliser: NetworkScoreNormaliser;
  values(architecture: Architecture): Promise<NetworkProxyValues>;
}

/**
 * Whether a committed table holds every architecture's task score (so a search can rank the whole
 * space at once); every other space's are computed on demand, a network's forward pass each.
 */
export function scoresInTable(space: SearchSpace): boolean {
  return space.openScoreTable !== undefined;
}

/** The task scorer of any space (see the header). */
export async function createTaskScorer(
  space: SearchSpace,
  options: TaskScorerOptions = {},
): Promise<TaskScorer> {
  if (!space.openScoreTable) return createNetworkTaskScorer(space, options);
  const dataset = checkedDataset(space, options.dataset);
  const table = await space.openScoreTable({
    ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return tableTaskScorer(space, dataset, table, Boolean(options.calibrationImages));
}

/**
 * Reads a --calibration-images folder as the task score will (images at the input size of the
 * space's networks for `dataset`), so that a search refuses a bad folder before it measures anything.
 */
export async function readCalibrationImages(
  space: SearchSpace,
  folder: string,
  dataset: string,
): Promise<FolderImages> {
  const chosen = checkedDataset(space, dataset);
  const size = inputSizeOf(space, chosen, space.sample(new Random(REFERENCE_SEED)));
  // A score table's NASWOT runs at the default minibatch (NB201's table); on-demand scoring at its own.
  const batch = space.openScoreTable ? DEFAULT_BATCH_SIZE : NETWORK_NASWOT_BATCH;
  return folderImages(folder, size, batch);
}

function checkedDataset(space: SearchSpace, dataset: string | undefined): string {
  const chosen = dataset ?? space.datasets[0]!;
  if (!space.datasets.includes(chosen)) {
    throw new UsageError(
      `unknown dataset '${chosen}' for the ${space.id} space; expected one of ${space.datasets.join(', ')}`,
    );
  }
  return chosen;
}

/** A space's committed table of task scores, its values and rule (`cacheDir` does not apply). */
function tableTaskScorer(
  space: SearchSpace,
  dataset: string,
  table: ScoreTable,
  ownImages: boolean,
): TaskScorer {
  let computed = 0;
  const proxies = async (architecture: Architecture) => {
    const found = await table.lookup(architecture, dataset);
    if (!found.fromTable) computed++;
    return found;
  };
  return {
    space,
    dataset,
    formula: table.formula,
    id: `${table.version}/${dataset}/${ownImages ? 'calibration images' : SYNTHETIC_IMAGES_ID}`,
    values: async (architecture) => (await proxies(architecture)).values,
    score: async (architecture) => (await proxies(architecture)).taskScore,
    get computed() {
      return computed;
    },
  };
}

/**
 * The on-demand scorer of `space` (any space; NB201's own rule needs createTaskScorer); computes
 * (or reads from the cache) the reference sample first.
 */
export async function createNetworkTaskScorer(
  space: SearchSpace,
  options: TaskScorerOptions = {},
): Promise<NetworkTaskScorer> {
  const logger = options.logger ?? silentLogger;
  const dataset = checkedDataset(space, options.dataset);
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
  const id = `${cacheId}/${referenceSize}`;
  const bundled = options.bundledReference === false ? undefined : BUNDLED_REFERENCE_NORMALISERS[id];
  const normaliser = bundled ?? (await referenceNormaliser(space, reference, values, cache, logger));
  return {
    space,
    dataset,
    formula: NETWORK_SCORE_FORMULA,
    id,
    normaliser,
    values,
    score: async (architecture) => networkTaskScore(await values(architecture), normaliser),
    get computed() {
      return computed;
    },
  };
}

/** The normaliser over the reference sample, computing (with progress) what the cache lacks. */
async function referenceNormaliser(
  space: SearchSpace,
  reference: readonly Architecture[],
  values: (architecture: Architecture) => Promise<NetworkProxyValues>,
  cache: NetworkProxyCache,
  logger: Logger,
): Promise<NetworkScoreNormaliser> {
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
  return networkNormaliserOf(referenceValues);
}
