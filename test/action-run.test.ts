// The built action end to end, as a runner runs it, against loopback fakes of the GitHub REST API
// and the Actions cache service: the real @actions/github and @actions/cache code paths, real
// onnxruntime measurements on this machine. Two runs on one pull request: the first measures,
// comments and saves its caches; the second restores them, reuses the measurements and updates
// the same comment (or, on-change, leaves it). Then the ways optional subsystems fail: a
// read-only token, a damaged cache entry, a cache service answering 500; and the fork recipe's
// second workflow posting a fork run's report with `simnas comment`.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readActionMetadata } from '../scripts/action-docs.js';
import { actionRunProblems } from '../scripts/check-action-run.mjs';
import {
  runBuiltAction,
  runBuiltCli,
  writePullRequestEvent,
  type ActionRun,
} from './support/action-runner.js';
import { startCacheServer, type CacheServer } from './support/cache-server.js';
import { startGithubServer, type GithubServer } from './support/github-server.js';

const REPOSITORY = 'octo/models';
const workspace = mkdtempSync(path.join(os.tmpdir(), 'simnas-action-'));
let github: GithubServer;
let forkGithub: GithubServer;
let cache: CacheServer;
/** The fork run, made without a cache: the baseline of the cache-outage test. */
let noCache: ActionRun | undefined;

const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  'github-token': github.token,
  'hardware-tag': 'ci-box',
  'latency-budget': '',
  samples: '10',
  verify: '3',
  'report-dir': 'simnas-report',
  ...extra,
});

function context(server: GithubServer, run: number, pr: number, fork = false): Record<string, string> {
  return {
    GITHUB_API_URL: server.url,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: writePullRequestEvent(workspace, {
      repository: REPOSITORY,
      number: pr,
      ...(fork ? { headRepository: 'someone/models' } : {}),
    }),
    GITHUB_RUN_ID: String(run),
    GITHUB_SHA: 'f'.repeat(40),
  };
}

const report = (): {
  strategy: string;
  controller?: { path: string; bundled: boolean };
  measurements: { total: number; reused: number; samples: number };
  run: { hardwareTag: string; caches: Record<string, string> };
} => JSON.parse(readFileSync(path.join(workspace, 'simnas-report', 'report.json'), 'utf8'));

function expectSucceeded(run: ActionRun): void {
  if (run.exitCode !== 0)
    throw new Error(`the action failed (exit ${run.exitCode}):\n${run.stdout.slice(-4000)}`);
}

beforeAll(async () => {
  github = await startGithubServer();
  forkGithub = await startGithubServer({ createStatus: 403 });
  cache = await startCacheServer();
});

afterAll(async () => {
  await Promise.all([github.close(), forkGithub.close(), cache.close()]);
  rmSync(workspace, { recursive: true, force: true });
});

