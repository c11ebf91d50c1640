// The hardware fingerprint: a stable hash and tag that ignore incidental facts (runner name, OS
// release, memory wobble) but change with the hardware and runtime; GPU and runner parsing.
import { describe, expect, it } from 'vitest';

import {
  collectHardwareFacts,
  cpuSlug,
  describeFingerprint,
  fingerprintFromFacts,
  gpuSlug,
  parseNvidiaSmi,
  runnerFromEnvironment,
  type HardwareFacts,
} from '../src/hardware/fingerprint.js';

const FACTS: HardwareFacts = {
  cpuModel: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
  logicalCores: 2,
  memoryBytes: 8 * 1024 ** 3 - 5_000_000,
  platform: 'linux',
  osRelease: '6.5.0-1025-azure',
  arch: 'x64',
  gpus: [],
  onnxruntimeVersion: '1.30.0',
  executionProviders: [
    { name: 'cpu', bundled: true },
    { name: 'cuda', bundled: false },
  ],
  nodeVersion: '20.20.2',
  runner: { name: 'GitHub Actions 12', os: 'Linux', arch: 'X64', environment: 'github-hosted' },
};

describe('hardware fingerprint', () => {
  it('derives a stable 12-hex hash and a readable tag', () => {
    const fingerprint = fingerprintFromFacts(FACTS);
    expect(fingerprint.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(fingerprint.tag).toBe('linux-x64-xeon-8375c-2c');
    expect(fingerprintFromFacts({ ...FACTS }).hash).toBe(fingerprint.hash);
    expect(fingerprint.cpuModel).toBe(FACTS.cpuModel);
    expect(describeFingerprint(fingerprint)).toContain('[' + fingerprint.hash + ']');
  });

  it('ignores runner name, OS release, Node version and memory wobble', () => {
    const base = fingerprintFromFacts(FACTS).hash;
    const variants: HardwareFacts[] = [
      { ...FACTS, runner: { ...FACTS.runner, name: 'GitHub Actions 97' } },
      { ...FACTS, runner: {} },
      { ...FACTS, osRelease: '6.8.0-1010-azure' },
      { ...FACTS, nodeVersion: '24.1.0' },
      { ...FACTS, memoryBytes: FACTS.memoryBytes + 20_000_000 },
      { ...FACTS, executionProviders: [...FACTS.executionProviders].reverse() },
    ];
    for (const variant of variants) expect(fingerprintFromFacts(variant).hash).toBe(base);
  });

  it('changes with the hardware and the runtime', () => {
    const base = fingerprintFromFacts(FACTS).hash;
    const variants: HardwareFacts[] = [
      { ...FACTS, cpuModel: 'AMD EPYC 7763 64-Core Processor' },
      { ...FACTS, logicalCores: 4 },
      { ...FACTS, memoryBytes: 16 * 1024 ** 3 },
      { ...FACTS, arch: 'arm64' },
      { ...FACTS, onnxruntimeVersion: '1.31.0' },
      { ...FACTS, executionProviders: [{ name: 'cpu', bundled: true }] },
      {
        ...FACTS,
        gpus: [{ name: 'NVIDIA H100 80GB HBM3', memoryTotal: '81559 MiB', driverVersion: '550.54' }],
      },
    ];
    const hashes = new Set(variants.map((variant) => fingerprintFromFacts(variant).hash));
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(base)).toBe(false);
  });

  it('names CPUs and GPUs compactly', () => {
    expect(cpuSlug('AMD EPYC 7763 64-Core Processor')).toBe('epyc-7763');
    expect(cpuSlug('Intel(R) Xeon(R) Processor')).toBe('xeon');
    expect(cpuSlug('Apple M2')).toBe('apple-m2');
    expect(cpuSlug('')).toBe('unknown-cpu');
    expect(gpuSlug('NVIDIA H100 80GB HBM3')).toBe('h100');
    expect(gpuSlug('NVIDIA GeForce RTX 4090')).toBe('rtx-4090');
    const withGpu = fingerprintFromFacts({
      ...FACTS,
      gpus: [{ name: 'NVIDIA H100 80GB HBM3', memoryTotal: '81559 MiB', driverVersion: '550.54' }],
    });
    expect(withGpu.tag).toBe('linux-x64-xeon-8375c-2c-h100');
  });

  it('parses nvidia-smi CSV output and tolerates junk', () => {
    expect(
      parseNvidiaSmi('NVIDIA H100 80GB HBM3, 81559 MiB, 550.54.15\nTesla T4, 15360 MiB, 535.1\n\n'),
    ).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memoryTotal: '81559 MiB', driverVersion: '550.54.15' },
      { name: 'Tesla T4', memoryTotal: '15360 MiB', driverVersion: '535.1' },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
    expect(parseNvidiaSmi('garbage line')).toEqual([]);
  });

  it('reads the GitHub runner variables that are set', () => {
    expect(
      runnerFromEnvironment({
        RUNNER_NAME: 'gpu-box-1',
        RUNNER_OS: 'Linux',
        RUNNER_ARCH: 'X64',
        RUNNER_ENVIRONMENT: 'self-hosted',
      }),
    ).toEqual({ name: 'gpu-box-1', os: 'Linux', arch: 'X64', environment: 'self-hosted' });
    expect(runnerFromEnvironment({ RUNNER_OS: ' ' })).toEqual({});
  });

  it('collects facts about this machine', async () => {
    const facts = await collectHardwareFacts({ RUNNER_NAME: 'local' });
    expect(facts.logicalCores).toBeGreaterThan(0);
    expect(facts.memoryBytes).toBeGreaterThan(0);
    expect(facts.cpuModel.length).toBeGreaterThan(0);
    expect(facts.platform).toBe(process.platform);
    expect(facts.arch).toBe(process.arch);
    expect(facts.onnxruntimeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(facts.executionProviders.map((ep) => ep.name)).toContain('cpu');
    expect(facts.runner).toEqual({ name: 'local' });
    expect(Array.isArray(facts.gpus)).toBe(true);
  });
});
