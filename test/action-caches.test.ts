// What the action trusts from its caches: entries carry a version and a checksum, and measurements
// stand in for new ones only on the same fingerprint, runtime versions and settings.
import { describe, expect, it } from 'vitest';

import {
  cacheEntryText,
  decodeAdaptation,
  encodeAdaptation,
  measurementsEntrySchema,
  measurementsKeyPrefix,
  parseCacheEntry,
  reusable,
  type MeasurementIdentity,
  type MeasurementsEntry,
} from '../src/action/caches.js';
import { xeonFingerprint as fingerprint } from './support/fingerprint.js';

const identity: MeasurementIdentity = {
  hardwareTag: 'ci-box',
  fingerprint,
  space: 'nb201',
  dataset: 'cifar10',
  settings: { provider: 'cpu', threads: 1, batchSize: 1 },
};
const entry: MeasurementsEntry = {
  fingerprintHash: fingerprint.hash,
  onnxruntimeVersion: '1.30.0',
  nodeVersion: '20.20.2',
  dataset: 'cifar10',
  settings: { provider: 'cpu', threads: 1, batchSize: 1 },
  latencies: [
    [12, 0.41],
    [345, 0.77],
  ],
};

describe('action cache entries', () => {
  it('round-trips a payload and refuses damaged or foreign ones', () => {
    const text = cacheEntryText('measurements', entry);
    expect(parseCacheEntry(text, 'measurements', measurementsEntrySchema)).toEqual({ value: entry });
    expect(parseCacheEntry(undefined, 'measurements', measurementsEntrySchema)).toMatch(/missing/);
    expect(parseCacheEntry('{"x":', 'measurements', measurementsEntrySchema)).toBe(
      'not a simnas cache entry',
    );
    expect(parseCacheEntry(text, 'controller', measurementsEntrySchema)).toMatch(/expected controller v1/);
    expect(parseCacheEntry(text.replace('0.41', '0.42'), 'measurements', measurementsEntrySchema)).toBe(
      'checksum mismatch',
    );
    const wrongShape = cacheEntryText('measurements', { ...entry, latencies: [[1, -2]] });
    expect(parseCacheEntry(wrongShape, 'measurements', measurementsEntrySchema)).toBe('unexpected contents');
  });

  it('keeps a fitted latency model exactly (predictions as float64)', () => {
    const record = {
      dataset: 'cifar10' as const,
      samples: [[12, 0.41] as const, [345, 0.77] as const],
      fit: { looMapePercent: 3.2, looRmseMs: 0.01, noiseSd: 0.02, modeWeights: { full: 0.4, pruned: 0.6 } },
      predicted: {
        mean: Float64Array.from([0.1, Math.PI, 1e-300]),
        std: Float64Array.from([0.01, Math.E, 0]),
      },
    };
    const stored = measurementsEntrySchema.parse(
      JSON.parse(JSON.stringify({ ...entry, model: encodeAdaptation(record) })),
    );
    expect(decodeAdaptation(stored.model!, 'cifar10')).toEqual(record);
  });

  it('reuses measurements only on the same fingerprint, runtime and settings', () => {
    expect(reusable(entry, identity)).toBeUndefined();
    expect(reusable({ ...entry, fingerprintHash: 'other' }, identity)).toBe('another hardware fingerprint');
    expect(reusable({ ...entry, onnxruntimeVersion: '1.29.0' }, identity)).toBe(
      'another onnxruntime version',
    );
    expect(reusable({ ...entry, nodeVersion: '24.1.0' }, identity)).toBe('another Node.js version');
    expect(reusable({ ...entry, settings: { ...entry.settings, threads: 4 } }, identity)).toBe(
      'other measurement settings',
    );
    // Entries from before the field were NB201's; Macro's codes name other networks.
    expect(reusable({ ...entry, space: 'nb201' }, identity)).toBeUndefined();
    expect(reusable(entry, { ...identity, space: 'macro' })).toBe('another search space');
  });

  it('keys measurements by space, dataset, hardware tag, fingerprint and settings', () => {
    const prefix = measurementsKeyPrefix(identity);
    expect(prefix).toMatch(
      new RegExp(`^simnas-measurements-v1-nb201-cifar10-ci-box-${fingerprint.hash}-[0-9a-f]{8}-$`),
    );
    expect(measurementsKeyPrefix({ ...identity, space: 'macro' })).not.toBe(prefix);
    expect(measurementsKeyPrefix({ ...identity, settings: { ...identity.settings, threads: 2 } })).not.toBe(
      prefix,
    );
    expect(measurementsKeyPrefix({ ...identity, hardwareTag: 'rpi5' })).not.toBe(prefix);
  });
});
