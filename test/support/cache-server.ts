// A fake GitHub Actions cache service on loopback that the real @actions/cache 6 talks to, in both
// protocols, so the action's cache code is tested through the library rather than around it.
//
// v1 (legacy REST, `ACTIONS_CACHE_URL`): lookup `GET _apis/artifactcache/cache?keys=&version=`
// (204 on a miss), reserve `POST _apis/artifactcache/caches`, chunk upload `PATCH caches/:id` with
// `Content-Range: bytes a-b/*`, commit `POST caches/:id {size}`, then a plain GET of the returned
// archiveLocation.
// v2 (twirp JSON, `ACTIONS_CACHE_SERVICE_V2` + `ACTIONS_RESULTS_URL`): CreateCacheEntry returns a
// signed upload URL that @azure/storage-blob's BlockBlobClient.uploadFile writes to (one
// `PUT x-ms-blob-type: BlockBlob` up to 128 MiB, otherwise `PUT ?comp=block&blockid=` per block and
// `PUT ?comp=blocklist`); FinalizeCacheEntryUpload commits; GetCacheEntryDownloadURL returns a signed
// URL. Because that URL's host is not *.blob.core.windows.net the library downloads it with a plain
// GET; the storage path still answers HEAD and `Range`/`x-ms-range` GETs as Azure would.
//
// Both protocols share one store, match keys as GitHub does (each key in order: exact match first,
// then prefix match, newest first; versions must be equal) and ignore branch scopes.
//
// What @actions/cache 6.3 does when this server fails (seen in test/support-servers.test.ts): nothing
// throws except ValidationError; saveCache returns -1, restoreCache returns undefined. v1: both emit
// a `::warning::`; 500 is not retried, 502/503/504 are retried once after 5 s (about 10 s a call).
// v2: restore warns, but a failed CreateCacheEntry is only an info line ("Failed to save: Unable to
// reserve cache ..."), so a caller must warn itself on -1; 500/502/503/504 are retried 5 times with
// 3 s+ backoff (about 30 s a call), other statuses (e.g. 501) fail at once.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { bearerOrToken, listenOnLoopback, readBody, sendEmpty, sendJson } from './loopback.js';

export type CacheProtocol = 'v1' | 'v2';

export interface CacheServerOptions {
  /** The ACTIONS_RUNTIME_TOKEN the API endpoints require as a Bearer token. */
  readonly token?: string;
  /** Answer every request with this status (e.g. 500); also settable later via `state.failAll`. */
  readonly failAll?: number;
}

export interface CacheEntry {
  readonly id: number;
  readonly key: string;
  readonly version: string;
  readonly protocol: CacheProtocol;
  /** Archive size in bytes (as committed). */
  readonly size: number;
  /** The archive as stored (tar + zstd or gzip, exactly what the library uploaded). */
  readonly bytes: Buffer;
  /** Logical creation order; a later entry is "newer" for restore-key matching. */
  readonly createdOrder: number;
  readonly corrupted: boolean;
}

export interface RecordedCacheRequest {
  readonly method: string;
  /** Path with query string, as sent. */
  readonly path: string;
  readonly service: CacheProtocol | 'storage' | 'unknown';
  readonly authorization: string | undefined;
  readonly status: number;
}

export interface CacheServerState {
  /** When set, every request is answered with this status. */
  failAll: number | undefined;
  readonly requests: readonly RecordedCacheRequest[];
  /** Committed entries, oldest first. */
  entries(): readonly CacheEntry[];
  /** Flips bytes in the middle of every committed archive stored under `key`; returns how many. */
  corrupt(key: string): number;
}

export interface CacheServer {
  /** Service base URL, with the trailing slash the library expects. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly state: CacheServerState;
  /** Environment a child process needs so @actions/cache uses this server with `protocol`. */
  env(protocol: CacheProtocol): Record<string, string>;
  close(): Promise<void>;
}

export const DEFAULT_RUNTIME_TOKEN = 'simnas-runtime-token';
const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/';
const STORAGE_PREFIX = '/storage/caches/';

