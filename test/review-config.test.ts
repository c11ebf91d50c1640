// The review config: defaults, every kind of mistake with a message naming file, key, what was
// found and what is accepted, and reading at a git ref (missing file, unknown ref, model files
// read from the ref rather than the working tree) in a throwaway git repository.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import {
  DEFAULT_THRESHOLDS,
  parseConfig,
  readConfigAtRef,
  readConfigFile,
  readModelFile,
  type ConfigOrigin,
} from '../src/review/config.js';
import { formatCell } from '../src/spaces/nb201/cell.js';

const CELL =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
/** An FBNet architecture: 21 layers of k3_e1, the last k5_e6. */
const FBNET = [...Array<string>(21).fill('k3_e1'), 'k5_e6'].join('-');
const ORIGIN: ConfigOrigin = { kind: 'working-tree', repoDir: '.' };

const parse = (value: unknown) =>
  parseConfig(typeof value === 'string' ? value : JSON.stringify(value), 'simnas.json', ORIGIN);

function gitRepo(): { dir: string; git: (...args: string[]) => string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'simnas-review-config-'));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-C', dir, ...args], {
      encoding: 'utf8',
    });
  git('init', '-q', '-b', 'main');
  return { dir, git };
}

describe('review config', () => {
  it('parses a cell config with defaults', () => {
    const config = parse({ model: { cell: CELL } });
    expect(config.space.id).toBe('nb201');
    expect(config.dataset).toBe('cifar10');
    expect(config.model).toMatchObject({ kind: 'architecture', key: 'cell', text: CELL });
    if (config.model.kind === 'architecture') expect(formatCell(config.model.architecture)).toBe(CELL);
    expect(config.budgetMs).toBeUndefined();
    expect(config.thresholds).toEqual(DEFAULT_THRESHOLDS);
  });

  it('parses an architecture of the space the config names, and the old searchSpace as NB201', () => {
    const fbnet = parse({ space: 'fbnet', dataset: 'imagenet', model: { arch: FBNET } });
    expect(fbnet.space.id).toBe('fbnet');
    expect(fbnet.dataset).toBe('imagenet');
    expect(fbnet.model).toEqual({
      kind: 'architecture',
      key: 'arch',
      architecture: [...Array<number>(21).fill(0), 7],
      text: FBNET,
    });
    expect(parse({ space: 'fbnet', model: { arch: FBNET } }).dataset).toBe('cifar100');
    const legacy = parse({ searchSpace: 'nas-bench-201', space: 'nb201', model: { arch: CELL } });
    expect(legacy.space.id).toBe('nb201');
    expect(legacy.model).toMatchObject({ key: 'arch', text: CELL });
  });

  it('parses an ONNX config with input shape, budget and partial thresholds', () => {
    const config = parse({
      searchSpace: 'nas-bench-201',
      dataset: 'ImageNet16-120',
      model: { onnx: './models/net.onnx', inputShape: { batch: 4, '2': 224 } },
      budget: '500us',
      thresholds: { latencyPercent: 3 },
    });
    expect(config.dataset).toBe('ImageNet16-120');
    expect(config.model).toEqual({
      kind: 'onnx',
      path: 'models/net.onnx',
      inputShape: { batch: 4, '2': 224 },
    });
    expect(config.budgetMs).toBeCloseTo(0.5, 12);
    expect(config.thresholds).toEqual({ latencyPercent: 3, taskScorePoints: 0.02 });
  });

  it.each([
    ['not JSON', '{model: 1}', /^simnas\.json: not valid JSON/],
    [
      'an array',
      [1],
      /found an array at the top level; expected a JSON object with keys 'space', 'searchSpace'/,
    ],
    [
      'a typo in a key',
      { modle: { cell: CELL } },
      /unknown key 'modle' \(did you mean 'model'\?\) at the top level/,
    ],
    ['no model', { dataset: 'cifar10' }, /missing key 'model'; expected an object with either "cell"/],
    [
      'an unknown dataset',
      { dataset: 'cifar-10', model: { cell: CELL } },
      /key 'dataset': found string "cifar-10"; expected one of cifar10, cifar100, ImageNet16-120/,
    ],
    [
      'another search space',
      { searchSpace: 'darts', model: { cell: CELL } },
      /key 'searchSpace': found string "darts"; expected "nas-bench-201"/,
    ],
    [
      'an unknown space',
      { space: 'darts', model: { arch: CELL } },
      /key 'space': found string "darts"; expected one of nb201, fbnet, macro/,
    ],
    [
      'the old searchSpace beside another space',
      { space: 'fbnet', searchSpace: 'nas-bench-201', model: { arch: FBNET } },
      /key 'searchSpace': found "nas-bench-201" \(NB201\) beside "space": "fbnet"; expected one of them/,
    ],
    [
      'a dataset of another space',
      { space: 'fbnet', dataset: 'cifar10', model: { arch: FBNET } },
      /key 'dataset': found string "cifar10"; expected one of cifar100, imagenet/,
    ],
    [
      'an NB201 cell in an FBNet config',
      { space: 'fbnet', model: { arch: CELL } },
      /key 'model\.arch': invalid FBNet architecture: found 1 layer\(s\), expected 22/,
    ],
    [
      'a bad FBNet layer',
      { space: 'fbnet', model: { arch: FBNET.replace(/k5_e6$/, 'k5_e9') } },
      /key 'model\.arch': invalid FBNet architecture: layer 22 is 'k5_e9' \(each of the 22 layers is one of k3_e1, /,
    ],
    [
      'an FBNet config with neither arch nor onnx',
      { space: 'fbnet', model: { archs: FBNET } },
      /key 'model': found keys 'archs'; expected an object with either "arch" \(an architecture string of FBNet/,
    ],
    [
      'arch and cell at once',
      { model: { arch: CELL, cell: CELL } },
      /key 'model': found both "cell" and "arch"; expected exactly one/,
    ],
    [
      'a bad cell',
      { model: { cell: CELL.replace('skip_connect~2', 'skip_conect~2') } },
      /key 'model\.cell': invalid cell .*edge 3<-2: unknown op 'skip_conect'; expected one of none, skip_connect/,
    ],
    [
      'a cell that is not a string',
      { model: { cell: 7 } },
      /key 'model\.cell': found number 7; expected an NB201 cell string/,
    ],
    [
      'both cell and onnx',
      { model: { cell: CELL, onnx: 'a.onnx' } },
      /key 'model': found both "cell" and "onnx"; expected exactly one/,
    ],
    [
      'neither cell nor onnx',
      { model: { path: 'a.onnx' } },
      /key 'model': found keys 'path'; expected an object with either "cell"/,
    ],
    [
      'an absolute ONNX path',
      { model: { onnx: '/abs/a.onnx' } },
      /key 'model\.onnx': found string "\/abs\/a\.onnx"; expected a path relative to the repository/,
    ],
    [
      'an ONNX path above the repository',
      { model: { onnx: 'x/../../a.onnx' } },
      /key 'model\.onnx': .*expected a path inside the repository/,
    ],
    [
      'a zero dimension',
      { model: { onnx: 'a.onnx', inputShape: { batch: 0 } } },
      /key 'model\.inputShape\.batch': found number 0; expected a positive integer dimension size/,
    ],
    [
      'a typo inside model',
      { model: { onnx: 'a.onnx', inputshape: {} } },
      /unknown key 'inputshape' \(did you mean 'inputShape'\?\) in 'model'/,
    ],
    [
      'a budget without a number',
      { model: { cell: CELL }, budget: 'fast' },
      /key 'budget': 'fast' is not a latency; expected a positive latency such as 5ms/,
    ],
    [
      'a budget as a number',
      { model: { cell: CELL }, budget: 5 },
      /key 'budget': found number 5; expected a latency budget string such as "5ms"/,
    ],
    [
      'a threshold as a string',
      { model: { cell: CELL }, thresholds: { latencyPercent: '5' } },
      /key 'thresholds\.latencyPercent': found string "5"; expected a percentage in \(0, 100\)/,
    ],
    [
      'a negative threshold',
      { model: { cell: CELL }, thresholds: { taskScorePoints: -1 } },
      /key 'thresholds\.taskScorePoints': found number -1; expected a task-score difference in \[0, 1\)/,
    ],
    [
      'a typo inside thresholds',
      { model: { cell: CELL }, thresholds: { latency: 5 } },
      /unknown key 'latency' in 'thresholds'; accepted keys: 'latencyPercent', 'taskScorePoints'/,
    ],
  ])('rejects %s with a precise message', (_name, value, message) => {
    expect(() => parse(value)).toThrow(UsageError);
    expect(() => parse(value)).toThrow(message);
  });

  it('says which file is missing in the working tree', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'simnas-review-config-'));
    expect(() => readConfigFile(dir, 'simnas.json')).toThrow(/simnas\.json: no such config file in/);
  });
});

