// The loopback fakes in test/support answer the REAL @actions/cache (v1 and v2 protocols) and the
// REAL @actions/github the way GitHub does, so the action's integration tests can rely on them.
// The libraries run in child processes (test/support/libs-client.mjs) because they read their
// environment at import time.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  matchEntry,
  startCacheServer,
  type CacheProtocol,
  type CacheServer,
} from './support/cache-server.js';
import { markersIn, startGithubServer, type GithubServer } from './support/github-server.js';

const CLIENT = fileURLToPath(new URL('./support/libs-client.mjs', import.meta.url));

interface StepOutcome {
  ok: boolean;
  value?: unknown;
  name?: string;
  message?: string;
  status?: number;
}

interface ClientRun {
  outcomes: StepOutcome[];
  /** `::warning::` lines @actions/core wrote, without the prefix. */
  warnings: string[];
  /** Plain (info) lines, i.e. not workflow commands and not step results. */
  infos: string[];
  stdout: string;
}

const scratch: string[] = [];
async function scratchFolder(label: string): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), `simnas-${label}-`));
  scratch.push(folder);
  return folder;
}
afterAll(async () => {
  await Promise.all(scratch.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Runs steps in a fresh node process, with the runner's own GITHUB_/ACTIONS_/RUNNER_ variables removed. */
async function runClient(steps: object[], env: Record<string, string>, cwd: string): Promise<ClientRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GITHUB_|ACTIONS_|RUNNER_)/.test(name)),
  );
  const stdout = await new Promise<string>((resolve, reject) => {
    // Asynchronous on purpose: the servers live in this process and must keep answering.
    execFile(
      process.execPath,
      [CLIENT, JSON.stringify(steps)],
      { cwd, env: { ...inherited, ...env }, timeout: 60_000 },
      (error, out, err) =>
        error ? reject(new Error(`client failed: ${error.message}\n${out}\n${err}`)) : resolve(out),
    );
  });
  const lines = stdout.split('\n');
  return {
    outcomes: lines
      .filter((line) => line.startsWith('simnas-step '))
      .map((line) => JSON.parse(line.slice(12)) as StepOutcome),
    warnings: lines
      .filter((line) => line.startsWith('::warning::'))
      .map((line) => line.slice('::warning::'.length)),
    infos: lines.filter(
      (line) => line.length > 0 && !line.startsWith('::') && !line.startsWith('simnas-step '),
    ),
    stdout,
  };
}

function write(file: string, content: string | Buffer): object {
  return { op: 'write', path: file, base64: Buffer.from(content).toString('base64') };
}

// A binary payload with every byte value, so a text-mode or truncating bug would show.
const BINARY = Buffer.from(Array.from({ length: 5000 }, (_, index) => (index * 7919 + 13) % 256));

describe('matchEntry (GitHub cache key matching)', () => {
  const entries = [
    { key: 'ctrl-a', createdOrder: 0 },
    { key: 'ctrl-a-b', createdOrder: 1 },
    { key: 'ctrl-c', createdOrder: 2 },
  ];
  it('prefers an exact key over a newer prefix match, then the newest prefix match, key by key', () => {
    expect(matchEntry(entries, ['ctrl-a'])?.key).toBe('ctrl-a');
    expect(matchEntry(entries, ['ctrl-'])?.key).toBe('ctrl-c');
    expect(matchEntry(entries, ['none', 'ctrl-a-', 'ctrl-'])?.key).toBe('ctrl-a-b');
    expect(matchEntry(entries, ['none', 'other'])).toBeUndefined();
  });
});

