// The action's installer of onnxruntime-node, against a loopback npm registry: real tarballs, the
// real @actions/tool-cache download/extract/cache path, the lockfile's integrity check.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureNativeDependencies, lockedPackage, tarballUrl } from '../src/action/native-deps.js';
import { silentLogger } from '../src/util/log.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'simnas-native-'));
const tarballs = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let registry: string;

/** Packs a folder of files as npm does (everything under package/) and returns the .tgz bytes. */
function pack(name: string, files: Record<string, string>): Buffer {
  const dir = mkdtempSync(path.join(work, `${name}-`));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'package', file)), { recursive: true });
    writeFileSync(path.join(dir, 'package', file), text);
  }
  const archive = path.join(dir, 'package.tgz');
  execFileSync('tar', ['czf', archive, '-C', dir, 'package']);
  return readFileSync(archive);
}

const integrity = (bytes: Buffer): string => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

function actionRoot(pins: Record<string, { version: string; integrity: string }>): string {
  const root = mkdtempSync(path.join(work, 'action-'));
  const packages = Object.fromEntries(
    Object.entries(pins).map(([name, pin]) => [`node_modules/${name}`, pin]),
  );
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages }));
  return root;
}

beforeAll(async () => {
  const binary = `bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`;
  tarballs.set(
    '/fake-ort/-/fake-ort-1.0.0.tgz',
    pack('fake-ort', {
      'package.json': JSON.stringify({ name: 'fake-ort', version: '1.0.0' }),
      [binary]: 'this platform',
      'bin/napi-v6/win32/x64/onnxruntime.dll': 'another platform',
      [`bin/napi-v6/${process.platform}/not-${process.arch}/onnxruntime_binding.node`]: 'another arch',
    }),
  );
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const body = tarballs.get(request.url ?? '');
    response.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  registry = `http://127.0.0.1:${address.port}`;
  process.env.RUNNER_TEMP = path.join(work, 'temp');
  process.env.RUNNER_TOOL_CACHE = path.join(work, 'tool-cache');
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('native dependencies of the action', () => {
  it('reads pins from the real lockfile and builds registry URLs', () => {
    const pin = lockedPackage(readFileSync('package-lock.json', 'utf8'), 'onnxruntime-node');
    expect(pin.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(tarballUrl(pin)).toBe(
      `https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-${pin.version}.tgz`,
    );
    expect(() => lockedPackage('{"packages":{}}', 'onnxruntime-node')).toThrow(/pins no version/);
  });

  it('downloads, verifies, keeps only this platform, caches, then installs offline', async () => {
    const bytes = tarballs.get('/fake-ort/-/fake-ort-1.0.0.tgz')!;
    const pins = { 'fake-ort': { version: '1.0.0', integrity: integrity(bytes) } };
    const first = actionRoot(pins);
    expect(
      await ensureNativeDependencies(first, { logger: silentLogger, registry, packages: ['fake-ort'] }),
    ).toEqual(['fake-ort@1.0.0']);
    const installed = path.join(first, 'node_modules', 'fake-ort');
    expect(
      readFileSync(
        path.join(installed, `bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`),
        'utf8',
      ),
    ).toBe('this platform');
    expect(existsSync(path.join(installed, 'bin/napi-v6/win32'))).toBe(process.platform === 'win32');
    expect(existsSync(path.join(installed, `bin/napi-v6/${process.platform}/not-${process.arch}`))).toBe(
      false,
    );
    // Installed already: nothing to do.
    expect(
      await ensureNativeDependencies(first, { logger: silentLogger, registry, packages: ['fake-ort'] }),
    ).toEqual([]);
    // A second action folder on the same runner comes from the tool cache, without a download.
    const downloads = requests.length;
    const second = actionRoot(pins);
    await ensureNativeDependencies(second, { logger: silentLogger, registry, packages: ['fake-ort'] });
    expect(requests.length).toBe(downloads);
    expect(existsSync(path.join(second, 'node_modules', 'fake-ort', 'package.json'))).toBe(true);
  });

  it('refuses a tarball whose digest differs from the lockfile', async () => {
    const root = actionRoot({
      'fake-ort': { version: '1.0.0', integrity: integrity(Buffer.from('other bytes')) },
    });
    process.env.RUNNER_TOOL_CACHE = path.join(work, 'empty-tool-cache');
    await expect(
      ensureNativeDependencies(root, { logger: silentLogger, registry, packages: ['fake-ort'] }),
    ).rejects.toThrow(/integrity check failed/);
    expect(existsSync(path.join(root, 'node_modules', 'fake-ort'))).toBe(false);
  });

  it('names the registry and SIMNAS_NPM_REGISTRY when the download fails', async () => {
    const root = actionRoot({ 'missing-pkg': { version: '2.0.0', integrity: integrity(Buffer.from('x')) } });
    const failure = ensureNativeDependencies(root, {
      logger: silentLogger,
      registry,
      packages: ['missing-pkg'],
    });
    await expect(failure).rejects.toThrow(
      `cannot download missing-pkg 2.0.0 from the registry ${registry} (from SIMNAS_NPM_REGISTRY): ` +
        `${registry}/missing-pkg/-/missing-pkg-2.0.0.tgz failed (Unexpected HTTP response: 404)`,
    );
    await expect(failure).rejects.toThrow(/set SIMNAS_NPM_REGISTRY to an npm mirror it can reach/);
  });
});
