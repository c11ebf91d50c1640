// Installs the action's one native dependency, onnxruntime-node (with onnxruntime-common), which no
// bundler can inline: its platform binary must sit in node_modules beside dist/. A self-hosted
// runner has only Node.js (the runner's own node24 may come without npm), so instead of `npm ci`
// the action fetches exactly the versions its package-lock.json pins from the npm registry, checks
// the lockfile's SHA-512 integrity, keeps only this platform's binaries (25-86 MB of the package's
// 290 MB) and stores the result in the runner's tool cache: later runs copy it from there offline.
// This module must not import onnxruntime-node: it runs before the package exists.
import { createHash } from 'node:crypto';
import { cpSync, createReadStream, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import * as toolCache from '@actions/tool-cache';

import { EnvironmentError } from '../errors.js';
import type { Logger } from '../util/log.js';

/** Installed in this order: onnxruntime-node requires onnxruntime-common. */
export const NATIVE_PACKAGES = ['onnxruntime-common', 'onnxruntime-node'] as const;

export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly integrity: string;
}

/** The public registry, where lockfiles written without `resolved` URLs point. */
export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';

/** The pinned version and integrity of `name` in a package-lock.json (v2/v3). */
export function lockedPackage(lockfileText: string, name: string): LockedPackage {
  const lock = JSON.parse(lockfileText) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity) {
    throw new Error(`package-lock.json pins no version and integrity for ${name}`);
  }
  return { name, version: entry.version, integrity: entry.integrity };
}

/** Whether node_modules already holds this exact version (a checkout after `npm ci`, or a past run). */
export function isInstalled(root: string, pkg: LockedPackage): boolean {
  const manifest = path.join(root, 'node_modules', pkg.name, 'package.json');
  if (!existsSync(manifest)) return false;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version === pkg.version;
}

/** Throws unless the file's digest equals the Subresource-Integrity string from the lockfile. */
export async function verifyIntegrity(file: string, integrity: string): Promise<void> {
  const [algorithm, expected] = integrity.split('-', 2) as [string, string];
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const actual = hash.digest('base64');
  if (actual !== expected) {
    throw new Error(`integrity check failed for ${file}: expected ${integrity}, got ${algorithm}-${actual}`);
  }
}

/** The package's tarball on `registry`, in the npm registry's URL layout. */
export function tarballUrl(pkg: LockedPackage, registry = DEFAULT_REGISTRY): string {
  const file = `${pkg.name.split('/').pop()!}-${pkg.version}.tgz`;
  return `${registry.replace(/\/+$/, '')}/${pkg.name}/-/${file}`;
}

/** Drops the other platforms' prebuilt binaries from an unpacked onnxruntime-node. */
function keepOwnBinaries(packageDir: string): void {
  const binaries = path.join(packageDir, 'bin', 'napi-v6');
  if (!existsSync(binaries)) return;
  for (const platform of readdirSync(binaries)) {
    const platformDir = path.join(binaries, platform);
    if (platform !== process.platform) {
      rmSync(platformDir, { recursive: true, force: true });
      continue;
    }
    for (const arch of readdirSync(platformDir)) {
      if (arch !== process.arch) rmSync(path.join(platformDir, arch), { recursive: true, force: true });
    }
  }
}

/** The environment variable that names an npm registry mirror for the download. */
export const REGISTRY_VARIABLE = 'SIMNAS_NPM_REGISTRY';

/** A failed download, said in terms of what the user can change: the registry and its variable. */
function downloadFailure(
  what: string,
  url: string,
  registry: string | undefined,
  error: unknown,
): EnvironmentError {
  const cause = error instanceof Error ? error.message || error.name : String(error);
  const where = registry
    ? `the registry ${registry} (from ${REGISTRY_VARIABLE})`
    : `the public registry ${DEFAULT_REGISTRY} (${REGISTRY_VARIABLE} is not set)`;
  return new EnvironmentError(
    `cannot download ${what} from ${where}: ${url} failed (${cause}). ` +
      `The action needs it once per runner: let the runner reach the registry, or set ${REGISTRY_VARIABLE} ` +
      'to an npm mirror it can reach',
    { cause: error },
  );
}

export interface EnsureOptions {
  readonly logger: Logger;
  /** npm registry mirror; default: the public registry. */
  readonly registry?: string;
  /** Which packages; default NATIVE_PACKAGES. */
  readonly packages?: readonly string[];
}

/** Makes `root/node_modules` hold the pinned native packages; returns the ones it installed. */
export async function ensureNativeDependencies(root: string, options: EnsureOptions): Promise<string[]> {
  const lockfile = readFileSync(path.join(root, 'package-lock.json'), 'utf8');
  const installed: string[] = [];
  for (const name of options.packages ?? NATIVE_PACKAGES) {
    const pkg = lockedPackage(lockfile, name);
    if (isInstalled(root, pkg)) continue;
    const tool = `simnas-${name}`;
    // The tool cache needs RUNNER_TOOL_CACHE (always set on runners); outside one, no caching.
    const canCache = Boolean(process.env.RUNNER_TOOL_CACHE);
    let source = canCache ? toolCache.find(tool, pkg.version) : '';
    if (source) {
      options.logger.info(`${name} ${pkg.version}: from the runner's tool cache`);
    } else {
      const url = tarballUrl(pkg, options.registry);
      options.logger.info(`${name} ${pkg.version}: downloading ${url} (once per runner)`);
      const archive = await toolCache.downloadTool(url).catch((error: unknown) => {
        throw downloadFailure(`${name} ${pkg.version}`, url, options.registry, error);
      });
      await verifyIntegrity(archive, pkg.integrity);
      const unpacked = path.join(await toolCache.extractTar(archive), 'package');
      keepOwnBinaries(unpacked);
      source = canCache ? await toolCache.cacheDir(unpacked, tool, pkg.version) : unpacked;
    }
    const target = path.join(root, 'node_modules', name);
    rmSync(target, { recursive: true, force: true });
    cpSync(source, target, { recursive: true });
    installed.push(`${name}@${pkg.version}`);
  }
  return installed;
}