describe.each<CacheProtocol>(['v1', 'v2'])(
  'cache server, protocol %s, with the real @actions/cache',
  (protocol) => {
    let server: CacheServer;
    let childEnv: Record<string, string>;
    const prefix = `simnas-${protocol}-`;
    beforeAll(async () => {
      server = await startCacheServer();
      childEnv = { ...server.env(protocol), RUNNER_TEMP: await scratchFolder('runner-temp') };
    });
    afterAll(() => server.close());

    it('round-trips a folder, matches restore keys as GitHub does, and rejects a corrupted entry', async () => {
      const first = await scratchFolder('workspace');
      const saved = await runClient(
        [
          write('data/model.json', '{"version":"old"}'),
          { op: 'save', paths: ['data'], key: `${prefix}model` },
          write('data/model.json', '{"version":"new"}'),
          write('data/nested/weights.bin', BINARY),
          { op: 'save', paths: ['data'], key: `${prefix}model-later` },
          { op: 'save', paths: ['data'], key: `${prefix}model-later` },
          { op: 'save', paths: ['data'], key: `${prefix}victim` },
        ],
        { ...childEnv, GITHUB_WORKSPACE: first },
        first,
      );
      const ids = saved.outcomes.map((outcome) => outcome.value);
      expect(saved.outcomes.every((outcome) => outcome.ok)).toBe(true);
      expect(ids[1]).toBeGreaterThan(0);
      expect(ids[4]).toBeGreaterThan(0);
      // Saving an existing key+version is a reservation conflict: -1 and an info line, no warning.
      expect(ids[5]).toBe(-1);
      expect(
        saved.infos.some((line) => line.includes(`Unable to reserve cache with key ${prefix}model-later`)),
      ).toBe(true);
      expect(saved.warnings).toEqual([]);
      expect(server.state.entries().map((entry) => [entry.key, entry.protocol])).toEqual([
        [`${prefix}model`, protocol],
        [`${prefix}model-later`, protocol],
        [`${prefix}victim`, protocol],
      ]);
      const apiRequests = server.state.requests.filter((request) => request.service === protocol);
      expect(apiRequests.length).toBeGreaterThan(0);
      expect(apiRequests.every((request) => request.authorization === `Bearer ${server.token}`)).toBe(true);

      expect(server.state.corrupt(`${prefix}victim`)).toBe(1);
      const second = await scratchFolder('workspace');
      const restored = await runClient(
        [
          { op: 'restore', paths: ['data'], key: `${prefix}victim` },
          { op: 'remove', path: 'data' },
          { op: 'restore', paths: ['data'], key: `${prefix}model-later` },
          { op: 'read', path: 'data/model.json' },
          { op: 'read', path: 'data/nested/weights.bin' },
          { op: 'remove', path: 'data' },
          // The exact key wins over the newer entry whose key it prefixes.
          { op: 'restore', paths: ['data'], key: `${prefix}model` },
          { op: 'read', path: 'data/model.json' },
          { op: 'remove', path: 'data' },
          // No exact match for any key: the newest entry under the first restore key that matches.
          {
            op: 'restore',
            paths: ['data'],
            key: `${prefix}absent`,
            restoreKeys: [`${prefix}nothing`, `${prefix}model-`],
          },
          { op: 'read', path: 'data/model.json' },
          { op: 'restore', paths: ['data'], key: `${prefix}absent`, restoreKeys: ['unrelated-'] },
        ],
        { ...childEnv, GITHUB_WORKSPACE: second },
        second,
      );
      const values = restored.outcomes.map((outcome) => outcome.value);
      const text = (value: unknown): string => Buffer.from(String(value), 'base64').toString('utf8');
      // The damaged archive makes tar/zstd fail: restore reports a miss with a warning, not an exception.
      expect(restored.outcomes[0]).toEqual({ ok: true, value: null });
      expect(restored.warnings).toHaveLength(1);
      expect(restored.warnings[0]).toMatch(/^Failed to restore: /);
      expect(values[2]).toBe(`${prefix}model-later`);
      expect(text(values[3])).toBe('{"version":"new"}');
      expect(Buffer.from(String(values[4]), 'base64').equals(BINARY)).toBe(true);
      expect(values[6]).toBe(`${prefix}model`);
      expect(text(values[7])).toBe('{"version":"old"}');
      expect(values[9]).toBe(`${prefix}model-later`);
      expect(text(values[10])).toBe('{"version":"new"}');
      expect(values[11]).toBeNull();
      expect(restored.outcomes.every((outcome) => outcome.ok)).toBe(true);
    });
  },
);

