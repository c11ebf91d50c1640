// `simnas proxies build`: computes the proxy table for every effective cell in parallel child
// processes (onnxruntime-node is happiest outside worker threads), appending each finished row to
// the table file so an interruption loses at most the cells in flight. Rerunning resumes: rows
// already present are skipped. Cells are visited in a seeded random order, so a partial table is
// a uniform random sample of the space and figures computed over it are unbiased.
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { UsageError } from '../../../errors.js';
import { decodeCell } from '../cell.js';
import { DATASETS, DATASET_SHAPES } from '../datasets.js';
import type { Logger } from '../../../util/log.js';
import { createProgress } from '../../../util/progress.js';
import { Random } from '../../../util/random.js';
import { meanNaswot, meanSynflow } from './compute.js';
import { DEFAULT_BATCH_SIZE, SYNTHETIC_IMAGES_ID, syntheticImages } from '../../../proxies/images.js';
import type { ImageBatch } from '../../../proxies/naswot-kernel.js';
import {
  PROXY_ALGORITHM,
  describeRows,
  effectiveCodes,
  formatRow,
  readTable,
  sameSettings,
  type TableMetadata,
  type TableSettings,
} from './table.js';

export const DEFAULT_TABLE_SETTINGS: TableSettings = {
  seeds: [0, 1, 2],
  batchSize: DEFAULT_BATCH_SIZE,
  images: SYNTHETIC_IMAGES_ID,
  imageSeed: 0,
};

export interface BuildOptions {
  readonly path: string;
  readonly workers: number;
  readonly logger: Logger;
  /** Stop after this many new cells (for trials); default all. */
  readonly limit?: number;
  /** Start over even if the file holds a table with other settings. */
  readonly restart?: boolean;
  /** The command line that starts a worker: the CLI entry and its arguments. */
  readonly workerEntry: string;
  readonly workerArgs: readonly string[];
}

/** Image batches for each input size, shared by all datasets of that size. */
export function tableImages(settings: TableSettings): Map<number, ImageBatch> {
  const sizes = new Set(DATASETS.map((d) => DATASET_SHAPES[d].inputSize));
  return new Map(
    [...sizes].map((size) => [size, syntheticImages(settings.batchSize, size, settings.imageSeed)]),
  );
}

/**
 * All table values of one effective cell. NASWOT depends on the input size, not the class count
 * (the classifier is downstream of every ReLU and the body's weights are drawn by position), so
 * datasets with the same input size share one NASWOT computation.
 */
export async function tableRow(
  code: number,
  settings: TableSettings,
  images: ReadonlyMap<number, ImageBatch>,
  threads = 1,
): Promise<number[]> {
  const cell = decodeCell(code);
  const naswotBySize = new Map<number, number>();
  const values: number[] = [];
  for (const dataset of DATASETS) {
    const size = DATASET_SHAPES[dataset].inputSize;
    if (!naswotBySize.has(size)) {
      naswotBySize.set(size, await meanNaswot(cell, dataset, images.get(size)!, settings.seeds, threads));
    }
    const { synflow, logsynflow } = meanSynflow(cell, dataset, settings.seeds);
    values.push(naswotBySize.get(size)!, synflow, logsynflow);
  }
  return values;
}