interface StoredEntry {
  id: number;
  key: string;
  version: string;
  protocol: CacheProtocol;
  signature: string;
  createdOrder: number;
  committed: boolean;
  corrupted: boolean;
  /** v1: chunks by start offset. */
  chunks: Map<number, Buffer>;
  /** v2: staged blocks by block id. */
  blocks: Map<string, Buffer>;
  /** The whole archive, once uploaded (v2) or committed (v1). */
  bytes: Buffer | undefined;
}

interface Answer {
  status: number;
  json?: unknown;
  raw?: Buffer;
  headers?: http.OutgoingHttpHeaders;
}

/** Entry matching as the service does it: for each key in order, exact then prefix, newest first. */
export function matchEntry<T extends { key: string; createdOrder: number }>(
  candidates: readonly T[],
  keys: readonly string[],
): T | undefined {
  const newestFirst = [...candidates].sort((a, b) => b.createdOrder - a.createdOrder);
  for (const key of keys) {
    const found =
      newestFirst.find((entry) => entry.key === key) ??
      newestFirst.find((entry) => entry.key.startsWith(key));
    if (found) {
      return found;
    }
  }
  return undefined;
}

function twirpError(status: number, code: string, msg: string): Answer {
  return { status, json: { code, msg } };
}

function storageError(status: number, code: string, message: string): Answer {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return {
    status,
    raw: Buffer.from(xml),
    headers: { 'content-type': 'application/xml', 'x-ms-error-code': code },
  };
}

function serviceOf(pathname: string): RecordedCacheRequest['service'] {
  if (pathname.startsWith(TWIRP_PREFIX)) return 'v2';
  if (pathname.startsWith('/_apis/artifactcache/')) return 'v1';
  if (pathname.startsWith(STORAGE_PREFIX)) return 'storage';
  return 'unknown';
}

/** Parses `bytes=a-b` / `bytes=a-` into an inclusive range inside `size`, or undefined if absent. */
function requestedRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start <= end ? { start, end } : 'invalid';
}

