// A fake GitHub REST API on loopback for the issue-comment calls the action makes, so tests run the
// real @actions/github (Octokit over undici's own fetch, which msw/nock cannot intercept).
//
// Pointing the real library at it: @actions/github reads `GITHUB_API_URL` once, when its module
// lib/utils.js is first imported (`const baseUrl = Utils.getApiBaseUrl()` at top level, used as the
// Octokit default baseUrl and for the proxy dispatcher); context.js reads it again for
// `context.apiUrl`. So set `GITHUB_API_URL` to `server.url` in the environment of the child
// process BEFORE anything imports @actions/github (passing `{ baseUrl }` to getOctokit also works,
// but the action uses the default). No proxy setting gets in the way: @actions/http-client bypasses
// proxies for 127.x addresses.
//
// The server checks the token (`authorization: token X` or `Bearer X`), keeps every comment per
// issue, logs every request, and finds hidden-marker duplicates server-side without rejecting them,
// so a test sees the bug rather than the fake hiding it.
import type http from 'node:http';
import { bearerOrToken, listenOnLoopback, readBody, sendEmpty, sendJson } from './loopback.js';

export interface GithubServerOptions {
  /** The token requests must carry; anything else gets GitHub's 401. */
  readonly token?: string;
  /** Login of the account that creates comments through the API (the workflow token's bot). */
  readonly login?: string;
  /** Answer every comment creation with this status (403 = GitHub's read-only-token answer for forks). */
  readonly createStatus?: number;
  /** Answer every comment update with this status. */
  readonly updateStatus?: number;
  /** Answer every request with this status (e.g. 500), before auth and routing. */
  readonly failAll?: number;
  /** The web origin used in html_url, as on github.com. */
  readonly webUrl?: string;
  /** Clock start for created_at/updated_at; each write advances it by one second (deterministic). */
  readonly startTime?: Date;
  /** Answer check-run creation with this status (403 = a token without `checks: write`). */
  readonly checksStatus?: number;
}

/** One canned answer, given instead of the real one (see `GithubServerState.failNext`). */
export interface CannedAnswer {
  readonly status: number;
  readonly message?: string;
  readonly headers?: http.OutgoingHttpHeaders;
}

export interface GithubCheckRun {
  readonly id: number;
  readonly name: string;
  readonly head_sha: string;
  readonly status: string;
  readonly conclusion: string | null;
  readonly output: { readonly title?: string; readonly summary?: string };
  readonly html_url: string;
}

export interface GithubUser {
  readonly login: string;
  readonly id: number;
  readonly type: 'Bot' | 'User';
}

export interface GithubComment {
  readonly id: number;
  readonly node_id: string;
  readonly url: string;
  readonly html_url: string;
  readonly issue_url: string;
  readonly body: string;
  readonly user: GithubUser;
  readonly created_at: string;
  readonly updated_at: string;
  readonly author_association: string;
}

export interface RecordedGithubRequest {
  readonly method: string;
  /** Path with query string, as sent. */
  readonly path: string;
  readonly authorization: string | undefined;
  readonly status: number;
  /** Parsed JSON body of a POST/PATCH, if any. */
  readonly body: unknown;
}

export interface DuplicateMarker {
  /** `owner/repo#number` */
  readonly issue: string;
  readonly marker: string;
  readonly commentIds: readonly number[];
}

export interface GithubServerState {
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedGithubRequest[];
  /** Requests no route matched (answered 404 `{ message: 'Not Found' }`). */
  readonly unhandled: readonly RecordedGithubRequest[];
  /** The comments of one issue or pull request, oldest first. */
  comments(owner: string, repo: string, issue: number): readonly GithubComment[];
  /** Puts a comment in place as if someone had written it earlier (e.g. to test pagination). */
  addComment(owner: string, repo: string, issue: number, body: string, user?: GithubUser): GithubComment;
  /** Markers found in more than one comment of the same issue. */
  duplicateMarkers(): DuplicateMarker[];
  /**
   * Answers the next requests (after authentication, any route) with these, in order: e.g. GitHub's
   * secondary rate limit (403 with retry-after) or a 502 from a proxy, then the real answer.
   */
  failNext(...answers: CannedAnswer[]): void;
  /** Check runs created, oldest first. */
  readonly checkRuns: readonly GithubCheckRun[];
  /** Registers an open pull request (for `GET /repos/:owner/:repo/pulls`). */
  addPullRequest(owner: string, repo: string, number: number, headSha: string): void;
}

