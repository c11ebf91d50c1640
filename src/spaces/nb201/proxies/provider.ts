// NB201's proxy values and task score of any cell (what its score table, score-table.ts, the proxy
// commands and the benchmarks call), from the committed table when its settings match, otherwise
// computed on demand and cached in memory. With the user's own calibration images NASWOT is always
// computed (it sees the images); synflow and logsynflow never see images, so they still come from
// the table.
import { createHash } from 'node:crypto';

import { UsageError } from '../../../errors.js';
import { SPACE_SIZE, decodeCell, effectiveCell, encodeCell, type Cell } from '../cell.js';
import { DATASET_SHAPES, parseDataset, type Dataset } from '../datasets.js';
import { silentLogger, type Logger } from '../../../util/log.js';
import { createProgress } from '../../../util/progress.js';
import { DEFAULT_TABLE_SETTINGS } from './build.js';
import { meanNaswot, meanProxies, meanSynflow, type ProxyValues } from './compute.js';
import {
  DEFAULT_BATCH_SIZE,
  SYNTHETIC_IMAGES_ID,
  folderImages,
  syntheticImages,
} from '../../../proxies/images.js';
import type { ImageBatch } from '../../../proxies/naswot-kernel.js';
import { TASK_SCORE_FORMULA, taskScore, type ScoreNormaliser } from './score.js';
import { skipOf } from './skip.js';
import {
  PROXY_ALGORITHM,
  defaultTablePath,
  readTable,
  type ProxyTable,
  type TableSettings,
} from './table.js';

export interface ProxyProviderOptions {
  /** Folder of PNG/JPEG images for NASWOT instead of the synthetic batch. */
  readonly calibrationImages?: string;
  readonly seeds?: readonly number[];
  readonly batchSize?: number;
  /** Table file; default the committed data/proxy-table.jsonl; null: never use a table. */
  readonly tablePath?: string | null;
  /** false: compute every value, using the table only for the task score's normalisation. */
  readonly useTableValues?: boolean;
  /** onnxruntime intra-op threads for on-demand NASWOT (default 1). */
  readonly threads?: number;
  readonly logger?: Logger;
}

export type ProxySource = 'table' | 'computed' | 'mixed';

export interface CellProxies {
  readonly values: ProxyValues;
  /** See score.ts; NaN when no usable table provides the normalisation. */
  readonly taskScore: number;
  /** Where the values came from: the table, computation now, or both (own images). */
  readonly source: ProxySource;
}

export class ProxyProvider {
  private readonly cache = new Map<string, CellProxies>();
  private readonly images = new Map<number, Promise<ImageBatch>>();
  /**
   * Mean NASWOT by `${input size}/${effective code}`: it does not depend on the class count, so
   * datasets with the same input size (cifar10, cifar100) compute it once.
   */
  private readonly naswotBySize = new Map<string, number>();
  private calibrationDigest: string | undefined;

  private constructor(
    private readonly settings: TableSettings,
    private readonly calibrationFolder: string | undefined,
    private readonly table: ProxyTable | undefined,
    private readonly threads: number,
    private readonly useTableValues: boolean,
    private readonly logger: Logger,
  ) {}