export async function startCacheServer(options: CacheServerOptions = {}): Promise<CacheServer> {
  const token = options.token ?? DEFAULT_RUNTIME_TOKEN;
  const stored: StoredEntry[] = [];
  const requests: RecordedCacheRequest[] = [];
  let nextId = 1;
  let baseUrl = '';

  const newEntry = (key: string, version: string, protocol: CacheProtocol): StoredEntry => {
    const entry: StoredEntry = {
      id: nextId++,
      key,
      version,
      protocol,
      signature: randomBytes(12).toString('hex'),
      createdOrder: stored.length,
      committed: false,
      corrupted: false,
      chunks: new Map(),
      blocks: new Map(),
      bytes: undefined,
    };
    stored.push(entry);
    return entry;
  };
  const storageUrl = (entry: StoredEntry): string =>
    `${baseUrl}${STORAGE_PREFIX.slice(1)}${entry.id}?sv=2024-11-04&sr=b&sp=rcw&sig=${entry.signature}`;
  const exists = (key: string, version: string): boolean =>
    stored.some((entry) => entry.key === key && entry.version === version);
  const committedWith = (version: string): StoredEntry[] =>
    stored.filter((entry) => entry.committed && entry.version === version);

  const state: CacheServerState = {
    failAll: options.failAll,
    requests,
    entries: () =>
      stored
        .filter((entry) => entry.committed && entry.bytes)
        .map((entry) => ({
          id: entry.id,
          key: entry.key,
          version: entry.version,
          protocol: entry.protocol,
          size: (entry.bytes as Buffer).length,
          bytes: entry.bytes as Buffer,
          createdOrder: entry.createdOrder,
          corrupted: entry.corrupted,
        })),
    corrupt: (key) => {
      const targets = stored.filter((entry) => entry.committed && entry.key === key && entry.bytes);
      if (targets.length === 0) {
        throw new Error(`cache-server: no committed entry with key '${key}' to corrupt`);
      }
      for (const entry of targets) {
        // The middle of the archive is compressed payload: damaging it (not the header) is what a
        // truncated or bit-rotted blob looks like, and zstd/gzip checksums must catch it.
        const bytes = Buffer.from(entry.bytes as Buffer);
        const middle = Math.floor(bytes.length / 2);
        for (let index = Math.max(0, middle - 8); index < Math.min(bytes.length, middle + 8); index++) {
          bytes[index] = (bytes[index] as number) ^ 0xff;
        }
        entry.bytes = bytes;
        entry.corrupted = true;
      }
      return targets.length;
    },
  };

  const v1 = (method: string, url: URL, body: Buffer, request: http.IncomingMessage): Answer | undefined => {
    const resource = url.pathname.slice('/_apis/artifactcache/'.length);
    const json = (): Record<string, unknown> =>
      JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    if (method === 'GET' && resource === 'cache') {
      const keys = (url.searchParams.get('keys') ?? '').split(',').filter((key) => key.length > 0);
      const version = url.searchParams.get('version') ?? '';
      const entry = matchEntry(committedWith(version), keys);
      if (!entry) return { status: 204 };
      return {
        status: 200,
        json: {
          cacheKey: entry.key,
          scope: 'refs/heads/main',
          cacheVersion: entry.version,
          creationTime: new Date(Date.UTC(2025, 0, 1, 0, 0, entry.createdOrder)).toISOString(),
          archiveLocation: storageUrl(entry),
        },
      };
    }
    if (method === 'GET' && resource === 'caches') {
      const key = url.searchParams.get('key') ?? '';
      const matches = stored.filter((entry) => entry.committed && entry.key.startsWith(key));
      return {
        status: 200,
        json: {
          totalCount: matches.length,
          artifactCaches: matches.map((entry) => ({
            cacheKey: entry.key,
            cacheVersion: entry.version,
            scope: 'refs/heads/main',
          })),
        },
      };
    }
    if (method === 'POST' && resource === 'caches') {
      const { key, version } = json();
      if (typeof key !== 'string' || typeof version !== 'string') {
        return { status: 400, json: { message: 'Reserve request needs string key and version' } };
      }
      if (exists(key, version)) {
        return {
          status: 409,
          json: { message: `Cache already exists. Scope: refs/heads/main, Key: ${key}, Version: ${version}` },
        };
      }
      return { status: 201, json: { cacheId: newEntry(key, version, 'v1').id } };
    }
    const idMatch = /^caches\/(\d+)$/.exec(resource);
    const entry = idMatch ? stored.find((candidate) => candidate.id === Number(idMatch[1])) : undefined;
    if (idMatch && (!entry || entry.protocol !== 'v1' || entry.committed)) {
      return { status: 404, json: { message: `No reserved v1 cache with id ${idMatch[1]}` } };
    }
    if (entry && method === 'PATCH') {
      const range = /^bytes (\d+)-(\d+)\/\*$/.exec(request.headers['content-range'] ?? '');
      if (!range || Number(range[2]) - Number(range[1]) + 1 !== body.length) {
        return {
          status: 400,
          json: {
            message: `Bad Content-Range '${request.headers['content-range']}' for ${body.length} bytes`,
          },
        };
      }
      entry.chunks.set(Number(range[1]), body);
      return { status: 204 };
    }
    if (entry && method === 'POST') {
      const { size } = json();
      const ordered = [...entry.chunks.entries()].sort(([a], [b]) => a - b);
      let expectedStart = 0;
      for (const [start, chunk] of ordered) {
        if (start !== expectedStart) {
          return { status: 400, json: { message: `Chunks are not contiguous at byte ${expectedStart}` } };
        }
        expectedStart += chunk.length;
      }
      if (expectedStart !== size) {
        return {
          status: 400,
          json: {
            message: `Cache size mismatch: uploaded ${expectedStart} bytes, commit says ${String(size)}`,
          },
        };
      }
      entry.bytes = Buffer.concat(ordered.map(([, chunk]) => chunk));
      entry.chunks.clear();
      entry.committed = true;
      return { status: 204 };
    }
    return undefined;
  };

  const v2 = (method: string, url: URL, body: Buffer): Answer => {
    const rpc = url.pathname.slice(TWIRP_PREFIX.length);
    if (method !== 'POST') return twirpError(404, 'bad_route', `no handler for ${method} ${url.pathname}`);
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return twirpError(400, 'malformed', 'the request body is not JSON');
    }
    const key = typeof request.key === 'string' ? request.key : '';
    const version = typeof request.version === 'string' ? request.version : '';
    if (!key || !version) return twirpError(400, 'invalid_argument', 'key and version are required');
    if (rpc === 'CreateCacheEntry') {
      if (exists(key, version)) {
        return twirpError(
          409,
          'already_exists',
          'cache entry with the same key, version, and scope already exists',
        );
      }
      return { status: 200, json: { ok: true, signed_upload_url: storageUrl(newEntry(key, version, 'v2')) } };
    }
    if (rpc === 'FinalizeCacheEntryUpload') {
      const entry = stored.find(
        (candidate) => candidate.key === key && candidate.version === version && !candidate.committed,
      );
      if (!entry) return twirpError(404, 'not_found', `no cache entry being uploaded for key ${key}`);
      const size = Number(request.size_bytes);
      if (!entry.bytes || entry.bytes.length !== size) {
        return {
          status: 200,
          json: {
            ok: false,
            message: `uploaded ${entry.bytes?.length ?? 0} bytes but finalize says ${String(request.size_bytes)}`,
          },
        };
      }
      entry.committed = true;
      return { status: 200, json: { ok: true, entry_id: String(entry.id) } };
    }
    if (rpc === 'GetCacheEntryDownloadURL') {
      const restoreKeys = Array.isArray(request.restore_keys)
        ? request.restore_keys.filter((k) => typeof k === 'string')
        : [];
      const entry = matchEntry(committedWith(version), [key, ...restoreKeys]);
      if (!entry) return { status: 200, json: { ok: false } };
      return {
        status: 200,
        json: { ok: true, signed_download_url: storageUrl(entry), matched_key: entry.key },
      };
    }
    return twirpError(404, 'bad_route', `no handler for ${url.pathname}`);
  };

  const storage = (method: string, url: URL, body: Buffer, request: http.IncomingMessage): Answer => {
    const entry = stored.find((candidate) => `${STORAGE_PREFIX}${candidate.id}` === url.pathname);
    if (!entry || url.searchParams.get('sig') !== entry.signature) {
      return storageError(403, 'AuthenticationFailed', 'Signature did not match or the blob does not exist.');
    }
    const azureHeaders = { 'x-ms-request-id': `simnas-${requests.length}`, 'x-ms-version': '2024-11-04' };
    if (method === 'PUT') {
      if (entry.protocol !== 'v2' || entry.committed) {
        return storageError(409, 'BlobImmutable', 'This blob is committed and read-only.');
      }
      const comp = url.searchParams.get('comp');
      if (comp === 'block') {
        const blockId = url.searchParams.get('blockid');
        if (!blockId) return storageError(400, 'InvalidQueryParameterValue', 'blockid is required');
        entry.blocks.set(blockId, body);
      } else if (comp === 'blocklist') {
        const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Committed|Uncommitted)>([^<]+)<\//g)].map(
          (m) => m[1] as string,
        );
        const missing = ids.find((id) => !entry.blocks.has(id));
        if (missing !== undefined)
          return storageError(400, 'InvalidBlockList', `block ${missing} was not staged`);
        entry.bytes = Buffer.concat(ids.map((id) => entry.blocks.get(id) as Buffer));
        entry.blocks.clear();
      } else if (comp === null && request.headers['x-ms-blob-type'] === 'BlockBlob') {
        entry.bytes = body;
      } else {
        return storageError(400, 'InvalidQueryParameterValue', `unsupported PUT (comp=${comp})`);
      }
      return {
        status: 201,
        headers: { ...azureHeaders, etag: `"0x${entry.id}${entry.signature.slice(0, 6)}"` },
      };
    }
    if (method === 'GET' || method === 'HEAD') {
      if (!entry.committed || !entry.bytes)
        return storageError(404, 'BlobNotFound', 'The blob is not committed yet.');
      const bytes = entry.bytes;
      const headerValue = request.headers['x-ms-range'] ?? request.headers.range;
      const range = requestedRange(Array.isArray(headerValue) ? headerValue[0] : headerValue, bytes.length);
      if (range === 'invalid') {
        return {
          ...storageError(416, 'InvalidRange', 'The range specified is invalid.'),
          headers: { 'content-range': `bytes */${bytes.length}` },
        };
      }
      const slice = range ? bytes.subarray(range.start, range.end + 1) : bytes;
      const headers: http.OutgoingHttpHeaders = {
        ...azureHeaders,
        'content-type': 'application/octet-stream',
        'content-length': slice.length,
        'accept-ranges': 'bytes',
        'x-ms-blob-type': 'BlockBlob',
        etag: `"0x${entry.id}${entry.signature.slice(0, 6)}"`,
        'last-modified': new Date(Date.UTC(2025, 0, 1, 0, 0, entry.createdOrder)).toUTCString(),
        ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${bytes.length}` } : {}),
      };
      return { status: range ? 206 : 200, raw: method === 'HEAD' ? Buffer.alloc(0) : slice, headers };
    }
    return storageError(405, 'UnsupportedHttpVerb', `${method} is not supported`);
  };

  const answer = (method: string, url: URL, body: Buffer, request: http.IncomingMessage): Answer => {
    const service = serviceOf(url.pathname);
    if (state.failAll !== undefined) {
      const status = state.failAll;
      if (service === 'v2') return twirpError(status, 'internal', 'simulated failure');
      if (service === 'storage') return storageError(status, 'InternalError', 'simulated failure');
      return { status, json: { message: 'simulated failure' } };
    }
    if (service === 'storage') return storage(method, url, body, request);
    if (service === 'unknown')
      return { status: 404, json: { message: `no route for ${method} ${url.pathname}` } };
    if (bearerOrToken(request.headers.authorization) !== token) {
      return service === 'v2'
        ? twirpError(401, 'unauthenticated', 'missing or wrong runtime token')
        : { status: 401, json: { message: 'missing or wrong runtime token' } };
    }
    if (service === 'v2') return v2(method, url, body);
    return (
      v1(method, url, body, request) ?? {
        status: 404,
        json: { message: `no route for ${method} ${url.pathname}` },
      }
    );
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', baseUrl);
    const body = await readBody(request);
    const result = answer(method, url, body, request);
    requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      service: serviceOf(url.pathname),
      authorization: request.headers.authorization,
      status: result.status,
    });
    if (result.json !== undefined) {
      sendJson(response, result.status, result.json, result.headers);
    } else if (result.raw !== undefined) {
      response.writeHead(result.status, { 'content-length': result.raw.length, ...result.headers });
      response.end(method === 'HEAD' ? undefined : result.raw);
    } else {
      sendEmpty(response, result.status, result.headers);
    }
  };

  const listener = await listenOnLoopback(handle);
  baseUrl = `${listener.origin}/`;
  return {
    url: baseUrl,
    port: listener.port,
    token,
    state,
    close: listener.close,
    env: (protocol) => ({
      // Explicit empty values override whatever a CI runner's own environment would pass down.
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_CACHE_SERVICE_V2: protocol === 'v2' ? 'true' : '',
      ACTIONS_CACHE_URL: protocol === 'v1' ? baseUrl : '',
      ACTIONS_RESULTS_URL: protocol === 'v2' ? baseUrl : '',
      // Any host other than github.com, *.ghe.com or *.localhost counts as GHES and forces v1.
      GITHUB_SERVER_URL: 'https://github.com',
      // Unset/unknown means read and write allowed; a runner could otherwise pass 'read'.
      ACTIONS_CACHE_MODE: '',
    }),
  };
}
