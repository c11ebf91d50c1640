// The action's caches, through @actions/cache: the pretrained controller (keyed by controller format
// and prior hash; the bundled controller is the fallback, so a miss costs no pretraining) and, per
// hardware tag + fingerprint + dataset + measurement settings, the latencies measured on this
// hardware. Every entry is a small JSON file carrying a format version and a SHA-256 of its payload:
// a corrupted or foreign entry is ignored with a warning. The cache is optional: an unavailable or
// failing service is a warning and a miss, never a failure, and an outage costs seconds: every call
// has a time limit, and after the first failed or timed-out call the run stops calling the service
// (@actions/cache itself retries a failing v2 service for about 30 s a call, 4 calls a run).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as cache from '@actions/cache';
import { z } from 'zod';

import { CONTROLLER_FORMAT_VERSION } from '../controller/artifact.js';
import { PRIOR_HASH } from '../controller/prior.js';
import type { HardwareFingerprint } from '../hardware/fingerprint.js';
import type { AdaptationRecord } from '../pipeline/index.js';
import { DEFAULT_SPACE_ID } from '../spaces/index.js';
import type { Logger } from '../util/log.js';

const ENTRY_FORMAT = 'simnas-cache-entry';
const ENTRY_VERSION = 1;
const ENTRY_FILE = 'entry.json';

/** How a cache lookup ended, as the report and the logs show it. */
export type CacheOutcome = 'hit' | 'miss' | 'disabled' | 'unavailable' | 'ignored' | 'failed';

const entrySchema = z.object({
  format: z.literal(ENTRY_FORMAT),
  version: z.number().int(),
  kind: z.string(),
  sha256: z.string(),
  payload: z.unknown(),
});

function digest(payload: unknown): string {
  return createHash('sha256').update(JSON.stringify(payload)).digest('hex');
}

/**
 * How long one cache call may take. Entries are small JSON files (kilobytes), so a healthy service
 * answers in about a second; a call still running after this is taken for an outage.
 */
export const CACHE_CALL_LIMIT_MS = 10_000;

/**
 * The cache service as one run sees it: each call under a time limit, and none after the first
 * that failed or ran out of time (one warning says so). A call that ran out of time is abandoned,
 * not cancelled: @actions/cache offers no way to stop its retries, so the action exits explicitly
 * when it is done (src/action/bootstrap.ts).
 */
export class CacheService {
  private failure: string | undefined;
  /** Calls made and the wall time they took, for the run's closing log line. */
  calls = 0;
  spentMs = 0;

  constructor(readonly callLimitMs = CACHE_CALL_LIMIT_MS) {}

  /** False once a call failed, or when the runner offers no cache service. */
  get usable(): boolean {
    return this.failure === undefined && cache.isFeatureAvailable();
  }

