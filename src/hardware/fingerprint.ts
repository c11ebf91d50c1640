// Hardware fingerprint: which machine and runtime a latency was measured on, so that measurements,
// caches and reports can be keyed by device. Collecting facts (I/O: os, nvidia-smi, onnxruntime)
// is kept apart from deriving the fingerprint (pure), so the hash rules are testable.
//
// The hash covers what changes latency: platform, arch, CPU model, logical cores, memory (whole
// GiB, because the kernel's reported total wobbles by a few MiB between boots), GPU models and
// memory, the onnxruntime version and its execution providers. It deliberately leaves out the
// runner name, OS release, driver and Node versions: those change with image updates or per job
// without changing the hardware, and a hash that churned with them would defeat caching.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';

import { listSupportedBackends, env as ortEnv } from 'onnxruntime-node';

export interface GpuInfo {
  readonly name: string;
  /** As nvidia-smi prints it, e.g. "81559 MiB". */
  readonly memoryTotal: string;
  readonly driverVersion: string;
}

export interface ExecutionProviderInfo {
  readonly name: string;
  /** False when onnxruntime-node knows the provider but its libraries ship separately (e.g. CUDA). */
  readonly bundled: boolean;
}

/** GitHub Actions runner facts, from RUNNER_* variables where set. */
export interface RunnerInfo {
  readonly name?: string;
  readonly os?: string;
  readonly arch?: string;
  /** "github-hosted" or "self-hosted". */
  readonly environment?: string;
}

/** Raw facts about this machine, as collected. */
export interface HardwareFacts {
  readonly cpuModel: string;
  readonly logicalCores: number;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly osRelease: string;
  readonly arch: string;
  readonly gpus: readonly GpuInfo[];
  readonly onnxruntimeVersion: string;
  readonly executionProviders: readonly ExecutionProviderInfo[];
  readonly nodeVersion: string;
  readonly runner: RunnerInfo;
}

export interface HardwareFingerprint extends HardwareFacts {
  /** 12 hex digits of SHA-256 over the hardware+runtime fields (see module header). */
  readonly hash: string;
  /** Human-readable, e.g. "linux-x64-xeon-8375c-2c". Not unique: pair it with `hash`. */
  readonly tag: string;
}

const GIB = 1024 ** 3;
const NVIDIA_SMI_TIMEOUT_MS = 3000;

/** Derives hash and tag from facts. Pure. */
export function fingerprintFromFacts(facts: HardwareFacts): HardwareFingerprint {
  return { ...facts, hash: hardwareHash(facts), tag: hardwareTag(facts) };
}

export function hardwareHash(facts: HardwareFacts): string {
  const identity = {
    platform: facts.platform,
    arch: facts.arch,
    cpuModel: facts.cpuModel.trim(),
    logicalCores: facts.logicalCores,
    memoryGiB: Math.round(facts.memoryBytes / GIB),
    gpus: facts.gpus.map((gpu) => ({ name: gpu.name, memoryTotal: gpu.memoryTotal })),
    onnxruntime: facts.onnxruntimeVersion,
    executionProviders: facts.executionProviders.map((ep) => ep.name).sort(),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
}

export function hardwareTag(facts: HardwareFacts): string {
  const parts = [facts.platform, facts.arch, cpuSlug(facts.cpuModel), `${facts.logicalCores}c`];
  const gpu = facts.gpus[0];
  if (gpu) parts.push(gpuSlug(gpu.name));
  return parts.filter((part) => part.length > 0).join('-');
}

/** "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" -> "xeon-8375c"; "AMD EPYC 7763 64-Core Processor" -> "epyc-7763". */
export function cpuSlug(model: string): string {
  const noise = new Set([
    'intel',
    'amd',
    'cpu',
    'processor',
    'platinum',
    'gold',
    'silver',
    'bronze',
    'genuine',
  ]);
  const words = model
    .toLowerCase()
    .replace(/\((r|tm|c)\)/g, ' ')
    .replace(/@.*$/, ' ')
    .replace(/\b\d+-core\b/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0 && !noise.has(word));
  return words.length > 0 ? words.slice(0, 3).join('-') : 'unknown-cpu';
}

/** "NVIDIA H100 80GB HBM3" -> "h100"; "NVIDIA GeForce RTX 4090" -> "rtx-4090". */
export function gpuSlug(name: string): string {
  const noise = new Set(['nvidia', 'geforce', 'tesla', 'quadro']);
  const words = name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(
      (word) => word.length > 0 && !noise.has(word) && !/^\d+gb$/.test(word) && !/^(hbm|pcie|sxm)/.test(word),
    );
  return words.slice(0, 2).join('-');
}

/** Parses `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader`. */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .flatMap((line) => {
      const [name, memoryTotal, driverVersion] = line.split(',').map((field) => field.trim());
      return name && memoryTotal && driverVersion ? [{ name, memoryTotal, driverVersion }] : [];
    });
}

