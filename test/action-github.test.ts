// The action's GitHub client and what it publishes, in-process against the loopback GitHub fake:
// retries and rate-limit waits through the Octokit plugins (with a 10 ms delay unit instead of
// GitHub's 1 s, so the test waits milliseconds), comment keys, `on-change`, the take-over of a
// simnas 0.x comment, and check runs with and without `checks: write`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  checkConclusion,
  commentMarker,
  createCheckRun,
  defaultCommentKey,
  parseCommentState,
  upsertComment,
} from '../src/action/comment.js';
import { githubClient } from '../src/action/github.js';
import type { Logger } from '../src/util/log.js';
import { startGithubServer, type GithubServer } from './support/github-server.js';

let github: GithubServer;
let readOnly: GithubServer;
const warnings: string[] = [];
const logger: Logger = {
  info: () => undefined,
  debug: () => undefined,
  warn: (message) => warnings.push(message),
  group: (_title, body) => body(),
};
const client = (server: GithubServer) =>
  githubClient(server.token, logger, { baseUrl: server.url, delayUnitMs: 10 });
const target = (issueNumber: number) => ({ owner: 'octo', repo: 'models', issueNumber });
const KEY = defaultCommentKey({
  hardwareTag: 'ci-box',
  dataset: 'cifar10',
  space: 'nb201',
  configPath: 'simnas.json',
});
const state = { architecture: '|skip_connect~0|+|none~0|skip_connect~1|', verdict: 'unchanged' };

beforeAll(async () => {
  github = await startGithubServer();
  readOnly = await startGithubServer({ createStatus: 403, checksStatus: 403 });
});

afterAll(async () => {
  await Promise.all([github.close(), readOnly.close()]);
});

