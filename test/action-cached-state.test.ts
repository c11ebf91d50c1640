// When the action saves this hardware's measurements: after a search that measured something or fitted
// a new latency model (even with nothing measured), after a failure with the samples measured so far,
// never when a restored entry was reused unchanged or the cache is off. The store here keeps entries
// as the cache files CacheSlot writes; the @actions/cache protocol itself is test/action-run's.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  cacheEntryText,
  encodeAdaptation,
  measurementsEntrySchema,
  parseCacheEntry,
  type CacheOutcome,
  type MeasurementsEntry,
} from '../src/action/caches.js';
import { MeasurementCache, type CacheOutcomes, type MeasurementsStore } from '../src/action/cached-state.js';
import type { AdaptationRecord, SearchResult } from '../src/pipeline/index.js';
import { silentLogger } from '../src/util/log.js';
import { xeonFingerprint as fingerprint } from './support/fingerprint.js';

const settings = { cache: true, space: 'nb201', dataset: 'cifar10', provider: 'cpu', threads: 1 } as const;

/** Entries by key, kept as cache entry files; restore matches an exact key, else the newest by prefix. */
class FileStore implements MeasurementsStore {
  readonly files = new Map<string, string>();
  restores = 0;

  async restore(
    key: string,
    restoreKeys: readonly string[] = [],
  ): Promise<{ outcome: CacheOutcome; value?: MeasurementsEntry; key?: string }> {
    this.restores += 1;
    const keys = [...this.files.keys()].reverse();
    const matched = this.files.has(key)
      ? key
      : restoreKeys.flatMap((prefix) => keys.filter((k) => k.startsWith(prefix)))[0];
    if (matched === undefined) return { outcome: 'miss' };
    const parsed = parseCacheEntry(this.files.get(matched), 'measurements', measurementsEntrySchema);
    if (typeof parsed === 'string') return { outcome: 'ignored', key: matched };
    return { outcome: 'hit', value: parsed.value, key: matched };
  }

  async save(key: string, value: MeasurementsEntry): Promise<boolean> {
    if (this.files.has(key)) return false;
    this.files.set(key, cacheEntryText('measurements', value));
    return true;
  }

  newest(): MeasurementsEntry {
    const text = [...this.files.values()].at(-1);
    const parsed = parseCacheEntry(text, 'measurements', measurementsEntrySchema);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed.value;
  }
}

function fitted(samples: readonly (readonly [number, number])[]): AdaptationRecord {
  return {
    dataset: 'cifar10',
    samples: samples.map(([code, ms]) => [code, ms] as const),
    fit: { looMapePercent: 4, looRmseMs: 0.02, noiseSd: 0.03, modeWeights: { full: 1 } },
    predicted: { mean: Float64Array.from([0.5, 0.6]), std: Float64Array.from([0.05, 0.06]) },
  };
}

const SAMPLES = [
  [12, 0.41],
  [345, 0.77],
] as const;

/** What a search hands back, reduced to what is saved: its measured cells and their count. */
function searched(
  measured: readonly { code: number; measuredMs: number; relativeNoise?: number }[],
): Pick<SearchResult, 'samples' | 'verified' | 'measurements'> {
  return {
    samples: measured.map((cell) => ({ ...cell, cell: `cell ${cell.code}` })),
    verified: [],
    measurements: { samples: measured.length, verification: 0, total: measured.length, reused: 0 },
  };
}

async function open(
  store: FileStore,
  caches: CacheOutcomes = {},
  changed: Partial<Parameters<typeof MeasurementCache.open>[0]> = {},
): Promise<MeasurementCache> {
  return MeasurementCache.open(
    { ...settings, ...changed },
    'ci-box',
    fingerprint,
    silentLogger,
    caches,
    store,
  );
}

/** Runs a cold cache through one adaptation and a search, leaving its entry in `store`. */
async function coldRun(store: FileStore, model: boolean): Promise<void> {
  const cold = await open(store);
  if (model) cold.adaptationOptions.onAdapted?.(fitted(SAMPLES));
  await cold.saveAfterSearch(searched(SAMPLES.map(([code, measuredMs]) => ({ code, measuredMs }))));
}