/** Runner facts from an environment (GitHub sets RUNNER_* on every job). */
export function runnerFromEnvironment(environment: NodeJS.ProcessEnv): RunnerInfo {
  const pick = (key: string): string | undefined => {
    const value = environment[key]?.trim();
    return value ? value : undefined;
  };
  const runner: { name?: string; os?: string; arch?: string; environment?: string } = {};
  const name = pick('RUNNER_NAME');
  const runnerOs = pick('RUNNER_OS');
  const arch = pick('RUNNER_ARCH');
  const kind = pick('RUNNER_ENVIRONMENT');
  if (name) runner.name = name;
  if (runnerOs) runner.os = runnerOs;
  if (arch) runner.arch = arch;
  if (kind) runner.environment = kind;
  return runner;
}

/** Execution providers the installed onnxruntime-node knows about. */
export function availableExecutionProviders(): ExecutionProviderInfo[] {
  return listSupportedBackends().map((backend) => ({ name: backend.name, bundled: backend.bundled }));
}

export function onnxruntimeVersion(): string {
  return ortEnv.versions.node ?? ortEnv.versions.common;
}

/** Collects facts about this machine; never fails for a missing GPU or nvidia-smi. */
export async function collectHardwareFacts(
  environment: NodeJS.ProcessEnv = process.env,
): Promise<HardwareFacts> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() || 'unknown',
    logicalCores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryBytes: os.totalmem(),
    platform: process.platform,
    osRelease: os.release(),
    arch: process.arch,
    gpus: await queryNvidiaGpus(),
    onnxruntimeVersion: onnxruntimeVersion(),
    executionProviders: availableExecutionProviders(),
    nodeVersion: process.versions.node,
    runner: runnerFromEnvironment(environment),
  };
}

export async function hardwareFingerprint(
  environment: NodeJS.ProcessEnv = process.env,
): Promise<HardwareFingerprint> {
  return fingerprintFromFacts(await collectHardwareFacts(environment));
}

/** One line for logs and tables. */
export function describeFingerprint(fingerprint: HardwareFingerprint): string {
  const memory = `${Math.round(fingerprint.memoryBytes / GIB)} GiB`;
  const gpus = fingerprint.gpus.map((gpu) => `${gpu.name} (${gpu.memoryTotal})`).join(', ');
  const runner = fingerprint.runner.name
    ? `, runner ${fingerprint.runner.name}${fingerprint.runner.environment ? ` (${fingerprint.runner.environment})` : ''}`
    : '';
  return (
    `${fingerprint.tag} [${fingerprint.hash}]: ${fingerprint.cpuModel}, ${fingerprint.logicalCores} cores, ` +
    `${memory}, ${fingerprint.platform} ${fingerprint.osRelease} ${fingerprint.arch}` +
    `${gpus ? `, GPU ${gpus}` : ''}, onnxruntime ${fingerprint.onnxruntimeVersion}${runner}`
  );
}

function queryNvidiaGpus(): Promise<GpuInfo[]> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'],
      { timeout: NVIDIA_SMI_TIMEOUT_MS, windowsHide: true },
      (error, stdout) => resolve(error ? [] : parseNvidiaSmi(stdout)),
    );
  });
}