export interface GithubServer {
  /** Base URL for GITHUB_API_URL (no trailing slash, like https://api.github.com). */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly state: GithubServerState;
  close(): Promise<void>;
}

export const DEFAULT_GITHUB_TOKEN = 'ghs_simnasTestToken0000000000000000000';
const ACTIONS_BOT: GithubUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
const MAX_COMMENT_LENGTH = 65_536;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
const DOCS = 'https://docs.github.com/rest/issues/comments';

/** Every `<!-- simnas:... -->` marker in a comment body, each once, in order of appearance. */
export function markersIn(body: string): string[] {
  return [...new Set(body.match(/<!-- simnas:[\s\S]*?-->/g) ?? [])];
}

/** The parsed JSON body (`json: undefined` when empty), or undefined when it is not JSON. */
function parseJson(raw: Buffer): { json: unknown } | undefined {
  if (raw.length === 0) {
    return { json: undefined };
  }
  try {
    return { json: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}

function issueKey(owner: string, repo: string, issue: number): string {
  return `${owner}/${repo}#${issue}`;
}

function positiveIntegerParameter(value: string | null, fallback: number, maximum: number): number {
  // GitHub ignores malformed paging parameters rather than rejecting them.
  const parsed = value === null ? Number.NaN : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    return fallback;
  }
  return Math.min(parsed, maximum);
}

function errorBody(status: number, message: string, documentation = DOCS): Record<string, string> {
  return { message, documentation_url: documentation, status: String(status) };
}

function defaultMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Bad credentials';
    case 403:
      return 'Resource not accessible by integration';
    case 404:
      return 'Not Found';
    case 422:
      return 'Validation Failed';
    default:
      return status >= 500 ? 'Server Error' : `Simulated failure ${status}`;
  }
}

