// One fixed runner fingerprint (a 2-core Xeon, CPU provider) for tests of what is keyed on it.
import { fingerprintFromFacts } from '../../src/hardware/fingerprint.js';

export const xeonFingerprint = fingerprintFromFacts({
  cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
  logicalCores: 2,
  memoryBytes: 24 * 1024 ** 3,
  platform: 'linux',
  osRelease: '6.1',
  arch: 'x64',
  gpus: [],
  onnxruntimeVersion: '1.30.0',
  executionProviders: [{ name: 'cpu', bundled: true }],
  nodeVersion: '20.20.2',
  runner: {},
});