  /** Runs `call`; undefined when it failed or ran out of time, or the service was given up. */
  async call<T>(what: string, call: () => Promise<T>, logger: Logger): Promise<{ value: T } | undefined> {
    if (this.failure !== undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.callLimitMs / 1000} s`)),
        this.callLimitMs,
      );
    });
    const started = performance.now();
    this.calls++;
    try {
      return { value: await Promise.race([call(), limit]) };
    } catch (error) {
      this.failure = messageOf(error);
      logger.warn(
        `cache ${what} failed (${this.failure}); not calling the cache service again in this run, ` +
          'which goes on without it',
      );
      return undefined;
    } finally {
      clearTimeout(timer);
      this.spentMs += performance.now() - started;
    }
  }

  /** One line on what the cache cost this run. */
  summary(): string {
    const given = this.failure === undefined ? '' : ', then given up';
    return `cache service: ${this.calls} call(s) in ${(this.spentMs / 1000).toFixed(1)} s${given}`;
  }
}

/** The service of this run (one process is one run). */
export const runCacheService = new CacheService();

/** One cached JSON payload in its own folder, restored and saved under a key. */
export class CacheSlot<T> {
  readonly folder: string;

  constructor(
    readonly kind: string,
    private readonly schema: z.ZodType<T>,
    private readonly logger: Logger,
    root = defaultCacheRoot(),
    private readonly service = runCacheService,
  ) {
    this.folder = path.join(root, kind);
  }

  /** Restores the newest entry matching `key` or one of `restoreKeys` (prefixes). */
  async restore(
    key: string,
    restoreKeys: readonly string[] = [],
  ): Promise<{ outcome: CacheOutcome; value?: T; key?: string }> {
    if (!this.service.usable) return { outcome: 'unavailable' };
    rmSync(this.folder, { recursive: true, force: true });
    mkdirSync(this.folder, { recursive: true });
    const restored = await this.service.call(
      `restore of '${this.kind}'`,
      () => cache.restoreCache([this.folder], key, [...restoreKeys]),
      this.logger,
    );
    if (!restored) return { outcome: 'failed' };
    const matched = restored.value;
    if (matched === undefined) return { outcome: 'miss' };
    const value = this.read();
    if (value === undefined) return { outcome: 'ignored', key: matched };
    return { outcome: 'hit', value, key: matched };
  }

  /** Saves `value` under `key`; returns whether it was stored. */
  async save(key: string, value: T): Promise<boolean> {
    if (!this.service.usable) return false;
    mkdirSync(this.folder, { recursive: true });
    writeFileSync(path.join(this.folder, ENTRY_FILE), cacheEntryText(this.kind, value));
    const saved = await this.service.call(
      `save of '${this.kind}'`,
      () => cache.saveCache([this.folder], key),
      this.logger,
    );
    // -1: the service refused or failed; the v2 protocol reports that only as an info line.
    if (saved?.value === -1) {
      this.logger.warn(
        `cache '${this.kind}': not saved (the key exists already, or the cache service refused it)`,
      );
    }
    return saved !== undefined && saved.value !== -1;
  }

  /** The restored payload, or undefined (with a warning) when it is damaged or foreign. */
  private read(): T | undefined {
    const file = path.join(this.folder, ENTRY_FILE);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const parsed = parseCacheEntry(text, this.kind, this.schema);
    if (typeof parsed === 'string') {
      this.logger.warn(`cache '${this.kind}': ignoring the restored entry (${parsed})`);
      return undefined;
    }
    return parsed.value;
  }
}

/** A cache entry file's payload, or why it cannot be trusted. Pure. */
export function parseCacheEntry<T>(
  text: string | undefined,
  kind: string,
  schema: z.ZodType<T>,
): { value: T } | string {
  if (text === undefined) return `${ENTRY_FILE} is missing`;
  let parsed: z.infer<typeof entrySchema>;
  try {
    parsed = entrySchema.parse(JSON.parse(text));
  } catch {
    return 'not a simnas cache entry';
  }
  if (parsed.version !== ENTRY_VERSION || parsed.kind !== kind) {
    return `written as ${parsed.kind} v${parsed.version}, expected ${kind} v${ENTRY_VERSION}`;
  }
  if (digest(parsed.payload) !== parsed.sha256) return 'checksum mismatch';
  const payload = schema.safeParse(parsed.payload);
  if (!payload.success) return 'unexpected contents';
  return { value: payload.data };
}

/** The file `CacheSlot.save` writes for `payload`. */
export function cacheEntryText(kind: string, payload: unknown): string {
  return JSON.stringify({
    format: ENTRY_FORMAT,
    version: ENTRY_VERSION,
    kind,
    sha256: digest(payload),
    payload,
  });
}

export function defaultCacheRoot(): string {
  return path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'simnas-cache');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// What is cached.

/** The controller artifact's text, and the hash of the prior it was trained on. */
export const controllerEntrySchema = z.object({ dataset: z.string(), artifact: z.string() });

export function controllerCacheKey(dataset: string): string {
  return `simnas-controller-v${CONTROLLER_FORMAT_VERSION}-${PRIOR_HASH}-${dataset}`;
}

/**
 * Latencies measured on one hardware, valid only for the same fingerprint, runtime versions and
 * measurement settings (all part of the key, and checked again on restore).
 */
export const measurementsEntrySchema = z.object({
  fingerprintHash: z.string(),
  onnxruntimeVersion: z.string(),
  nodeVersion: z.string(),
  /** The search space whose codes key the latencies (entries before it: the default space, NB201). */
  space: z.string().optional(),
  dataset: z.string(),
  settings: z.object({ provider: z.string(), threads: z.number(), batchSize: z.number() }),
  latencies: z.array(z.tuple([z.number().int().nonnegative(), z.number().positive()])),
  /** Relative sd of each of those measurements, where it was recorded (entries before it lack it). */
  noise: z.array(z.tuple([z.number().int().nonnegative(), z.number().nonnegative()])).optional(),
  /** The latency model fitted to these samples (its predictions as base64 float64), see AdaptationRecord. */
  model: z
    .object({
      samples: z.array(z.tuple([z.number().int().nonnegative(), z.number().positive()])),
      fit: z.object({
        looMapePercent: z.number(),
        looRmseMs: z.number(),
        noiseSd: z.number(),
        modeWeights: z.record(z.string(), z.number()),
      }),
      mean: z.string(),
      std: z.string(),
    })
    .optional(),
});
export type MeasurementsEntry = z.infer<typeof measurementsEntrySchema>;

export interface MeasurementIdentity {
  readonly hardwareTag: string;
  readonly fingerprint: HardwareFingerprint;
  /** The search space (codes of different spaces name different networks). */
  readonly space: string;
  readonly dataset: string;
  readonly settings: MeasurementsEntry['settings'];
}

/** The key prefix shared by every entry of one hardware and setting; the run id makes keys unique. */
export function measurementsKeyPrefix(identity: MeasurementIdentity): string {
  const settings = createHash('sha256')
    .update(JSON.stringify([identity.settings, identity.fingerprint.nodeVersion]))
    .digest('hex')
    .slice(0, 8);
  return `simnas-measurements-v1-${identity.space}-${identity.dataset}-${identity.hardwareTag}-${identity.fingerprint.hash}-${settings}-`;
}

/** Whether a restored entry may stand in for measuring again on this machine now. */
export function reusable(entry: MeasurementsEntry, identity: MeasurementIdentity): string | undefined {
  const { fingerprint } = identity;
  if (entry.fingerprintHash !== fingerprint.hash) return 'another hardware fingerprint';
  if (entry.onnxruntimeVersion !== fingerprint.onnxruntimeVersion) return 'another onnxruntime version';
  if (entry.nodeVersion !== fingerprint.nodeVersion) return 'another Node.js version';
  if ((entry.space ?? DEFAULT_SPACE_ID) !== identity.space) return 'another search space';
  if (entry.dataset !== identity.dataset) return 'another dataset';
  if (JSON.stringify(entry.settings) !== JSON.stringify(identity.settings))
    return 'other measurement settings';
  return undefined;
}

/** An adaptation record in the cache's JSON form (predictions as base64 float64, exact). */
export function encodeAdaptation(record: AdaptationRecord): NonNullable<MeasurementsEntry['model']> {
  const base64 = (values: Float64Array): string =>
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
  return {
    samples: record.samples.map(([code, ms]) => [code, ms]),
    fit: { ...record.fit, modeWeights: { ...record.fit.modeWeights } },
    mean: base64(record.predicted.mean),
    std: base64(record.predicted.std),
  };
}

export function decodeAdaptation(
  model: NonNullable<MeasurementsEntry['model']>,
  dataset: string,
): AdaptationRecord {
  const floats = (text: string): Float64Array => {
    const bytes = Buffer.from(text, 'base64');
    return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  return {
    dataset,
    samples: model.samples,
    fit: model.fit,
    predicted: { mean: floats(model.mean), std: floats(model.std) },
  };
}