describe('retries and rate limits (Octokit plugins)', () => {
  it('waits out a secondary rate limit, then succeeds', async () => {
    warnings.length = 0;
    github.state.failNext({
      status: 403,
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      headers: { 'retry-after': '2' },
    });
    const started = performance.now();
    const result = await upsertComment(client(github), target(1), KEY, state, 'report');
    expect(result.status).toBe('created');
    expect(github.state.comments('octo', 'models', 1)).toHaveLength(1);
    expect(
      github.state.requests
        .filter((r) => r.path.startsWith('/repos/octo/models/issues/1/'))
        .map((r) => r.status),
    ).toEqual([403, 200, 201]);
    expect(warnings).toEqual([
      expect.stringMatching(/^GitHub secondary rate limit on GET .*: retrying after 2 s$/),
    ]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('retries a 502, then succeeds', async () => {
    github.state.failNext({ status: 502 });
    const result = await upsertComment(client(github), target(2), KEY, state, 'report');
    expect(result.status).toBe('created');
    expect(
      github.state.requests
        .filter((r) => r.path.startsWith('/repos/octo/models/issues/2/'))
        .map((r) => r.status),
    ).toEqual([502, 200, 201]);
  });

  it('gives up after 3 retries of a server error, and does not retry a missing permission', async () => {
    github.state.failNext({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await expect(upsertComment(client(github), target(3), KEY, state, 'report')).rejects.toMatchObject({
      status: 503,
    });
    const before = readOnly.state.requests.length;
    const denied = await upsertComment(client(readOnly), target(3), KEY, state, 'report');
    expect(denied).toMatchObject({
      status: 'forbidden',
      message: expect.stringMatching(/may not comment on #3 \(HTTP 403/),
    });
    expect(readOnly.state.requests.length - before).toBe(2); // the list, then one refused create
  });

  it('does not wait out a primary rate limit that resets in an hour', async () => {
    warnings.length = 0;
    const reset = Math.floor(Date.now() / 1000) + 3600;
    github.state.failNext({
      status: 403,
      message: 'API rate limit exceeded for installation.',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
    });
    await expect(upsertComment(client(github), target(4), KEY, state, 'report')).rejects.toMatchObject({
      status: 403,
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^GitHub rate limit on GET .*: giving up \(retry after 3601 s/),
    ]);
  });
});

describe('comment keys and on-change', () => {
  it('keys the marker by hardware, dataset, space and config; keeps two workflows apart', async () => {
    expect(KEY).toBe('ci-box/cifar10/nb201/simnas.json');
    expect(
      defaultCommentKey({
        hardwareTag: 'a',
        dataset: 'cifar10',
        space: 'nb201',
        configPath: 'my model.json',
      }),
    ).toBe('a/cifar10/nb201/my_model.json');
    const other = defaultCommentKey({
      hardwareTag: 'ci-box',
      dataset: 'cifar100',
      space: 'nb201',
      configPath: 'simnas.json',
    });
    await upsertComment(client(github), target(10), KEY, state, 'cifar10 report');
    await upsertComment(client(github), target(10), other, state, 'cifar100 report');
    const comments = github.state.comments('octo', 'models', 10);
    expect(comments.map((c) => c.body.split('\n')[0])).toEqual([commentMarker(KEY), commentMarker(other)]);
    expect(github.state.duplicateMarkers()).toEqual([]);
  });

  it('on-change leaves the comment alone while recommendation and verdict stay, and updates when one changes', async () => {
    const octokit = client(github);
    const first = await upsertComment(octokit, target(11), KEY, state, 'run 1', { onChange: true });
    expect(first.status).toBe('created');
    const same = await upsertComment(octokit, target(11), KEY, state, 'run 2, same result', {
      onChange: true,
    });
    expect(same).toMatchObject({ status: 'unchanged', id: (first as { id: number }).id });
    expect(github.state.comments('octo', 'models', 11)[0]!.body).toContain('run 1');
    const changed = { ...state, verdict: 'latency-regression' };
    const third = await upsertComment(octokit, target(11), KEY, changed, 'run 3, regression', {
      onChange: true,
    });
    expect(third.status).toBe('updated');
    const [comment] = github.state.comments('octo', 'models', 11);
    expect(comment!.body).toContain('run 3');
    expect(parseCommentState(comment!.body)).toEqual(changed);
    // Without on-change every run updates.
    expect((await upsertComment(octokit, target(11), KEY, changed, 'run 4')).status).toBe('updated');
  });

  it('takes over a simnas 0.x comment of the same hardware instead of adding one', async () => {
    const legacy = github.state.addComment(
      'octo',
      'models',
      12,
      '<!-- simnas:hardware=ci-box -->\nold report',
    );
    github.state.addComment('octo', 'models', 12, '<!-- simnas:hardware=rpi5 -->\nanother runner');
    const result = await upsertComment(client(github), target(12), KEY, state, 'new report', {
      legacyHardwareTag: 'ci-box',
    });
    expect(result).toMatchObject({ status: 'updated', id: legacy.id });
    expect(github.state.comments('octo', 'models', 12).map((c) => c.body.split('\n')[0])).toEqual([
      commentMarker(KEY),
      '<!-- simnas:hardware=rpi5 -->',
    ]);
  });
});

describe('check runs', () => {
  it('concludes from the verdict: failure for regressions, neutral for advice or doubt, success otherwise', () => {
    expect(checkConclusion({ verdict: 'latency-regression' }, false)).toBe('failure');
    expect(checkConclusion({ verdict: 'over-budget' }, false)).toBe('failure');
    expect(checkConclusion({ verdict: 'inconclusive' }, false)).toBe('neutral');
    expect(checkConclusion({ verdict: 'dominated' }, false)).toBe('neutral');
    expect(checkConclusion({ verdict: 'improvement' }, false)).toBe('success');
    expect(checkConclusion(undefined, false)).toBe('success');
    expect(checkConclusion(undefined, true)).toBe('failure');
  });

  it('creates a completed check run, or says the permission is missing', async () => {
    const check = {
      name: 'simnas (ci-box)',
      conclusion: 'failure' as const,
      title: 'latency-regression',
      summary: 'report',
    };
    const target = { owner: 'octo', repo: 'models', headSha: 'f'.repeat(40) };
    const created = await createCheckRun(client(github), target, check);
    expect(created).toEqual({ status: 'created', url: expect.stringMatching(/\/octo\/models\/runs\/1$/) });
    expect(github.state.checkRuns[0]).toMatchObject({
      name: 'simnas (ci-box)',
      status: 'completed',
      conclusion: 'failure',
      head_sha: 'f'.repeat(40),
    });
    const denied = await createCheckRun(client(readOnly), target, check);
    expect(denied).toMatchObject({ status: 'forbidden', message: expect.stringMatching(/checks: write/) });
  });
});
