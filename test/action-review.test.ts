// The pull-request review through the built action, against the loopback GitHub and cache fakes:
// the repository declares its model in simnas.json; the base is a real git commit, the head the
// checked-out working tree. The review becomes the top section of the per-hardware comment and
// the verdict an output; fail-on-regression fails the job with the verdict as its message.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { frontNotes } from '../src/action/review.js';
import type { SearchResult } from '../src/pipeline/index.js';
import type { Review } from '../src/review/review.js';
import { runBuiltAction, writePullRequestEvent, type ActionRun } from './support/action-runner.js';
import { startCacheServer, type CacheServer } from './support/cache-server.js';
import { startGithubServer, type GithubServer } from './support/github-server.js';

const FAST =
  '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';
const SLOW =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const repo = mkdtempSync(path.join(os.tmpdir(), 'simnas-review-action-'));
let github: GithubServer;
let cache: CacheServer;
let baseSha: string;

const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd: repo,
    encoding: 'utf8',
  }).trim();
const config = (cell: string): string =>
  `${JSON.stringify({ dataset: 'cifar10', model: { cell } }, null, 2)}\n`;

async function runAction(pr: number, run: number, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runBuiltAction({
    workspace: repo,
    inputs: {
      'github-token': github.token,
      'hardware-tag': 'review-box',
      verify: '2',
      'report-dir': 'simnas-report',
      ...inputs,
    },
    env: {
      ...cache.env('v2'),
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: 'octo/models',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: writePullRequestEvent(repo, { repository: 'octo/models', number: pr, baseSha }),
      GITHUB_RUN_ID: String(run),
    },
  });
}

beforeAll(async () => {
  github = await startGithubServer();
  cache = await startCacheServer();
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, '.gitignore'), 'simnas-report/\nevent-*.json\n.runner/\n');
  writeFileSync(path.join(repo, 'simnas.json'), config(FAST));
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  baseSha = git('rev-parse', 'HEAD');
});

afterAll(async () => {
  await Promise.all([github.close(), cache.close()]);
  rmSync(repo, { recursive: true, force: true });
});

describe('the review through the action', () => {
  it('flags a slower head as a latency regression, comments it on top, and fails on request', async () => {
    writeFileSync(path.join(repo, 'simnas.json'), config(SLOW));
    const run = await runAction(3, 1, { 'fail-on-regression': 'true', 'check-run': 'true' });
    expect(run.exitCode, run.stdout.slice(-3000)).toBe(1);
    expect(run.stdout).toMatch(/::error::simnas review: latency-regression/);
    expect(run.outputs.verdict).toBe('latency-regression');
    expect(Number(run.outputs['latency-ratio'])).toBeGreaterThan(1.5);
    const [low, ratio, high] = ['latency-ratio-low', 'latency-ratio', 'latency-ratio-high'].map((name) =>
      Number(run.outputs[name]),
    );
    expect(low).toBeGreaterThan(1.05);
    expect(low).toBeLessThanOrEqual(ratio!);
    expect(high).toBeGreaterThanOrEqual(ratio!);
    expect(run.outputs['task-score-delta']).not.toBe('');
    // Everything was still published: the comment starts with the review, then the search.
    const [comment] = github.state.comments('octo', 'models', 3);
    expect(comment!.body).toMatch(
      /^<!-- simnas:key=review-box\/cifar10\/nb201\/simnas\.json -->\n<!-- simnas-state \S+ -->\n### This pull request/,
    );
    expect(comment!.body).toContain('**Recommended cell**');
    expect(comment!.body).toMatch(
      /Pareto front are faster and score higher than the head|head is on or near/,
    );
    expect(comment!.body.length).toBeLessThanOrEqual(65_536);
    const review = JSON.parse(readFileSync(path.join(repo, 'simnas-report', 'review.json'), 'utf8'));
    expect(review.base.model).toContain('skip_connect');
    // The check run carries the verdict as its conclusion.
    expect(github.state.checkRuns).toEqual([
      expect.objectContaining({ name: 'simnas (review-box)', conclusion: 'failure' }),
    ]);
    expect(github.state.checkRuns[0]!.output.title).toMatch(/^latency-regression: /);
  });

  it('says so when the config is new in the pull request, and does not fail', async () => {
    mkdirSync(path.join(repo, 'models'), { recursive: true });
    writeFileSync(path.join(repo, 'models', 'simnas.json'), config(FAST));
    const run = await runAction(4, 2, { config: 'models/simnas.json', 'fail-on-regression': 'true' });
    expect(run.exitCode, run.stdout.slice(-3000)).toBe(0);
    // 'new' is among the verdicts; a more severe one (e.g. dominated by the recommendation) may lead.
    const review = JSON.parse(readFileSync(path.join(repo, 'simnas-report', 'review.json'), 'utf8'));
    expect(review.verdicts.map((v: { kind: string }) => v.kind)).toContain('new');
    expect(review.baseMissing).toMatch(
      /models\/simnas\.json does not exist at .*: the config is new in this pull request/,
    );
    expect(['new', 'dominated']).toContain(run.outputs.verdict);
    expect(run.outputs['latency-ratio']).toBe('');
    expect(run.outputs['latency-ratio-low']).toBe('');
    expect(github.state.comments('octo', 'models', 4)[0]!.body).toContain('### This pull request');
  });

  it('refuses an invalid head config before any measurement, naming the input and the key', async () => {
    writeFileSync(path.join(repo, 'simnas.json'), JSON.stringify({ model: { cell: FAST }, budjet: '5ms' }));
    const run = await runAction(5, 3);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toMatch(/::error::Invalid input 'config': simnas\.json: unknown key 'budjet'/);
    expect(run.stdout).not.toContain('::group::simnas: hardware');
    expect(run.outputs.architecture).toBeUndefined();
    expect(github.state.comments('octo', 'models', 5)).toHaveLength(0);
  });
});

describe('the review against the Pareto front', () => {
  const front = [
    { code: 1, cell: 'A', latencyMs: 1, latencySource: 'measured', taskScore: 0.5 },
    { code: 2, cell: 'B', latencyMs: 2, latencySource: 'predicted', taskScore: 0.8 },
  ] as const;
  const search = { front } as unknown as SearchResult;
  const review = (latencyMs: number, taskScore: number | undefined): Review =>
    ({
      thresholds: { latencyPercent: 5, taskScorePoints: 0.02 },
      head: { latencyMs, taskScore },
    }) as unknown as Review;

  it('counts the front cells clearly faster and better than the head', () => {
    expect(frontNotes(review(3, 0.6), search)).toEqual([
      expect.stringMatching(/^1 of the 2 cells .* than the head, e\.g\. B \(2\.00 ms predicted/),
    ]);
    expect(frontNotes(review(1.02, 0.49), search)).toEqual([
      "the head is on or near this hardware's Pareto front",
    ]);
    expect(frontNotes(review(3, undefined), search)).toEqual([]);
  });
});