  static create(options: ProxyProviderOptions = {}): ProxyProvider {
    const logger = options.logger ?? silentLogger;
    const seeds = options.seeds ?? DEFAULT_TABLE_SETTINGS.seeds;
    if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
      throw new UsageError(`proxy seeds must be a non-empty list of integers, got [${seeds.join(', ')}]`);
    }
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 2) {
      throw new UsageError(`the NASWOT batch size must be an integer >= 2, got ${batchSize}`);
    }
    const settings: TableSettings = {
      seeds,
      batchSize,
      images: options.calibrationImages ? 'folder' : SYNTHETIC_IMAGES_ID,
      imageSeed: DEFAULT_TABLE_SETTINGS.imageSeed,
    };
    let table: ProxyTable | undefined;
    if (options.tablePath !== null) {
      const path = options.tablePath ?? defaultTablePath();
      try {
        table = readTable(path);
      } catch (error) {
        if (options.tablePath !== undefined) throw error;
        logger.warn(
          `no usable proxy table (${error instanceof Error ? error.message : String(error)}); computing on demand`,
        );
      }
      if (table && table.metadata.algorithm !== PROXY_ALGORITHM) {
        logger.warn(
          `proxy table '${path}' was computed by ${table.metadata.algorithm}, this is ${PROXY_ALGORITHM}: ` +
            'it is stale, so every cell is computed on demand (rebuild it with `npm run proxies:build -- --restart`)',
        );
        table = undefined;
      }
    }
    return new ProxyProvider(
      settings,
      options.calibrationImages,
      table,
      options.threads ?? 1,
      options.useTableValues ?? true,
      logger,
    );
  }

  /**
   * The task score of every cell code (0..15,624) on `dataset`, what searches rank by. Cells the
   * table covers are instant; the others are computed now (about a second or more each, with a
   * progress line) unless `computeMissing` is false, in which case they are NaN. `id` changes
   * whenever any score could: use it to key caches of anything trained on these scores.
   */
  async allTaskScores(
    datasetName: string,
    { computeMissing = true }: { computeMissing?: boolean } = {},
  ): Promise<{ scores: Float64Array; id: string; computed: number }> {
    const dataset = parseDataset(datasetName);
    const scores = new Float64Array(SPACE_SIZE).fill(Number.NaN);
    const missing: number[] = [];
    const tableUsable = this.useTableValues && (this.table?.matches(this.settings) ?? false);
    for (let code = 0; code < SPACE_SIZE; code++) {
      const row = tableUsable ? this.table!.lookup(code, dataset) : undefined;
      if (row) {
        const cell = decodeCell(code);
        scores[code] = taskScore(cell, { ...row, skip: skipOf(cell) }, this.normaliser(dataset));
      } else missing.push(code);
    }
    if (computeMissing && missing.length > 0) {
      const effective = new Map<number, number[]>();
      for (const code of missing) {
        const key = encodeCell(effectiveCell(decodeCell(code)));
        effective.set(key, [...(effective.get(key) ?? []), code]);
      }
      const progress = createProgress({
        label: `proxies ${dataset}`,
        total: effective.size,
        logger: this.logger,
      });
      for (const [key, codes] of effective) {
        const { taskScore: score } = await this.proxies(decodeCell(key), dataset);
        for (const code of codes) scores[code] = score;
        progress.tick();
      }
      progress.done();
    }
    const id = createHash('sha256')
      .update(
        JSON.stringify([
          PROXY_ALGORITHM,
          TASK_SCORE_FORMULA,
          this.settings,
          dataset,
          this.table?.size,
          this.table?.bounds(dataset),
        ]),
      )
      .update(this.calibrationDigest ?? '')
      .digest('hex')
      .slice(0, 16);
    return { scores, id, computed: computeMissing ? missing.length : 0 };
  }

  /** Table coverage, for reports: covered effective cells, or 0 without a usable table. */
  get tableCoverage(): number {
    return this.table?.size ?? 0;
  }

  /** What the task score ranks against (from the table; see score.ts). */
  normaliser(dataset: Dataset): ScoreNormaliser {
    if (!this.table) {
      throw new UsageError(
        'the task score ranks cells against the proxy table, and none is usable; ' +
          'run `npm run proxies:build` (or restore data/proxy-table.jsonl)',
      );
    }
    return this.table.normaliser(dataset);
  }

  async proxies(cell: Cell, datasetName: string): Promise<CellProxies> {
    const dataset = parseDataset(datasetName);
    const live = effectiveCell(cell);
    const code = encodeCell(live);
    const key = `${dataset}/${code}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const result = await this.compute(live, code, dataset);
    this.cache.set(key, result);
    return result;
  }

  private async compute(live: Cell, code: number, dataset: Dataset): Promise<CellProxies> {
    const skip = skipOf(live);
    const row = this.useTableValues ? this.table?.lookup(code, dataset) : undefined;
    const weightsMatch = this.table?.matchesWeights(this.settings) ?? false;
    const imagesMatch = this.table?.matches(this.settings) ?? false;
    let source: ProxySource;
    let values: ProxyValues;
    if (row && imagesMatch) {
      source = 'table';
      values = { ...row, skip };
    } else {
      // onnxruntime-node runs a session on the JS thread, so NASWOT and synflow take turns on one
      // core whatever the order; what saves time is not computing anything twice.
      const images = await this.imageBatch(dataset);
      const naswotKey = `${images.size}/${code}`;
      const knownNaswot = this.naswotBySize.get(naswotKey);
      let computed: { naswot: number; synflow: number; logsynflow: number };
      if (row && weightsMatch) {
        const naswot =
          knownNaswot ?? (await meanNaswot(live, dataset, images, this.settings.seeds, this.threads));
        computed = { naswot, synflow: row.synflow, logsynflow: row.logsynflow };
      } else if (knownNaswot !== undefined) {
        computed = { naswot: knownNaswot, ...meanSynflow(live, dataset, this.settings.seeds) };
      } else {
        computed = await meanProxies(live, dataset, images, this.settings.seeds, this.threads);
      }
      this.naswotBySize.set(naswotKey, computed.naswot);
      source = row && weightsMatch ? 'mixed' : 'computed';
      values = { ...computed, skip };
    }
    const score = this.table ? taskScore(live, values, this.normaliser(dataset)) : Number.NaN;
    return { values, taskScore: score, source };
  }

  private imageBatch(dataset: Dataset): Promise<ImageBatch> {
    const size = DATASET_SHAPES[dataset].inputSize;
    let batch = this.images.get(size);
    if (!batch) {
      batch = this.calibrationFolder
        ? folderImages(this.calibrationFolder, size, this.settings.batchSize).then((found) => {
            this.logger.info(
              `NASWOT calibration: ${found.files.length} images from ${this.calibrationFolder}`,
            );
            this.calibrationDigest = found.digest;
            return found.batch;
          })
        : Promise.resolve(syntheticImages(this.settings.batchSize, size, this.settings.imageSeed));
      this.images.set(size, batch);
    }
    return batch;
  }
}
