// What the action carries between runs in @actions/cache, around one search: which controller the
// search runs (the repository's, the cached one, or the bundled one, which is then cached) and this
// hardware's measurements with the latency model fitted to them (restored before the search, saved
// after it or after a failure). The entries themselves (keys, schemas, checks) are in caches.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseArtifact, checkCompatible } from '../controller/artifact.js';
import { policyShapeFor } from '../controller/pretrain.js';
import { spaceById } from '../spaces/index.js';
import { PRIOR_HASH } from '../controller/prior.js';
import type { HardwareFingerprint } from '../hardware/fingerprint.js';
import { DEFAULT_MEASURE_OPTIONS } from '../hardware/measure.js';
import {
  bundledControllerPath,
  type AdaptationRecord,
  type AdaptationReuse,
  type DeviceSpec,
  type SearchResult,
} from '../pipeline/index.js';
import type { StrategyChoice } from '../search/strategies.js';
import type { Logger } from '../util/log.js';
import {
  CacheSlot,
  controllerCacheKey,
  controllerEntrySchema,
  decodeAdaptation,
  encodeAdaptation,
  measurementsEntrySchema,
  measurementsKeyPrefix,
  reusable,
  type CacheOutcome,
  type MeasurementIdentity,
  type MeasurementsEntry,
} from './caches.js';
import type { ActionSettings } from './inputs.js';

/** How each cache's lookup ended in this run, by cache name, as the report shows it. */
export type CacheOutcomes = Record<string, CacheOutcome>;

// ---------------------------------------------------------------------------------------------
// The controller.

export interface ControllerChoice {
  readonly strategy: StrategyChoice;
  readonly path?: string;
  /** The controller to store in the cache after the run (the bundled one, after a miss). */
  readonly saveToCache?: string;
}

/**
 * The controller the search runs: the repository's own (input `controller`), else the cached one,
 * else the bundled one (the pipeline's default; `auto` falls back to evolution without one).
 */
export async function chooseController(
  settings: Pick<ActionSettings, 'strategy' | 'controllerPath' | 'cache' | 'space' | 'dataset'>,
  logger: Logger,
  caches: CacheOutcomes,
): Promise<ControllerChoice> {
  const { strategy } = settings;
  // `auto` uses a controller only when the workflow names one (see resolveStrategy).
  if (settings.controllerPath) return { strategy, path: settings.controllerPath };
  if (strategy !== 'controller') return { strategy };
  if (!settings.cache) {
    caches.controller = 'disabled';
    return { strategy };
  }
  const slot = new CacheSlot('controller', controllerEntrySchema, logger);
  const restored = await slot.restore(controllerCacheKey(settings.dataset));
  caches.controller = restored.outcome;
  const cached =
    restored.value &&
    usableController(restored.value.artifact, settings.space, settings.dataset, slot.folder, logger);
  if (cached) return { strategy, path: cached };
  if (restored.value) caches.controller = 'ignored';
  const bundled = bundledControllerPath(spaceById(settings.space), settings.dataset);
  return { strategy, ...(existsSync(bundled) ? { saveToCache: bundled } : {}) };
}

/** Writes a restored controller to a file if it is one this simnas can load; else warns. */
function usableController(
  text: string,
  spaceId: string,
  dataset: string,
  folder: string,
  logger: Logger,
): string | undefined {
  const file = path.join(folder, `${dataset}.json`);
  try {
    const artifact = parseArtifact(text, 'the cached controller');
    checkCompatible(
      artifact.metadata,
      {
        space: spaceId,
        dataset,
        priorHash: PRIOR_HASH,
        policy: policyShapeFor(spaceById(spaceId), artifact.metadata.policy.hidden),
      },
      'the cached controller',
    );
    writeFileSync(file, text);
    return file;
  } catch (error) {
    logger.warn(`cache 'controller': ignoring the restored entry (${(error as Error).message})`);
    return undefined;
  }
}

/** Caches the controller `chooseController` picked after a miss; nothing when there is none. */
export async function saveController(
  choice: ControllerChoice,
  settings: Pick<ActionSettings, 'cache' | 'dataset'>,
  logger: Logger,
): Promise<void> {
  if (!settings.cache || !choice.saveToCache) return;
  const slot = new CacheSlot('controller', controllerEntrySchema, logger);
  await slot.save(controllerCacheKey(settings.dataset), {
    dataset: settings.dataset,
    artifact: readFileSync(choice.saveToCache, 'utf8'),
  });
}

// ---------------------------------------------------------------------------------------------
// This hardware's measurements.

/** Where measurement entries live: a CacheSlot on a runner; tests may pass any store with these calls. */
export type MeasurementsStore = Pick<CacheSlot<MeasurementsEntry>, 'restore' | 'save'>;

type LiveDeviceSpec = Extract<DeviceSpec, { kind: 'live' }>;

interface MeasuredLatency {
  readonly code: number;
  readonly measuredMs: number;
  readonly relativeNoise?: number;
}

/** The measurements (and fitted latency model) of this hardware, restored once and saved once. */
export class MeasurementCache {
  /** The live device's options for latencies measured on this hardware in earlier runs. */
  readonly deviceReuse: Pick<LiveDeviceSpec, 'reuse' | 'reuseNoise'>;
  /** The pipeline's adaptation options: reuse the restored fit, and remember this run's. */
  readonly adaptationOptions: AdaptationReuse;
  private readonly reuse: ReadonlyMap<number, number> | undefined;
  private readonly reuseNoise: ReadonlyMap<number, number> | undefined;
  private readonly restoredAdaptation: AdaptationRecord | undefined;
  private adaptation: AdaptationRecord | undefined;

