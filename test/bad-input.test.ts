// Bad input, systematically: a table of the ways a user can get an option, an input, a path or a
// file wrong, against the CLI (in-process) and the built action (run as a runner runs it, against
// the loopback GitHub and cache servers). Each refusal must exit 2, name what was wrong as the user
// wrote it (the flag, the input as action.yml spells it, the file with its row and column), say
// what is accepted, fit in a few lines with the echoed value cut and escaped, and come before any
// measurement, download, fingerprint, cache request or comment.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runBuiltAction, writePullRequestEvent } from './support/action-runner.js';
import { startCacheServer, type CacheServer } from './support/cache-server.js';
import { runCliCaptured } from './support/cli.js';
import { startGithubServer, type GithubServer } from './support/github-server.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'simnas-bad-input-'));
const CELL = '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|';
const RLO = '\u202E';
const HUGE = 'x'.repeat(100_000);

/** Characters a message must never print raw: controls (but newline), bidi and invisible ones. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

interface Refusal {
  /** What the message must name: a flag, an input, a file with its row and column. */
  readonly names: string | RegExp;
  /** What it must say is accepted (after "expected"), or what is wrong when nothing else fits. */
  readonly says: string | RegExp;
}

/** The checks every refusal passes, whichever front end printed it. */
function expectClearRefusal(message: string, refusal: Refusal): void {
  if (typeof refusal.names === 'string') expect(message).toContain(refusal.names);
  else expect(message).toMatch(refusal.names);
  if (typeof refusal.says === 'string') expect(message).toContain(refusal.says);
  else expect(message).toMatch(refusal.says);
  expect(message).not.toMatch(RAW_UNSAFE);
  expect(message).not.toMatch(/\n\s+at /);
  expect(message.trim().split('\n').length).toBeLessThanOrEqual(3);
  expect(message.length).toBeLessThan(1_200);
}

function file(name: string, content: string | Buffer): string {
  const target = path.join(work, name);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content);
  return target;
}

const table = (rows: string): string => `index,arch_str,board\n${rows}`;

// [kind, arguments, refusal]. The kind groups the cases in the report of what is covered.
type CliCase = readonly [kind: string, args: () => string[], refusal: Refusal];