export async function startGithubServer(options: GithubServerOptions = {}): Promise<GithubServer> {
  const token = options.token ?? DEFAULT_GITHUB_TOKEN;
  const author: GithubUser = { ...ACTIONS_BOT, login: options.login ?? ACTIONS_BOT.login };
  const webUrl = options.webUrl ?? 'https://github.com';
  let clock = (options.startTime ?? new Date('2025-01-01T00:00:00Z')).getTime();
  let nextCommentId = 1_000_001;
  const issues = new Map<string, GithubComment[]>();
  const byId = new Map<number, { key: string; owner: string; repo: string }>();
  const requests: RecordedGithubRequest[] = [];
  const unhandled: RecordedGithubRequest[] = [];
  const canned: CannedAnswer[] = [];
  const checkRuns: GithubCheckRun[] = [];
  const pulls = new Map<string, { number: number; head: { sha: string }; state: 'open' }[]>();
  let apiUrl = '';

  const tick = (): string => {
    clock += 1000;
    return new Date(clock).toISOString().replace('.000Z', 'Z');
  };

  const commentsOf = (owner: string, repo: string, issue: number): GithubComment[] => {
    const key = issueKey(owner, repo, issue);
    let list = issues.get(key);
    if (!list) {
      list = [];
      issues.set(key, list);
    }
    return list;
  };

  const createComment = (
    owner: string,
    repo: string,
    issue: number,
    body: string,
    user: GithubUser,
  ): GithubComment => {
    const id = nextCommentId++;
    const now = tick();
    const comment: GithubComment = {
      id,
      node_id: `IC_kwDOSimNAS${id.toString(36)}`,
      url: `${apiUrl}/repos/${owner}/${repo}/issues/comments/${id}`,
      html_url: `${webUrl}/${owner}/${repo}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${apiUrl}/repos/${owner}/${repo}/issues/${issue}`,
      body,
      user,
      created_at: now,
      updated_at: now,
      author_association: user.type === 'Bot' ? 'NONE' : 'MEMBER',
    };
    commentsOf(owner, repo, issue).push(comment);
    byId.set(id, { key: issueKey(owner, repo, issue), owner, repo });
    return comment;
  };

  const state: GithubServerState = {
    requests,
    unhandled,
    comments: (owner, repo, issue) => [...(issues.get(issueKey(owner, repo, issue)) ?? [])],
    addComment: (owner, repo, issue, body, user = { login: 'octocat', id: 583231, type: 'User' }) =>
      createComment(owner, repo, issue, body, user),
    duplicateMarkers: () => {
      const duplicates: DuplicateMarker[] = [];
      for (const [issue, comments] of issues) {
        const idsByMarker = new Map<string, number[]>();
        for (const comment of comments) {
          for (const marker of markersIn(comment.body)) {
            idsByMarker.set(marker, [...(idsByMarker.get(marker) ?? []), comment.id]);
          }
        }
        for (const [marker, commentIds] of idsByMarker) {
          if (commentIds.length > 1) {
            duplicates.push({ issue, marker, commentIds });
          }
        }
      }
      return duplicates;
    },
    failNext: (...answers) => canned.push(...answers),
    checkRuns,
    addPullRequest: (owner, repo, number, headSha) => {
      const key = `${owner}/${repo}`;
      pulls.set(key, [...(pulls.get(key) ?? []), { number, head: { sha: headSha }, state: 'open' }]);
    },
  };

  /** Validates a create/update body the way GitHub does; returns an error response or the text. */
  const commentText = (parsed: unknown): { text: string } | { status: number; body: unknown } => {
    const text = (parsed as { body?: unknown } | null)?.body;
    if (typeof text !== 'string') {
      return { status: 422, body: errorBody(422, 'Invalid request.\n\n"body" wasn\'t supplied.') };
    }
    if (text.length > MAX_COMMENT_LENGTH) {
      return {
        status: 422,
        body: {
          ...errorBody(422, 'Validation Failed'),
          errors: [
            {
              resource: 'IssueComment',
              code: 'custom',
              field: 'body',
              message: `body is too long (maximum is ${MAX_COMMENT_LENGTH} characters)`,
            },
          ],
        },
      };
    }
    return { text };
  };

  const route = (
    method: string,
    url: URL,
    parsed: unknown,
  ): { status: number; body: unknown; headers?: http.OutgoingHttpHeaders } | undefined => {
    const checksMatch = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(url.pathname);
    if (checksMatch && method === 'POST') {
      if (options.checksStatus !== undefined) {
        const status = options.checksStatus;
        return {
          status,
          body: errorBody(status, defaultMessage(status), 'https://docs.github.com/rest/checks/runs'),
        };
      }
      const [, owner = '', repo = ''] = checksMatch;
      const input = parsed as Partial<GithubCheckRun> | null;
      if (!input?.name || !input.head_sha) {
        return {
          status: 422,
          body: errorBody(422, 'Invalid request.\n\n"name" and "head_sha" are required.'),
        };
      }
      const id = checkRuns.length + 1;
      const run: GithubCheckRun = {
        id,
        name: input.name,
        head_sha: input.head_sha,
        status: input.status ?? 'queued',
        conclusion: input.conclusion ?? null,
        output: input.output ?? {},
        html_url: `${webUrl}/${owner}/${repo}/runs/${id}`,
      };
      checkRuns.push(run);
      return { status: 201, body: run };
    }
    const pullsMatch = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname);
    if (pullsMatch && method === 'GET') {
      const [, owner = '', repo = ''] = pullsMatch;
      return { status: 200, body: pulls.get(`${owner}/${repo}`) ?? [] };
    }
    const listMatch = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (listMatch) {
      const [, owner = '', repo = '', issueText = ''] = listMatch;
      const issue = Number(issueText);
      if (method === 'GET') {
        const all = commentsOf(owner, repo, issue);
        const perPage = positiveIntegerParameter(
          url.searchParams.get('per_page'),
          DEFAULT_PER_PAGE,
          MAX_PER_PAGE,
        );
        const page = positiveIntegerParameter(url.searchParams.get('page'), 1, Number.MAX_SAFE_INTEGER);
        const lastPage = Math.max(1, Math.ceil(all.length / perPage));
        const pageUrl = (n: number): string => {
          const target = new URL(url.pathname, apiUrl);
          target.searchParams.set('per_page', String(perPage));
          target.searchParams.set('page', String(n));
          return target.href;
        };
        const links: string[] = [];
        if (page < lastPage) {
          links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`);
        }
        if (page > 1) {
          links.push(
            `<${pageUrl(1)}>; rel="first"`,
            `<${pageUrl(Math.min(page - 1, lastPage))}>; rel="prev"`,
          );
        }
        return {
          status: 200,
          body: all.slice((page - 1) * perPage, page * perPage),
          headers: links.length > 0 ? { link: links.join(', ') } : {},
        };
      }
      if (method === 'POST') {
        if (options.createStatus !== undefined) {
          return {
            status: options.createStatus,
            body: errorBody(
              options.createStatus,
              defaultMessage(options.createStatus),
              `${DOCS}#create-an-issue-comment`,
            ),
          };
        }
        const checked = commentText(parsed);
        if (!('text' in checked)) {
          return checked;
        }
        const comment = createComment(owner, repo, issue, checked.text, author);
        return { status: 201, body: comment, headers: { location: comment.url } };
      }
      return undefined;
    }
    const commentMatch = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (commentMatch) {
      const [, owner = '', repo = '', idText = ''] = commentMatch;
      const id = Number(idText);
      const where = byId.get(id);
      const list = where && where.owner === owner && where.repo === repo ? issues.get(where.key) : undefined;
      const index = list?.findIndex((comment) => comment.id === id) ?? -1;
      if (method === 'GET' && list && index >= 0) {
        return { status: 200, body: list[index] };
      }
      if (method === 'PATCH') {
        if (options.updateStatus !== undefined) {
          return {
            status: options.updateStatus,
            body: errorBody(
              options.updateStatus,
              defaultMessage(options.updateStatus),
              `${DOCS}#update-an-issue-comment`,
            ),
          };
        }
        if (!list || index < 0) {
          return { status: 404, body: errorBody(404, 'Not Found', `${DOCS}#update-an-issue-comment`) };
        }
        const checked = commentText(parsed);
        if (!('text' in checked)) {
          return checked;
        }
        const previous = list[index] as GithubComment;
        const updated: GithubComment = { ...previous, body: checked.text, updated_at: tick() };
        list[index] = updated;
        return { status: 200, body: updated };
      }
    }
    return undefined;
  };

  const answer = (
    method: string,
    url: URL,
    authorization: string | undefined,
    parsed: { json: unknown } | undefined,
  ): { status: number; body: unknown; headers?: http.OutgoingHttpHeaders; matched: boolean } => {
    if (options.failAll !== undefined) {
      const status = options.failAll;
      return {
        status,
        body: errorBody(status, defaultMessage(status), 'https://docs.github.com/rest'),
        matched: true,
      };
    }
    if (bearerOrToken(authorization) !== token) {
      return {
        status: 401,
        body: errorBody(401, 'Bad credentials', 'https://docs.github.com/rest'),
        matched: true,
      };
    }
    if (!parsed) {
      return {
        status: 400,
        body: errorBody(400, 'Problems parsing JSON', 'https://docs.github.com/rest'),
        matched: true,
      };
    }
    const next = canned.shift();
    if (next) {
      const status = next.status;
      return {
        status,
        body: errorBody(status, next.message ?? defaultMessage(status), 'https://docs.github.com/rest'),
        headers: next.headers ?? {},
        matched: true,
      };
    }
    const routed = route(method, url, parsed.json);
    return routed
      ? { ...routed, matched: true }
      : { status: 404, body: errorBody(404, 'Not Found', 'https://docs.github.com/rest'), matched: false };
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', apiUrl);
    const raw = await readBody(request);
    const authorization = request.headers.authorization;
    const parsed = parseJson(raw);
    const { status, body, headers = {}, matched } = answer(method, url, authorization, parsed);
    const record: RecordedGithubRequest = {
      method,
      path: `${url.pathname}${url.search}`,
      authorization,
      status,
      body: parsed ? parsed.json : raw.toString('utf8'),
    };
    requests.push(record);
    if (!matched) {
      unhandled.push(record);
    }
    if (status === 204) {
      sendEmpty(response, status, headers);
    } else {
      sendJson(response, status, body, { 'x-github-media-type': 'github.v3; format=json', ...headers });
    }
  };

  const listener = await listenOnLoopback(handle);
  apiUrl = listener.origin;
  return { url: listener.origin, port: listener.port, token, state, close: listener.close };
}