  private constructor(
    private readonly enabled: boolean,
    private readonly identity: MeasurementIdentity,
    private readonly store: MeasurementsStore,
    private readonly logger: Logger,
    restored: MeasurementsEntry | undefined,
  ) {
    this.reuse = restored ? new Map(restored.latencies) : undefined;
    this.reuseNoise = restored?.noise ? new Map(restored.noise) : undefined;
    this.restoredAdaptation = restored?.model
      ? decodeAdaptation(restored.model, identity.dataset)
      : undefined;
    this.deviceReuse = {
      ...(this.reuse ? { reuse: this.reuse } : {}),
      ...(this.reuseNoise ? { reuseNoise: this.reuseNoise } : {}),
    };
    this.adaptationOptions = {
      ...(this.restoredAdaptation ? { reuse: this.restoredAdaptation } : {}),
      onAdapted: (record) => (this.adaptation = record),
    };
  }

  /** Restores this hardware's newest entry (when the cache is on) and records how that went. */
  static async open(
    settings: Pick<ActionSettings, 'cache' | 'space' | 'dataset' | 'provider' | 'threads'>,
    hardwareTag: string,
    fingerprint: HardwareFingerprint,
    logger: Logger,
    caches: CacheOutcomes,
    store: MeasurementsStore = new CacheSlot('measurements', measurementsEntrySchema, logger),
  ): Promise<MeasurementCache> {
    const identity: MeasurementIdentity = {
      hardwareTag,
      fingerprint,
      space: settings.space,
      dataset: settings.dataset,
      settings: {
        provider: settings.provider,
        threads: settings.threads,
        batchSize: DEFAULT_MEASURE_OPTIONS.batchSize,
      },
    };
    // Measurements are kept by architecture code; a space too large for codes numbers them per run.
    const enabled = settings.cache && spaceById(settings.space).enumerable;
    if (settings.cache && !enabled) {
      logger.info(
        `cache 'measurements': the ${settings.space} space has no architecture codes to key them by; measuring anew`,
      );
    }
    const restored = enabled ? await restoreMeasurements(store, identity, logger, caches) : undefined;
    if (!enabled) caches.measurements = 'disabled';
    return new MeasurementCache(enabled, identity, store, logger, restored);
  }

  /** After a search: saves what it measured, or a fit it made, on top of what was restored. */
  async saveAfterSearch(result: Pick<SearchResult, 'samples' | 'verified' | 'measurements'>): Promise<void> {
    await this.save(
      // A sample that competed with the verified cells is listed among them too: once is enough.
      [...result.samples, ...result.verified.filter((cell) => cell.source === 'verification')],
      result.measurements.total > 0 || this.fittedNow(),
    );
  }

  /**
   * After a failed search: nothing is lost. Samples measured before a failure (say, a budget below
   * the fastest cell) are cached, so the corrected rerun does not measure them again.
   */
  async saveAfterFailure(): Promise<void> {
    if (!this.adaptation) return;
    await this.save(
      this.adaptation.samples.map(([code, measuredMs]) => ({ code, measuredMs })),
      this.fittedNow(),
    );
  }

  /** A fit made in this run (not the restored one) is worth saving even when nothing was measured. */
  private fittedNow(): boolean {
    return this.adaptation !== undefined && this.adaptation.samples !== this.restoredAdaptation?.samples;
  }

  private async save(measured: readonly MeasuredLatency[], changed: boolean): Promise<void> {
    if (!this.enabled || !changed) return;
    const latencies = new Map(this.reuse);
    const noise = new Map(this.reuseNoise);
    for (const cell of measured) {
      latencies.set(cell.code, cell.measuredMs);
      if (cell.relativeNoise !== undefined) noise.set(cell.code, cell.relativeNoise);
    }
    const { fingerprint } = this.identity;
    // Entries are immutable per key; the run id makes this run's key new, the prefix finds the newest.
    const run = `${process.env.GITHUB_RUN_ID ?? Date.now()}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`;
    const saved = await this.store.save(`${measurementsKeyPrefix(this.identity)}${run}`, {
      fingerprintHash: fingerprint.hash,
      onnxruntimeVersion: fingerprint.onnxruntimeVersion,
      nodeVersion: fingerprint.nodeVersion,
      space: this.identity.space,
      dataset: this.identity.dataset,
      settings: { ...this.identity.settings },
      latencies: [...latencies.entries()].sort((a, b) => a[0] - b[0]),
      noise: [...noise.entries()].sort((a, b) => a[0] - b[0]),
      ...(this.adaptation ? { model: encodeAdaptation(this.adaptation) } : {}),
    });
    if (saved) this.logger.info(`saved ${latencies.size} measurements of this hardware to the cache`);
  }
}

async function restoreMeasurements(
  store: MeasurementsStore,
  identity: MeasurementIdentity,
  logger: Logger,
  caches: CacheOutcomes,
): Promise<MeasurementsEntry | undefined> {
  const prefix = measurementsKeyPrefix(identity);
  const restored = await store.restore(prefix, [prefix]);
  caches.measurements = restored.outcome;
  if (!restored.value) return undefined;
  const mismatch = reusable(restored.value, identity);
  if (mismatch) {
    logger.info(`cached measurements are from ${mismatch}: measuring again`);
    caches.measurements = 'ignored';
    return undefined;
  }
  logger.info(
    `reusing ${restored.value.latencies.length} cached measurements of this hardware (${restored.key})`,
  );
  return restored.value;
}