const cliCases: readonly CliCase[] = [
  // Numbers: decimal only, empty refused, the range stated when it is the range that is wrong.
  [
    'number',
    () => ['search', '--samples', '0x10'],
    { names: '--samples', says: "'0x10' is not a decimal integer; expected an integer from 2 to 200" },
  ],
  [
    'number',
    () => ['search', '--samples', '1e3'],
    { names: '--samples', says: 'is not a decimal integer; expected an integer from 2 to 200' },
  ],
  [
    'number',
    () => ['search', '--samples', '201'],
    { names: '--samples', says: "'201' is out of range; expected an integer from 2 to 200" },
  ],
  ['number', () => ['search', '--samples', '2.5'], { names: '--samples', says: 'is not a decimal integer' }],
  [
    'number',
    () => ['search', '--seed', ''],
    { names: '--seed', says: 'an empty value; expected an integer from 0 to 2147483647' },
  ],
  [
    'number',
    () => ['search', '--seed', '4294967296'],
    { names: '--seed', says: 'is out of range; expected an integer from 0 to 2147483647' },
  ],
  [
    'number',
    () => ['search', '--verify', '0'],
    { names: '--verify', says: 'is out of range; expected an integer from 1 to 100' },
  ],
  [
    'number',
    () => ['search', '--threads', '0x2'],
    { names: '--threads', says: 'expected an integer from 1 to 1024' },
  ],
  [
    'number',
    () => ['search', '--budget', '1e3'],
    { names: '--budget', says: "'1e3' is not a latency; expected a positive latency such as 5ms" },
  ],
  ['number', () => ['search', '--budget', '0ms'], { names: '--budget', says: "'0ms' is not positive" }],
  [
    'number',
    () => ['search', '--noise', '1e-2'],
    { names: '--noise', says: 'is not a decimal number; expected a fraction from 0 to below 1' },
  ],
  [
    'number',
    () => ['measure', '--budget', '0x1e'],
    { names: '--budget', says: 'expected a positive number of seconds' },
  ],
  [
    'number',
    () => ['measure', '--rounds', ''],
    { names: '--rounds', says: 'an empty value; expected a positive integer' },
  ],
  [
    'number',
    () => ['pretrain', '--steps', '0x10'],
    { names: '--steps', says: 'expected a positive integer (rounded up' },
  ],
  // Words from a fixed list.
  [
    'choice',
    () => ['search', '--dataset', 'mnist'],
    { names: '--dataset', says: 'expected one of cifar10, cifar100, ImageNet16-120' },
  ],
  [
    'choice',
    () => ['search', '--strategy', 'greedy'],
    { names: '--strategy', says: 'expected one of auto, controller, controller-untrained, evolution' },
  ],
  ['choice', () => ['measure', '--provider', 'tpu9'], { names: "'tpu9'", says: /available: .*cpu/i }],
  // Echoed values: cut, escaped, never raw.
  [
    'echo',
    () => ['search', '--dataset', `cifar10${RLO}`],
    { names: '--dataset', says: "'cifar10\\u202E' is not a dataset" },
  ],
  [
    'echo',
    () => ['search', '--samples', HUGE],
    { names: '--samples', says: /\(99920 more characters\) is not a decimal integer; expected an integer/ },
  ],
  ['echo', () => ['cell', `|a\u0007|${RLO}`], { names: 'invalid cell', says: '\\x07' }],
  ['echo', () => ['search', `--bogus${RLO}`], { names: 'unknown option', says: '\\u202E' }],
  // Paths: empty, missing, or of the wrong kind.
  ['path', () => ['search', '--out', ''], { names: '--out', says: 'an empty value; expected a folder path' }],
  [
    'path',
    () => ['review', '--repo', path.join(work, 'no-such-repo')],
    { names: '--repo', says: 'does not exist; expected an existing folder' },
  ],
  [
    'path',
    () => ['review', '--repo', file('repo-file', '')],
    { names: '--repo', says: 'is a file; expected an existing folder' },
  ],
  [
    'path',
    () => {
      const repo = path.join(work, 'onnx-folder-repo');
      mkdirSync(path.join(repo, 'model.onnx'), { recursive: true });
      writeFileSync(path.join(repo, 'simnas.json'), JSON.stringify({ model: { onnx: 'model.onnx' } }));
      return ['review', '--repo', repo];
    },
    { names: "'model.onnx'", says: 'is a folder, not a file' },
  ],
  // Tables: refused at the reader, naming the file, the row and the column.
  [
    'table',
    () => ['search', '--device', `table:${file('zero.csv', table(`0,${CELL},0\n`))}:board`],
    {
      names: /zero\.csv: row 2, column 'board'/,
      says: "'0' is not a latency; expected a positive number of ms",
    },
  ],
  [
    'table',
    () => ['search', '--device', `table:${file('hex.csv', table(`0,${CELL},0x10\n`))}:board`],
    { names: /hex\.csv: row 2, column 'board'/, says: "'0x10' is not a latency" },
  ],
  [
    'table',
    () => ['search', '--device', `table:${file('bidi.csv', table(`0,${CELL},1${RLO}2\n`))}:board`],
    { names: /bidi\.csv: row 2, column 'board'/, says: "'1\\u202E2' is not a latency" },
  ],
  [
    'table',
    () => ['search', '--device', `table:${file('huge.csv', table(`0,${CELL},${HUGE}\n`))}:board`],
    { names: /huge\.csv: row 2, column 'board'/, says: '(99920 more characters) is not a latency' },
  ],
  [
    'table',
    () => {
      const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64)]);
      return ['search', '--device', `table:${file('binary.csv', elf)}:board`];
    },
    { names: 'binary.csv', says: 'not a text file (binary data' },
  ],
  [
    'table',
    () => ['bench', 'latency', '--table', file('noheader.csv', `index,arch${RLO},board\n`)],
    { names: /noheader\.csv: row 1 \(header\)/, says: "found: 'index', 'arch\\u202E', 'board'" },
  ],
  // Recorded tables resumed by measure-table: one device column, one set of settings.
  [
    'resume',
    () => ['measure-table', '--out', file('two.csv', 'index,arch_str,a,b\n'), '--column', 'a'],
    { names: "--out '", says: 'pass another --out (measure-table writes one device column per file)' },
  ],
  [
    'resume',
    () => [
      'measure-table',
      '--out',
      file(
        'settings.csv',
        '# simnas measure-table: dataset=cifar10 batch=1 threads=1 provider=cpu warmup=5 rounds=40\nindex,arch_str,here\n',
      ),
      '--column',
      'here',
      '--dataset',
      'cifar100',
    ],
    {
      names: 'was measured with dataset=cifar10 batch=1',
      says: 'this run asks for dataset=cifar100 batch=1',
    },
  ],
];

describe('bad input on the command line', () => {
  it.each(cliCases.map(([kind, args, refusal], i) => [`${i + 1} ${kind}`, args, refusal] as const))(
    'case %s: exit 2, names it, says what is accepted, before any work',
    async (_label, args, refusal) => {
      const run = await runCliCaptured(...args());
      expect(run.code, run.stderr).toBe(2);
      expectClearRefusal(run.stderr.replace(/\(run with --help for usage\)\n?$/, ''), refusal);
      expect(run.stderr).not.toMatch(/measuring|networks to measure/);
    },
  );
});

// The action, run as a runner runs it. Every case needs a fresh workspace layout of its own.
type ActionCase = readonly [kind: string, inputs: () => Record<string, string>, refusal: Refusal];