describe('the action on a pull request (two runs, v2 cache protocol)', () => {
  let cold: ActionRun;
  let warm: ActionRun;

  it('first run: measures, writes report, outputs and summary, creates one comment, saves its caches', async () => {
    // Another runner's comment on the same pull request must be left alone.
    const other = github.state.addComment(
      'octo',
      'models',
      7,
      '<!-- simnas:hardware=rpi5 -->\nother hardware',
    );
    cold = await runBuiltAction({
      workspace,
      // The controller by name: `auto` searches NB201 exhaustively, and this run tests the bundle's controller.
      inputs: inputs({ strategy: 'controller' }),
      env: { ...cache.env('v2'), ...context(github, 1, 7) },
    });
    expectSucceeded(cold);
    expect(cold.outputs.architecture).toMatch(/^\|.+\|$/);
    expect(Number(cold.outputs['latency-ms'])).toBeGreaterThan(0);
    expect(['true', 'false']).toContain(cold.outputs['within-budget']);
    expect(cold.outputs['hardware-tag']).toBe('ci-box');
    expect(cold.outputs['report-path']).toBe(path.join(workspace, 'simnas-report'));
    expect(cold.summary).toContain('**Recommended cell**');
    // What the CI job that runs the action from the checkout checks (scripts/check-action-run.mjs),
    // and that it would catch a wrong output; every output action.yml declares is set.
    expect(actionRunProblems(cold.outputs, { hardwareTag: 'ci-box' })).toEqual([]);
    expect(actionRunProblems({ ...cold.outputs, 'latency-ms': '1e9' })).toEqual([
      expect.stringMatching(/^output latency-ms '1e9' is not report\.json's/),
    ]);
    expect(Object.keys(cold.outputs).sort()).toEqual(Object.keys(readActionMetadata().outputs).sort());

    const comments = github.state.comments('octo', 'models', 7);
    expect(comments).toHaveLength(2);
    const mine = comments.find((c) => c.id !== other.id)!;
    expect(mine.body.startsWith('<!-- simnas:key=ci-box/cifar10/nb201/simnas.json -->\n')).toBe(true);
    expect(mine.body).toContain(cold.outputs.architecture!.replaceAll('|', '\\|'));
    expect(mine.body.length).toBeLessThanOrEqual(65_536);
    expect(cold.outputs['comment-url']).toBe(mine.html_url);
    expect(comments.find((c) => c.id === other.id)!.body).toBe(
      '<!-- simnas:hardware=rpi5 -->\nother hardware',
    );

    const first = report();
    // The bundle finds the controller shipped beside it (dist/ is one folder below controllers/).
    expect(first.strategy).toBe('controller');
    expect(first.controller).toMatchObject({ path: 'controllers/cifar10.json', bundled: true });
    expect(first.run.caches.measurements).toBe('miss');
    expect(first.measurements.reused).toBe(0);
    expect(first.measurements.samples).toBe(10);
    expect(
      cache.state.entries().some((e) => e.key.startsWith('simnas-measurements-v1-nb201-cifar10-ci-box-')),
    ).toBe(true);
  });

  it('second run: restores the measurements, measures nothing again; on-change leaves the comment; a check run', async () => {
    // The API answers a 502 once (the retry plugin retries it), and the run asks for a check run.
    github.state.failNext({ status: 502 });
    warm = await runBuiltAction({
      workspace,
      inputs: inputs({ strategy: 'controller', comment: 'on-change', 'check-run': 'true' }),
      env: { ...cache.env('v2'), ...context(github, 2, 7) },
    });
    expectSucceeded(warm);
    const second = report();
    expect(second.run.caches.measurements).toBe('hit');
    expect(second.measurements.reused).toBeGreaterThanOrEqual(10);
    expect(second.measurements.total).toBeLessThan(10);
    expect(warm.stdout).toMatch(/the same samples as a cached fit, reusing it/);
    // Same seed, same measurements: the same recommendation, so on-change leaves the comment be.
    expect(warm.outputs.architecture).toBe(cold.outputs.architecture);
    expect(warm.stdout).toMatch(
      /the recommendation and verdict are as in the previous comment, left as it is/,
    );
    expect(github.state.comments('octo', 'models', 7)).toHaveLength(2);
    expect(github.state.duplicateMarkers()).toEqual([]);
    expect(github.state.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(github.state.requests.filter((r) => r.status === 502)).toHaveLength(1);
    expect(warm.outputs['comment-url']).toBe(cold.outputs['comment-url']);
    // No review here: the check says the search succeeded, on the pull request's head.
    expect(github.state.checkRuns).toEqual([
      expect.objectContaining({ name: 'simnas (ci-box)', conclusion: 'success', head_sha: 'f'.repeat(40) }),
    ]);
    expect(warm.outputs['check-run-url']).toBe(github.state.checkRuns[0]!.html_url);
    console.log(
      `action wall time: cold ${(cold.wallMs / 1000).toFixed(1)} s, warm ${(warm.wallMs / 1000).toFixed(1)} s ` +
        `(${((100 * warm.wallMs) / cold.wallMs).toFixed(0)}%)`,
    );
  });
});

describe('the action degrades optional subsystems to warnings', () => {
  it('a read-only token (fork) and a damaged cache entry: summary instead of comment, cache ignored', async () => {
    for (const entry of cache.state.entries()) cache.state.corrupt(entry.key);
    const run = await runBuiltAction({
      workspace,
      inputs: inputs({ 'github-token': forkGithub.token, comment: 'always', samples: '5', verify: '1' }),
      env: { ...cache.env('v2'), ...context(forkGithub, 3, 8, true) },
    });
    expectSucceeded(run);
    expect(run.warnings.join('\n')).toMatch(/may not comment on #8 \(HTTP 403/);
    expect(run.summary).toContain('**Recommended cell**');
    expect(run.outputs['comment-url']).toBe('');
    expect(forkGithub.state.comments('octo', 'models', 8)).toHaveLength(0);
    // tar fails on the damaged archive; @actions/cache then reports a miss, with a warning.
    expect(run.warnings.join('\n')).toMatch(/Failed to restore/);
    expect(report().run.caches.measurements).toBe('miss');
    expect(report().measurements.reused).toBe(0);
  });

  it('a fork pull request with comment: auto does not try to comment; a second workflow posts its report', async () => {
    const before = forkGithub.state.requests.length;
    const run = await runBuiltAction({
      workspace,
      inputs: inputs({ 'github-token': forkGithub.token, cache: 'false', samples: '5', verify: '1' }),
      env: context(forkGithub, 4, 9, true),
    });
    expectSucceeded(run);
    noCache = run;
    expect(run.warnings.join('\n')).toMatch(/comes from a fork/);
    expect(forkGithub.state.requests.length).toBe(before);
    expect(report().run.caches.measurements).toBe('disabled');
    expect(report().run).toMatchObject({ pullRequest: { number: 9, headSha: 'f'.repeat(40) } });

    // The README's fork recipe: the pull_request job uploads the report folder; the workflow_run
    // job downloads it and runs `simnas comment` with a writable token, finding the pull request
    // by the head commit the workflow_run event names.
    const artifact = path.join(workspace, 'downloaded-artifact');
    cpSync(path.join(workspace, 'simnas-report'), artifact, { recursive: true });
    github.state.addPullRequest('octo', 'models', 9, 'f'.repeat(40));
    const comment = (...args: string[]) =>
      runBuiltCli(['comment', '--report', artifact, ...args], {
        GITHUB_TOKEN: github.token,
        GITHUB_API_URL: github.url,
        GITHUB_REPOSITORY: REPOSITORY,
      });
    const posted = await comment('--head-sha', 'f'.repeat(40));
    expect(posted.code, posted.output).toBe(0);
    expect(posted.output).toMatch(
      /created the comment on #9: https:\/\/github\.com\/octo\/models\/pull\/9#issuecomment-/,
    );
    const [body] = github.state.comments('octo', 'models', 9).map((c) => c.body);
    expect(body).toMatch(/^<!-- simnas:key=ci-box\/cifar10\/nb201\/simnas\.json -->\n/);
    expect(body).toContain(run.outputs.architecture!.replaceAll('|', '\\|'));
    // A rerun of the second workflow updates (or, on-change, leaves) the same comment.
    expect((await comment('--head-sha', 'f'.repeat(40), '--on-change')).output).toMatch(
      /^unchanged the comment on #9/m,
    );
    expect((await comment('--pr', '9')).output).toMatch(/^updated the comment on #9/m);
    expect(github.state.comments('octo', 'models', 9)).toHaveLength(1);
    // The artifact cannot steer the comment to another commit's pull request.
    const other = await comment('--head-sha', 'e'.repeat(40));
    expect(other.code).toBe(2);
    expect(other.output).toMatch(/report\.json is from commit f{40}, not e{40}: refusing to post it/);
  });

  it('a cache service answering 500 costs seconds: one call, its time limit, then no more calls', async () => {
    // The controller by name, so that its cache slot is the first call (auto restores no controller).
    const settings = inputs({ strategy: 'controller', comment: 'never', samples: '5', verify: '1' });
    // The fork run above is the same run without a cache: the wall time an outage adds.
    const offline = noCache!;
    cache.state.failAll = 500;
    const before = cache.state.requests.length;
    try {
      const run = await runBuiltAction({
        workspace,
        inputs: settings,
        env: { ...cache.env('v2'), ...context(github, 6, 7) },
      });
      expectSucceeded(run);
      const extraMs = run.wallMs - offline.wallMs;
      console.log(
        `cache answering 500 (v2): ${(run.wallMs / 1000).toFixed(1)} s, without a cache ` +
          `${(offline.wallMs / 1000).toFixed(1)} s (+${(extraMs / 1000).toFixed(1)} s)`,
      );
      // @actions/cache alone retries each of the 4 calls for about 30 s (+116 s measured before the
      // time limit); now one call, stopped at its 10 s limit, is the whole cost. The runs' wall
      // times are compared loosely (this machine is shared and noisy), the cache's own time tightly.
      const spent = /cache service: (\d+) call\(s\) in ([\d.]+) s, then given up/.exec(run.stdout);
      expect(spent?.[1]).toBe('1');
      expect(Number(spent?.[2])).toBeLessThan(11);
      expect(extraMs).toBeLessThan(60_000);
      const gaveUp = run.warnings.filter((w) => /not calling the cache service again/.test(w));
      expect(gaveUp).toEqual([
        expect.stringMatching(/^cache restore of 'controller' failed \(no answer within 10 s\)/),
      ]);
      expect(report().run.caches).toMatchObject({ controller: 'failed', measurements: 'unavailable' });
      // Nothing after the first call: no measurement lookup, no save.
      const calls = cache.state.requests.slice(before).map((r) => r.path);
      expect(calls.every((p) => p.endsWith('/GetCacheEntryDownloadURL'))).toBe(true);
    } finally {
      cache.state.failAll = undefined;
    }
  });

  it('a budget below the fastest cell fails the step, and the measurements it made are kept', async () => {
    const tag = { 'hardware-tag': 'budget-box', comment: 'never' };
    const failed = await runBuiltAction({
      workspace,
      inputs: inputs({ ...tag, 'latency-budget': '0.0001ms' }),
      env: { ...cache.env('v2'), ...context(github, 7, 7) },
    });
    expect(failed.exitCode).toBe(2);
    expect(failed.stdout).toMatch(
      /::error::latency budget 0\.0001 ms is below the fastest cell on this device/,
    );
    // The report folder is left as the last successful run wrote it; the samples are beside it.
    expect(failed.stdout).toContain(
      `measurements were written to ${path.join(workspace, 'simnas-report.partial')}`,
    );
    expect(report().run.hardwareTag).not.toBe('budget-box');
    const rerun = await runBuiltAction({
      workspace,
      inputs: inputs(tag),
      env: { ...cache.env('v2'), ...context(github, 8, 7) },
    });
    expectSucceeded(rerun);
    expect(report().measurements.reused).toBeGreaterThanOrEqual(10);
    expect(report().measurements.samples).toBe(0);
  });

  it('a bad input fails the step with a message naming the input', async () => {
    const run = await runBuiltAction({
      workspace,
      inputs: inputs({ 'latency-budget': 'fast' }),
      env: context(github, 6, 7),
    });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toMatch(
      /::error::Invalid input 'latency-budget': 'fast' is not a latency; expected a positive latency/,
    );
  });
});