describe('cache server failure modes, with the real @actions/cache', () => {
  // Observed library behaviour (documented in the report): nothing throws; save returns -1 and
  // restore returns undefined. v1 warns on both. v2 warns on restore but reports a failed
  // reservation on save only as an info line, so the action must warn itself when save returns -1.
  // v2 retries 500/502/503/504 five times with 3 s+ backoff (about 30 s a call), so the v2 case
  // uses 501, which it does not retry; v1 does not retry 500 (only 502/503/504, after 5 s).
  it.each<[CacheProtocol, number, RegExp, RegExp | undefined]>([
    [
      'v1',
      500,
      /^Failed to restore: getCacheEntry failed: Cache service responded with 500$/,
      /^Failed to save: reserveCache failed: Cache service responded with 500$/,
    ],
    ['v2', 501, /^Failed to restore: Failed to GetCacheEntryDownloadURL: .*\(501\)/, undefined],
  ])(
    '%s answering %i: save returns -1, restore a miss, nothing throws',
    async (protocol, status, restoreWarning, saveWarning) => {
      const server = await startCacheServer({ failAll: status });
      try {
        const workspace = await scratchFolder('workspace');
        const run = await runClient(
          [
            write('data/file.txt', 'payload'),
            { op: 'save', paths: ['data'], key: 'simnas-failing' },
            { op: 'restore', paths: ['data'], key: 'simnas-failing', restoreKeys: ['simnas-'] },
          ],
          {
            ...server.env(protocol),
            RUNNER_TEMP: await scratchFolder('runner-temp'),
            GITHUB_WORKSPACE: workspace,
          },
          workspace,
        );
        expect(run.outcomes.map((outcome) => outcome.ok)).toEqual([true, true, true]);
        expect(run.outcomes[1]?.value).toBe(-1);
        expect(run.outcomes[2]?.value).toBeNull();
        expect(run.warnings.some((line) => restoreWarning.test(line))).toBe(true);
        if (saveWarning) {
          expect(run.warnings.some((line) => saveWarning.test(line))).toBe(true);
        } else {
          expect(run.warnings.some((line) => line.startsWith('Failed to save'))).toBe(false);
          expect(
            run.infos.some((line) =>
              line.startsWith('Failed to save: Unable to reserve cache with key simnas-failing'),
            ),
          ).toBe(true);
        }
        expect(server.state.requests.length).toBeGreaterThan(0);
        expect(server.state.requests.every((request) => request.status === status)).toBe(true);
        expect(server.state.entries()).toEqual([]);
      } finally {
        await server.close();
      }
    },
  );

  it('answers storage requests with the right signature only, and honours Range and HEAD', async () => {
    const server = await startCacheServer();
    try {
      const workspace = await scratchFolder('workspace');
      await runClient(
        [write('data/file.txt', 'range me'), { op: 'save', paths: ['data'], key: 'simnas-range' }],
        { ...server.env('v1'), RUNNER_TEMP: await scratchFolder('runner-temp'), GITHUB_WORKSPACE: workspace },
        workspace,
      );
      const [entry] = server.state.entries();
      expect(entry?.key).toBe('simnas-range');
      const lookup = await fetch(
        `${server.url}_apis/artifactcache/cache?keys=simnas-range&version=${entry?.version ?? ''}`,
        { headers: { authorization: `Bearer ${server.token}` } },
      );
      const { archiveLocation } = (await lookup.json()) as { archiveLocation: string };
      const ranged = await fetch(archiveLocation, { headers: { 'x-ms-range': 'bytes=2-9' } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-range')).toBe(`bytes 2-9/${entry?.size}`);
      expect(
        Buffer.from(await ranged.arrayBuffer()).equals(entry?.bytes.subarray(2, 10) ?? Buffer.alloc(0)),
      ).toBe(true);
      const head = await fetch(archiveLocation, { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe(String(entry?.size));
      const forged = await fetch(archiveLocation.replace(/sig=\w+/, 'sig=forged'));
      expect(forged.status).toBe(403);
      const unauthenticated = await fetch(
        `${server.url}_apis/artifactcache/cache?keys=simnas-range&version=x`,
      );
      expect(unauthenticated.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('cache server storage URLs, with the Azure SDK that @actions/cache uses for v2', () => {
  it('accepts staged blocks and a block list, and serves ranged downloads', async () => {
    const server = await startCacheServer();
    try {
      const twirp = async (method: string, body: object): Promise<Record<string, unknown>> => {
        const response = await fetch(
          `${server.url}twirp/github.actions.results.api.v1.CacheService/${method}`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
        );
        return (await response.json()) as Record<string, unknown>;
      };
      const created = await twirp('CreateCacheEntry', { key: 'simnas-blocks', version: 'v' });
      const workspace = await scratchFolder('azure');
      const upload = await runClient(
        [
          {
            op: 'azure-upload',
            url: created.signed_upload_url,
            base64: BINARY.toString('base64'),
            maxSingleShotSize: 1024,
            blockSize: 1000,
          },
        ],
        {},
        workspace,
      );
      expect(upload.outcomes[0]).toEqual({ ok: true, value: { status: 201 } });
      const blockPuts = server.state.requests.filter((request) => request.path.includes('comp=block&'));
      expect(blockPuts).toHaveLength(5);
      expect(server.state.requests.filter((request) => request.path.includes('comp=blocklist'))).toHaveLength(
        1,
      );
      expect(
        await twirp('FinalizeCacheEntryUpload', { key: 'simnas-blocks', version: 'v', size_bytes: '1' }),
      ).toMatchObject({
        ok: false,
      });
      expect(
        await twirp('FinalizeCacheEntryUpload', {
          key: 'simnas-blocks',
          version: 'v',
          size_bytes: String(BINARY.length),
        }),
      ).toMatchObject({
        ok: true,
      });
      expect(server.state.entries()[0]?.bytes.equals(BINARY)).toBe(true);
      const located = await twirp('GetCacheEntryDownloadURL', {
        key: 'simnas-blocks',
        restore_keys: [],
        version: 'v',
      });
      expect(located).toMatchObject({ ok: true, matched_key: 'simnas-blocks' });
      const download = await runClient(
        [{ op: 'azure-download', url: located.signed_download_url, blockSize: 2048 }],
        {},
        workspace,
      );
      expect(Buffer.from(String(download.outcomes[0]?.value), 'base64').equals(BINARY)).toBe(true);
      const ranges = server.state.requests.filter(
        (request) => request.method === 'GET' && request.status === 206,
      );
      expect(ranges.length).toBeGreaterThanOrEqual(3);
    } finally {
      await server.close();
    }
  });
});

describe('GitHub server with the real @actions/github', () => {
  let server: GithubServer;
  let env: Record<string, string>;
  let workspace: string;
  const issue = { owner: 'octo', repo: 'simnas', issue: 7 };
  beforeAll(async () => {
    server = await startGithubServer();
    env = { GITHUB_API_URL: server.url };
    workspace = await scratchFolder('github');
  });
  afterAll(() => server.close());

  it('lists, creates and updates comments with the token, keeping one comment per marker', async () => {
    const token = server.token;
    const markerA = '<!-- simnas:hardware=x86-avx2 -->';
    const markerB = '<!-- simnas:hardware=arm64 -->';
    const first = await runClient(
      [
        { op: 'list-comments', token, ...issue },
        { op: 'create-comment', token, ...issue, body: `${markerA}\nfirst run` },
        { op: 'create-comment', token, ...issue, body: `${markerB}\nother runner` },
      ],
      env,
      workspace,
    );
    expect(first.outcomes.map((outcome) => outcome.ok)).toEqual([true, true, true]);
    expect(first.outcomes[0]?.value).toEqual([]);
    const created = first.outcomes[1]?.value as { status: number; id: number; html_url: string };
    expect(created.status).toBe(201);
    expect(created.html_url).toBe(`https://github.com/octo/simnas/pull/7#issuecomment-${created.id}`);

    const second = await runClient(
      [
        { op: 'list-comments', token, ...issue },
        {
          op: 'update-comment',
          token,
          owner: 'octo',
          repo: 'simnas',
          id: created.id,
          body: `${markerA}\nsecond run`,
        },
        {
          op: 'update-comment',
          token,
          owner: 'octo',
          repo: 'other',
          id: created.id,
          body: 'wrong repository',
        },
      ],
      env,
      workspace,
    );
    const listed = second.outcomes[0]?.value as { id: number; body: string; login: string }[];
    expect(listed.map((comment) => [markersIn(comment.body), comment.login])).toEqual([
      [[markerA], 'github-actions[bot]'],
      [[markerB], 'github-actions[bot]'],
    ]);
    expect(second.outcomes[1]).toMatchObject({
      ok: true,
      value: { status: 200, id: created.id, body: `${markerA}\nsecond run` },
    });
    expect(second.outcomes[2]).toMatchObject({ ok: false, name: 'HttpError', status: 404 });
    expect(server.state.comments('octo', 'simnas', 7).map((comment) => comment.body)).toEqual([
      `${markerA}\nsecond run`,
      `${markerB}\nother runner`,
    ]);
    expect(server.state.duplicateMarkers()).toEqual([]);
    expect(server.state.requests.every((request) => request.authorization === `token ${token}`)).toBe(true);

    // The server notices a second comment with the same marker instead of refusing it.
    const duplicate = server.state.addComment('octo', 'simnas', 7, `${markerA}\nduplicate`);
    expect(server.state.duplicateMarkers()).toEqual([
      { issue: 'octo/simnas#7', marker: markerA, commentIds: [created.id, duplicate.id] },
    ]);
  });

  it('paginates over more than 30 comments with Link headers', async () => {
    for (let index = 0; index < 35; index++) {
      server.state.addComment('octo', 'simnas', 8, `comment ${index}`);
    }
    const run = await runClient(
      [{ op: 'list-comments', token: server.token, ...issue, issue: 8 }],
      env,
      workspace,
    );
    const listed = run.outcomes[0]?.value as { body: string }[];
    expect(listed.map((comment) => comment.body)).toEqual(
      Array.from({ length: 35 }, (_, index) => `comment ${index}`),
    );
    const pages = server.state.requests.filter((request) =>
      request.path.startsWith('/repos/octo/simnas/issues/8/'),
    );
    expect(pages.map((request) => request.path)).toEqual([
      '/repos/octo/simnas/issues/8/comments',
      '/repos/octo/simnas/issues/8/comments?per_page=30&page=2',
    ]);
  });

  it('refuses a wrong token, records unknown routes, and rejects comments over 65,536 characters', async () => {
    const run = await runClient(
      [
        { op: 'list-comments', token: 'ghs_wrong', ...issue },
        {
          op: 'request',
          token: server.token,
          route: 'GET /repos/{owner}/{repo}/pulls/{pull_number}',
          parameters: { owner: 'octo', repo: 'simnas', pull_number: 7 },
        },
        { op: 'create-comment', token: server.token, ...issue, body: 'x'.repeat(65_537) },
      ],
      env,
      workspace,
    );
    expect(run.outcomes[0]).toMatchObject({
      ok: false,
      status: 401,
      message: expect.stringContaining('Bad credentials') as string,
    });
    expect(run.outcomes[1]).toMatchObject({ ok: false, status: 404 });
    expect(run.outcomes[2]).toMatchObject({ ok: false, status: 422 });
    expect(server.state.unhandled.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /repos/octo/simnas/pulls/7',
    ]);
  });

  it('answers comment creation with 403 for a read-only (fork) token, while reads still work', async () => {
    const fork = await startGithubServer({ createStatus: 403 });
    try {
      const run = await runClient(
        [
          { op: 'list-comments', token: fork.token, ...issue },
          { op: 'create-comment', token: fork.token, ...issue, body: '<!-- simnas:hardware=x -->' },
        ],
        { GITHUB_API_URL: fork.url },
        workspace,
      );
      expect(run.outcomes[0]).toEqual({ ok: true, value: [] });
      expect(run.outcomes[1]).toMatchObject({
        ok: false,
        name: 'HttpError',
        status: 403,
        message: expect.stringContaining('Resource not accessible by integration') as string,
      });
      expect(fork.state.comments('octo', 'simnas', 7)).toEqual([]);
    } finally {
      await fork.close();
    }
  });

  it('answers everything with failAll', async () => {
    const failing = await startGithubServer({ failAll: 500 });
    try {
      const run = await runClient(
        [{ op: 'list-comments', token: failing.token, ...issue }],
        { GITHUB_API_URL: failing.url },
        workspace,
      );
      expect(run.outcomes[0]).toMatchObject({ ok: false, name: 'HttpError', status: 500 });
      expect(failing.state.requests.map((request) => request.status)).toEqual([500]);
    } finally {
      await failing.close();
    }
  });
});