export async function buildProxyTable(options: BuildOptions): Promise<TableMetadata> {
  const { path, logger } = options;
  const settings = DEFAULT_TABLE_SETTINGS;
  const rows = new Map<number, Float64Array>();
  let startedAt = new Date().toISOString();
  if (existsSync(path)) {
    const existing = readTable(path);
    const stale =
      existing.metadata.algorithm !== PROXY_ALGORITHM || !sameSettings(existing.metadata.settings, settings);
    if (stale && !options.restart) {
      throw new UsageError(
        `proxy table '${path}' was built by ${existing.metadata.algorithm} with other settings; ` +
          'pass --restart to rebuild it from scratch',
      );
    }
    if (!stale) {
      for (const code of existing.codes()) rows.set(code, rowOf(existing, code));
      startedAt = existing.metadata.generated.startedAt;
      logger.info(`resuming: ${rows.size} effective cells already in ${path}`);
    }
  }
  const generated = (): TableMetadata['generated'] => ({
    startedAt,
    updatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  });
  const rewrite = (): TableMetadata => {
    const metadata = describeRows(rows, settings, generated());
    const ordered = [...rows.keys()].sort((a, b) => a - b);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      [JSON.stringify(metadata), ...ordered.map((code) => formatRow(code, [...rows.get(code)!]))].join('\n') +
        '\n',
    );
    return metadata;
  };

  // Every effective cell, the disconnected one included, takes its turn in one seeded order, so the
  // covered cells of a partial table are a uniform (cluster) sample of the space.
  const order = buildOrder();
  rewrite();
  const pending = order.filter((code) => !rows.has(code)).slice(0, options.limit ?? Number.POSITIVE_INFINITY);
  if (pending.length === 0) {
    logger.info('the table is complete');
    return rewrite();
  }
  logger.info(
    `computing ${pending.length} effective cells with ${options.workers} worker(s); Ctrl-C keeps what is done`,
  );
  const progress = createProgress({ label: 'proxy table', total: pending.length, logger });
  const queue = [...pending];
  const workers: ChildProcess[] = [];
  let failure: Error | undefined;
  const stopAll = (): void => {
    for (const worker of workers) worker.kill();
  };
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    stopAll();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await Promise.all(
      Array.from(
        { length: Math.min(options.workers, pending.length) },
        () =>
          new Promise<void>((resolveWorker) => {
            const worker = fork(options.workerEntry, [...options.workerArgs], {
              stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
            });
            workers.push(worker);
            const next = (): void => {
              const code = queue.shift();
              if (code === undefined || failure || interrupted) worker.kill();
              else worker.send({ code });
            };
            worker.on('message', (message: { code: number; values?: (number | null)[]; error?: string }) => {
              if (message.error !== undefined) {
                failure = new Error(`worker failed on cell code ${message.code}: ${message.error}`);
                stopAll();
                return;
              }
              // IPC messages are JSON: a disconnected cell's -Infinity NASWOT arrives as null (it was
              // stored as 0 once, and scored the 341 disconnected cells like weak real networks).
              const values = Float64Array.from(message.values!, (v) => v ?? Number.NEGATIVE_INFINITY);
              rows.set(message.code, values);
              appendFileSync(path, formatRow(message.code, [...values]) + '\n');
              progress.tick(1);
              next();
            });
            worker.on('exit', () => resolveWorker());
            next();
          }),
      ),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.done();
  }
  const metadata = rewrite();
  logger.info(
    `table: ${metadata.coverage.effectiveCells}/${metadata.coverage.effectiveCellsTotal} effective cells ` +
      `(${metadata.coverage.cells}/${metadata.coverage.cellsTotal} cells) in ${path}`,
  );
  if (failure) throw failure;
  if (interrupted) {
    logger.warn('interrupted: the rows above are kept; rerun the same command to resume');
  }
  return metadata;
}

/** The order in which the build visits effective cells (a prefix of it is what a partial table holds). */
export function buildOrder(): number[] {
  return new Random(20_241_127).shuffled(effectiveCodes());
}

function rowOf(table: ReturnType<typeof readTable>, code: number): Float64Array {
  return Float64Array.from(
    DATASETS.flatMap((dataset) => {
      const values = table.lookup(code, dataset)!;
      return [values.naswot, values.synflow, values.logsynflow];
    }),
  );
}

/** The worker side: answers {code} messages with the row's values until the parent disconnects. */
export async function runTableWorker(): Promise<void> {
  const settings = DEFAULT_TABLE_SETTINGS;
  const images = tableImages(settings);
  await new Promise<void>((resolveDone) => {
    process.on('message', (message: { code: number }) => {
      tableRow(message.code, settings, images)
        .then((values) => process.send!({ code: message.code, values }))
        .catch((error: unknown) =>
          process.send!({
            code: message.code,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
        );
    });
    process.on('disconnect', () => resolveDone());
  });
}