describe('review config at a git ref', () => {
  it('returns undefined for a config new in the head, and the committed one otherwise', async () => {
    const { dir, git } = gitRepo();
    writeFileSync(path.join(dir, 'README.md'), 'base\n');
    git('add', 'README.md');
    git('commit', '-q', '-m', 'base');
    git('checkout', '-q', '-b', 'feature');
    writeFileSync(
      path.join(dir, 'simnas.json'),
      JSON.stringify({ dataset: 'cifar100', model: { cell: CELL } }),
    );
    git('add', 'simnas.json');
    git('commit', '-q', '-m', 'add config');

    await expect(readConfigAtRef(dir, 'main', 'simnas.json')).resolves.toBeUndefined();
    const atFeature = await readConfigAtRef(dir, 'feature', 'simnas.json');
    expect(atFeature?.dataset).toBe('cifar100');
    expect(atFeature?.origin).toEqual({ kind: 'ref', repoDir: dir, ref: 'feature' });
  });

  it('names the ref in validation messages and rejects unknown refs with git’s message', async () => {
    const { dir, git } = gitRepo();
    writeFileSync(path.join(dir, 'simnas.json'), JSON.stringify({ model: { cell: CELL }, dataset: 'mnist' }));
    git('add', 'simnas.json');
    git('commit', '-q', '-m', 'bad config');
    await expect(readConfigAtRef(dir, 'main', 'simnas.json')).rejects.toThrow(
      /^simnas\.json at main: key 'dataset': found string "mnist"/,
    );
    // The hint names the missing ref (it may be the head), not "the base branch".
    await expect(readConfigAtRef(dir, 'no-such-branch', 'simnas.json')).rejects.toThrow(
      /git ref 'no-such-branch' is not a commit in .*; check the name, and that 'no-such-branch' is fetched/,
    );
    await expect(readConfigAtRef(dir, '--upload-pack=x', 'simnas.json')).rejects.toThrow(/invalid git ref/);
    await expect(readConfigAtRef(dir, 'main', '../outside.json')).rejects.toThrow(
      /cannot read '\.\.\/outside\.json' at main in .*: fatal: .*outside repository/,
    );
  });

  it('reads model files at the config’s ref, never from the working tree', async () => {
    const { dir, git } = gitRepo();
    mkdirSync(path.join(dir, 'models'));
    writeFileSync(path.join(dir, 'models', 'net.onnx'), Buffer.from([1, 2, 3]));
    writeFileSync(path.join(dir, 'simnas.json'), JSON.stringify({ model: { onnx: 'models/net.onnx' } }));
    git('add', '.');
    git('commit', '-q', '-m', 'model');
    writeFileSync(path.join(dir, 'models', 'net.onnx'), Buffer.from([9, 9, 9, 9]));

    const base = await readConfigAtRef(dir, 'main', 'simnas.json');
    expect(base?.model.kind).toBe('onnx');
    expect([...(await readModelFile(base!.origin, 'models/net.onnx'))]).toEqual([1, 2, 3]);
    expect([...(await readModelFile({ kind: 'working-tree', repoDir: dir }, 'models/net.onnx'))]).toEqual([
      9, 9, 9, 9,
    ]);
    await expect(readModelFile(base!.origin, 'models/other.onnx')).rejects.toThrow(
      "'models/other.onnx' does not exist at main",
    );
  });

  it('resolves paths relative to a subfolder of the repository', async () => {
    const { dir, git } = gitRepo();
    mkdirSync(path.join(dir, 'ml'));
    writeFileSync(path.join(dir, 'ml', 'simnas.json'), JSON.stringify({ model: { cell: CELL } }));
    git('add', '.');
    git('commit', '-q', '-m', 'nested');
    const config = await readConfigAtRef(path.join(dir, 'ml'), 'main', 'simnas.json');
    expect(config?.model.kind).toBe('architecture');
  });
});