beforeEach(() => {
  vi.stubEnv('GITHUB_RUN_ID', '1');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the measurement cache of the action', () => {
  it('saves a fit made in this run even when nothing new was measured', async () => {
    const store = new FileStore();
    await coldRun(store, false);
    expect(store.newest().model).toBeUndefined();

    vi.stubEnv('GITHUB_RUN_ID', '2');
    const caches: CacheOutcomes = {};
    const warm = await open(store, caches);
    expect(caches.measurements).toBe('hit');
    expect(warm.deviceReuse.reuse).toEqual(new Map(SAMPLES));
    expect(warm.adaptationOptions.reuse).toBeUndefined();
    const record = fitted(SAMPLES);
    warm.adaptationOptions.onAdapted?.(record);
    await warm.saveAfterSearch(searched([]));
    expect(store.files.size).toBe(2);
    expect(store.newest().latencies).toEqual(SAMPLES);
    expect(store.newest().model).toEqual(encodeAdaptation(record));
  });

  it('does not save again when the restored fit is reused and nothing was measured', async () => {
    const store = new FileStore();
    await coldRun(store, true);

    vi.stubEnv('GITHUB_RUN_ID', '2');
    const warm = await open(store);
    const restored = warm.adaptationOptions.reuse;
    expect(restored?.samples).toEqual(SAMPLES);
    warm.adaptationOptions.onAdapted?.(restored!);
    await warm.saveAfterSearch(searched([]));
    expect(store.files.size).toBe(1);

    // A cell verified in this run is new: saved beside the restored ones, with its noise.
    await warm.saveAfterSearch(searched([{ code: 7, measuredMs: 0.3, relativeNoise: 0.02 }]));
    expect(store.files.size).toBe(2);
    expect(store.newest().latencies).toEqual([[7, 0.3], ...SAMPLES]);
    expect(store.newest().noise).toEqual([[7, 0.02]]);
    expect(store.newest().model).toEqual(encodeAdaptation(restored!));
  });

  it('keeps the samples of a failed search, once they were fitted', async () => {
    const store = new FileStore();
    const caches: CacheOutcomes = {};
    const failed = await open(store, caches);
    expect(caches.measurements).toBe('miss');
    await failed.saveAfterFailure();
    expect(store.files.size).toBe(0);

    failed.adaptationOptions.onAdapted?.(fitted(SAMPLES));
    await failed.saveAfterFailure();
    expect(store.newest().latencies).toEqual(SAMPLES);
    expect(store.newest().model?.samples).toEqual(SAMPLES);
  });

  it('ignores an entry that does not match this machine, and does nothing when the cache is off', async () => {
    const store = new FileStore();
    await coldRun(store, true);
    const [key] = [...store.files.keys()];
    store.files.set(
      `${key}-later`,
      cacheEntryText('measurements', { ...store.newest(), nodeVersion: '24.1.0' }),
    );

    const caches: CacheOutcomes = {};
    const foreign = await open(store, caches);
    expect(caches.measurements).toBe('ignored');
    expect(foreign.deviceReuse).toEqual({});
    expect(foreign.adaptationOptions.reuse).toBeUndefined();

    const restores = store.restores;
    const off = await open(store, caches, { cache: false });
    expect(caches.measurements).toBe('disabled');
    expect(store.restores).toBe(restores);
    vi.stubEnv('GITHUB_RUN_ID', '2');
    off.adaptationOptions.onAdapted?.(fitted(SAMPLES));
    await off.saveAfterSearch(searched([{ code: 7, measuredMs: 0.3 }]));
    await off.saveAfterFailure();
    expect(store.files.size).toBe(2);

    // FBNet's architectures are numbered per run: nothing is restored or saved under those numbers.
    const fbnet = await open(store, caches, { space: 'fbnet', dataset: 'cifar100' });
    expect(caches.measurements).toBe('disabled');
    expect(store.restores).toBe(restores);
    await fbnet.saveAfterSearch(searched([{ code: 0, measuredMs: 4.2 }]));
    expect(store.files.size).toBe(2);
  });
});