const actionCases: readonly ActionCase[] = [
  [
    'number',
    () => ({ samples: '201' }),
    { names: "Invalid input 'samples'", says: "'201' is out of range; expected an integer from 2 to 200" },
  ],
  [
    'number',
    () => ({ samples: '0x10' }),
    { names: "Invalid input 'samples'", says: 'is not a decimal integer' },
  ],
  [
    'number',
    () => ({ seed: '-1' }),
    { names: "Invalid input 'seed'", says: 'expected an integer from 0 to 2147483647' },
  ],
  [
    'number',
    () => ({ verify: '1e3' }),
    { names: "Invalid input 'verify'", says: 'expected an integer from 1 to 100' },
  ],
  [
    'number',
    () => ({ threads: '0' }),
    { names: "Invalid input 'threads'", says: 'expected an integer from 1 to 1024' },
  ],
  [
    'number',
    () => ({ 'latency-budget': 'fast' }),
    { names: "Invalid input 'latency-budget'", says: 'expected a positive latency such as 5ms' },
  ],
  [
    'choice',
    () => ({ dataset: 'mnist' }),
    { names: "Invalid input 'dataset'", says: 'expected one of cifar10, cifar100, ImageNet16-120' },
  ],
  [
    'choice',
    () => ({ strategy: 'greedy' }),
    { names: "Invalid input 'strategy'", says: 'expected one of auto, controller' },
  ],
  ['choice', () => ({ cache: 'yes' }), { names: "Invalid input 'cache'", says: 'expected true or false' }],
  [
    'choice',
    () => ({ comment: 'sometimes' }),
    { names: "Invalid input 'comment'", says: 'expected one of auto, always, on-change, never' },
  ],
  [
    'choice',
    () => ({ 'check-run': 'maybe' }),
    { names: "Invalid input 'check-run'", says: 'expected true or false' },
  ],
  [
    'echo',
    () => ({ 'comment-key': `key ${RLO}` }),
    {
      names: "Invalid input 'comment-key'",
      says: "'key \\u202E' is not a comment key; expected up to 200 letters",
    },
  ],
  [
    'choice',
    () => ({ 'fail-on-regression': 'maybe' }),
    { names: "Invalid input 'fail-on-regression'", says: 'expected true or false' },
  ],
  [
    'echo',
    () => ({ 'hardware-tag': `box${RLO}` }),
    { names: "Invalid input 'hardware-tag'", says: "'box\\u202E' is not a hardware tag" },
  ],
  [
    'echo',
    () => ({ 'latency-budget': HUGE }),
    { names: "Invalid input 'latency-budget'", says: '(99920 more characters) is not a latency' },
  ],
  [
    'path',
    () => ({ 'working-directory': 'no-such-folder' }),
    { names: "Invalid input 'working-directory'", says: 'does not exist; expected an existing folder' },
  ],
  [
    'path',
    () => ({ 'working-directory': path.relative(work, file('wd-file', '')) }),
    { names: "Invalid input 'working-directory'", says: 'is a file; expected an existing folder' },
  ],
  [
    'path',
    () => ({ 'report-dir': path.relative(work, file('report-file', '')) }),
    { names: "Invalid input 'report-dir'", says: 'is a file, not a folder' },
  ],
  [
    'path',
    () => ({ controller: 'missing/controller.json' }),
    { names: "Invalid input 'controller'", says: 'does not exist; expected a controller.json' },
  ],
  [
    'path',
    () => ({ config: 'models/simnas.json' }),
    { names: "Invalid input 'config'", says: 'does not exist in' },
  ],
  [
    'path',
    () => ({ config: path.relative(work, file('broken/simnas.json', '{"model": ')) }),
    { names: "Invalid input 'config'", says: 'not valid JSON' },
  ],
  // Checked after the install (it needs onnxruntime-node), still before the fingerprint.
  ['choice', () => ({ provider: 'tpu9' }), { names: "Invalid input 'provider'", says: /available: .*cpu/i }],
];

describe('bad action inputs, the action run as a runner runs it', () => {
  let github: GithubServer;
  let cache: CacheServer;

  beforeAll(async () => {
    github = await startGithubServer();
    cache = await startCacheServer();
  });

  afterAll(async () => {
    await Promise.all([github.close(), cache.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  it.each(actionCases.map(([kind, inputs, refusal], i) => [`${i + 1} ${kind}`, inputs, refusal] as const))(
    'case %s: exit 2 with one ::error:: naming the input, before any work',
    async (_label, inputs, refusal) => {
      const run = await runBuiltAction({
        workspace: work,
        inputs: { 'github-token': github.token, 'hardware-tag': 'ci-box', ...inputs() },
        env: {
          ...cache.env('v2'),
          GITHUB_API_URL: github.url,
          GITHUB_REPOSITORY: 'octo/models',
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_EVENT_PATH: writePullRequestEvent(work, { repository: 'octo/models', number: 3 }),
          // Unreachable: an input checked late would show as a download failure instead.
          SIMNAS_NPM_REGISTRY: 'http://127.0.0.1:9',
        },
      });
      expect(run.exitCode, run.stdout.slice(-2000)).toBe(2);
      const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error::'));
      expect(errors).toHaveLength(1);
      // @actions/core escapes line breaks in ::error:: as %0A.
      expectClearRefusal(errors[0]!.slice('::error::'.length).replaceAll('%0A', '\n'), refusal);
      expect(run.stdout).not.toContain('::group::simnas: hardware');
      expect(run.stdout).not.toMatch(/measuring|downloading/);
      expect(github.state.requests).toHaveLength(0);
      expect(cache.state.requests).toHaveLength(0);
    },
  );
});
