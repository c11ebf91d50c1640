// The review end to end with real onnxruntime-node sessions, in throwaway git repositories:
// head faster, slower and equal; a cell against itself stays `unchanged`; an ONNX model with
// extra convolutions is a latency regression (its base read from git, not the working tree);
// a config new in the pull request; models onnxruntime cannot load; the CLI's exit codes.
// Runs are short (a few hundred ms of timing each) to keep the file fast on a busy machine.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import onnxProto from 'onnx-proto';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { FIXTURES, reviewModel } from '../scripts/make-fixtures.js';
import { runCli } from '../src/cli/program.js';
import { UsageError } from '../src/errors.js';
import { Graph, toModelProto } from '../src/onnx/graph.js';
import { prepareModel, releaseModel, timeAB, type AbTimingOptions } from '../src/review/ab-timing.js';
import { DEFAULT_THRESHOLDS } from '../src/review/config.js';
import { WORKING_TREE, proxyTaskScore, reviewPullRequest, type ReviewOptions } from '../src/review/review.js';
import { decideVerdicts, renderReviewMarkdown, type SideFacts } from '../src/review/verdict.js';
import { spaceById, type Architecture, type SearchSpace } from '../src/spaces/index.js';
import { parseCell } from '../src/spaces/nb201/cell.js';
import { silentLogger } from '../src/util/log.js';
import { capture } from './support/capture.js';

const SKIP =
  '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';
const CONV =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const DATASET = 'ImageNet16-120';
const SHORT: Partial<AbTimingOptions> = { targetMs: 300, resamples: 500, warmupRuns: 3 };

afterEach(() => {
  vi.restoreAllMocks();
});

interface Repo {
  readonly dir: string;
  git(...args: string[]): string;
  write(file: string, content: string | Uint8Array): void;
  commit(message: string): void;
}

function gitRepo(): Repo {
  const dir = mkdtempSync(path.join(tmpdir(), 'simnas-review-'));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-C', dir, ...args], {
      encoding: 'utf8',
    });
  git('init', '-q', '-b', 'main');
  return {
    dir,
    git,
    write: (file, content) => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    },
    commit: (message) => {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
    },
  };
}

const cellConfig = (cell: string, extra: object = {}): string =>
  JSON.stringify({ dataset: DATASET, model: { cell }, ...extra });

/** A task score that is a plain function of the cell, so verdicts on it are predictable. */
const convShare = async (_space: SearchSpace, cell: Architecture): Promise<number> =>
  cell.filter((op) => op === 3).length / 6;

function options(repo: Repo, overrides: Partial<ReviewOptions> = {}): ReviewOptions {
  return {
    repoDir: repo.dir,
    baseRef: 'main',
    headRef: WORKING_TREE,
    configPath: 'simnas.json',
    seed: 1,
    threads: 1,
    provider: 'cpu',
    timing: SHORT,
    ...overrides,
  };
}

/** The review's ONNX model fixture: the NB201 network of the all-skip cell, symbolic N, height, width. */
const skipCellModel = (): Buffer => readFileSync(path.join(FIXTURES, 'models', 'skip-cell.onnx'));

describe('review of NB201 cells', () => {
  it('calls a cheaper head an improvement, a costlier one a regression, the same cell unchanged', async () => {
    const repo = gitRepo();
    repo.write('simnas.json', cellConfig(CONV));
    repo.commit('base: conv cell');
    repo.git('tag', 'conv');

    repo.write('simnas.json', cellConfig(SKIP));
    const faster = await reviewPullRequest(options(repo, { taskScore: convShare }), silentLogger);
    expect(faster.latencyRatio!.high).toBeLessThan(0.95);
    expect(faster.verdicts.map((v) => v.kind)).toEqual(['task-score-regression', 'improvement']);
    expect(faster.taskScoreDelta).toBeCloseTo(-1, 12);
    expect(faster.base?.model).toBe(CONV);
    expect(faster.head.model).toBe(SKIP);

    repo.commit('skip cell');
    repo.write('simnas.json', cellConfig(CONV));
    const slower = await reviewPullRequest(options(repo, { baseRef: 'HEAD' }), silentLogger);
    expect(slower.latencyRatio!.low).toBeGreaterThan(1.05);
    expect(slower.verdict).toBe('latency-regression');
    expect(slower.head.latencyMs).toBeGreaterThan(slower.base!.latencyMs);

    const same = await reviewPullRequest(
      options(repo, { baseRef: 'conv', headRef: WORKING_TREE, taskScore: convShare }),
      silentLogger,
    );
    expect(same.base?.model).toBe(CONV);
    // Unchanged when the interval lies within ±5%; a noisy run whose interval reaches past it is
    // inconclusive, never a regression or an improvement.
    const within = same.latencyRatio!.low >= 0.95 && same.latencyRatio!.high <= 1.05;
    expect(same.verdict).toBe(within ? 'unchanged' : 'inconclusive');
    expect(same.taskScoreDelta).toBe(0);
    const markdown = renderReviewMarkdown(same);
    expect(markdown).toMatch(/^### This pull request\n/);
    expect(markdown).toContain(within ? '**Verdict: ➖ unchanged**' : '**Verdict: ❔ inconclusive**');
  }, 60_000);

  it('never calls a cell compared with itself changed in at least 19 of 20 short runs', async () => {
    const cell = parseCell(SKIP);
    const source = {
      kind: 'architecture',
      label: SKIP,
      space: spaceById('nb201'),
      architecture: cell,
      dataset: DATASET,
    } as const;
    const base = await prepareModel(source, SHORT);
    const head = await prepareModel(source, SHORT);
    try {
      const facts = (
        ref: string,
        timing: { medianMs: number; medianInterval: SideFacts['latencyInterval'] },
      ) => ({
        ref,
        modelKind: 'cell' as const,
        model: SKIP,
        dataset: DATASET,
        latencyMs: timing.medianMs,
        latencyInterval: timing.medianInterval,
      });
      const verdicts: string[] = [];
      /** Shown if the expectation fails: the figures behind each verdict. */
      const ratios: string[] = [];
      for (let seed = 0; seed < 20; seed++) {
        const timing = await timeAB(base, head, { ...SHORT, seed });
        ratios.push(
          `${timing.ratio.toFixed(3)}[${timing.ratioInterval.low.toFixed(3)},${timing.ratioInterval.high.toFixed(3)}]${timing.protocol.rounds}x${timing.base.runsPerVisit}/${timing.base.medianMs.toFixed(3)}`,
        );
        verdicts.push(
          decideVerdicts({
            base: facts('base', timing.base),
            head: facts('head', timing.head),
            ratio: { value: timing.ratio, ...timing.ratioInterval },
            thresholds: DEFAULT_THRESHOLDS,
          }).verdict,
        );
      }
      // No false alarm: unchanged, or inconclusive when a short run's interval is wide.
      expect(
        verdicts.filter((verdict) => verdict === 'unchanged' || verdict === 'inconclusive').length,
        ratios.join(' '),
      ).toBeGreaterThanOrEqual(19);
    } finally {
      await Promise.all([releaseModel(base), releaseModel(head)]);
    }
  }, 60_000);

  it('says so when the config is new in the pull request, and still measures the head', async () => {
    const repo = gitRepo();
    repo.write('README.md', 'no config yet\n');
    repo.commit('base');
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('simnas.json', cellConfig(SKIP, { budget: '1000ms' }));
    repo.commit('add config');
    const review = await reviewPullRequest(options(repo, { headRef: 'feature' }), silentLogger);
    expect(review.verdict).toBe('new');
    expect(review.baseMissing).toBe(
      'simnas.json does not exist at main: the config is new in this pull request',
    );
    expect(review.base).toBeUndefined();
    expect(review.latencyRatio).toBeUndefined();
    expect(review.head.latencyMs).toBeGreaterThan(0);
    expect(review.budgetMs).toBe(1000);
    expect(renderReviewMarkdown(review)).toContain('| Base (`main`) | none | | |');
  }, 60_000);

  it('reviews the head alone when the base config is invalid, and fails on an invalid head config', async () => {
    const repo = gitRepo();
    repo.write('simnas.json', JSON.stringify({ model: { cell: SKIP }, dataset: 'mnist' }));
    repo.commit('broken config');
    repo.write('simnas.json', cellConfig(SKIP));
    const review = await reviewPullRequest(options(repo), silentLogger);
    expect(review.verdict).toBe('new');
    expect(review.baseMissing).toMatch(/the base cannot be measured \(simnas\.json at main: key 'dataset'/);

    repo.write('simnas.json', JSON.stringify({ model: { cell: SKIP }, thresholds: { latencyPct: 3 } }));
    await expect(reviewPullRequest(options(repo), silentLogger)).rejects.toThrow(
      /simnas\.json: unknown key 'latencyPct' in 'thresholds'/,
    );
  }, 60_000);
});

describe('review of FBNet architectures (space in simnas.json)', () => {
  // Every layer a skip (a 1x1 conv where the shape changes) against every layer k5_e6: far fewer MACs.
  const fbnet = spaceById('fbnet');
  const light = fbnet.format(Array<number>(22).fill(fbnet.choices[0]!.indexOf('skip')));
  const heavy = fbnet.format(Array<number>(22).fill(fbnet.choices[0]!.indexOf('k5_e6')));

  it('times two FBNet networks against each other and scores them with the layered task score', async () => {
    const repo = gitRepo();
    const config = (arch: string) => JSON.stringify({ space: 'fbnet', model: { arch } });
    repo.write('simnas.json', config(heavy));
    repo.commit('base: heavy');
    repo.write('simnas.json', config(light));
    const taskScore = proxyTaskScore(silentLogger, {
      cacheDir: mkdtempSync(path.join(tmpdir(), 'simnas-review-cache-')),
    });
    const review = await reviewPullRequest(options(repo, { taskScore }), silentLogger);
    expect(review.base).toMatchObject({ model: heavy, modelKind: 'arch', dataset: 'cifar100' });
    expect(review.head).toMatchObject({ model: light, modelKind: 'arch', dataset: 'cifar100' });
    expect(review.latencyRatio!.high).toBeLessThan(0.95);
    // Every layer a skip is far faster and far worse: 22 layers without a ReLU but the 1x1 convolutions
    // where the shape changes score below every k5_e6 layer.
    expect(review.head.taskScore!).toBeLessThan(review.base!.taskScore! - 0.1);
    expect(review.verdict).toBe('task-score-regression');
    expect(renderReviewMarkdown(review)).toContain(`architecture \`${light}\`, cifar100`);
  }, 120_000);

  it('exits 2 naming the field for a bad FBNet string in simnas.json', async () => {
    const repo = gitRepo();
    repo.write('simnas.json', JSON.stringify({ space: 'fbnet', model: { arch: heavy } }));
    repo.commit('base');
    const stderr = capture(process.stderr);
    repo.write(
      'simnas.json',
      JSON.stringify({ space: 'fbnet', model: { arch: heavy.replace(/k5_e6$/, 'k7_e6') } }),
    );
    expect(await runCli(['node', 'simnas', 'review', '--repo', repo.dir, '--no-task-score'])).toBe(2);
    expect(stderr()).toMatch(
      /simnas: simnas\.json: key 'model\.arch': invalid FBNet architecture: layer 22 is 'k7_e6' \(each of the 22 layers is one of k3_e1,/,
    );
  }, 60_000);
});

describe('review of ONNX models', () => {
  it('flags a model made slower by extra convolutions, reading the base model from git', async () => {
    const repo = gitRepo();
    const config = JSON.stringify({
      dataset: DATASET,
      model: { onnx: 'models/net.onnx', inputShape: { height: 16, width: 16 } },
    });
    repo.write('simnas.json', config);
    repo.write('models/net.onnx', skipCellModel());
    repo.commit('base model');
    repo.write('models/net.onnx', reviewModel(SKIP, 6));

    const review = await reviewPullRequest(options(repo, { taskScore: convShare }), silentLogger);
    expect(review.verdict).toBe('latency-regression');
    expect(review.latencyRatio!.low).toBeGreaterThan(1.05);
    expect(review.head.modelKind).toBe('onnx');
    expect(review.head.taskScore).toBeUndefined();
    expect(review.taskScoreDelta).toBeUndefined();
    expect(renderReviewMarkdown(review)).toContain('n/a (ONNX)');
  }, 60_000);

  it('fixes dynamic dimensions from inputShape and lists those it cannot fix', async () => {
    const bytes = skipCellModel();
    const prepared = await prepareModel(
      { kind: 'onnx', label: 'net.onnx', bytes, inputShape: { height: 16, '3': 16, unused: 2 } },
      SHORT,
    );
    try {
      expect(prepared.inputs).toEqual([
        { name: 'images', type: 'float32', shape: [1, 3, 16, 16], values: 'seeded N(0, 1)' },
      ]);
      expect(prepared.unusedShapeKeys).toEqual(['unused']);
    } finally {
      await releaseModel(prepared);
    }
    await expect(
      prepareModel({ kind: 'onnx', label: 'net.onnx', bytes, inputShape: { width: 16 } }, SHORT),
    ).rejects.toThrow(
      /'net\.onnx' has dynamic dimensions that need a size: input 'images' dimension 2 \('height'\); set them in the config under model\.inputShape/,
    );
  });

  it('rejects input sizes the model cannot run with, saying what it was fed', async () => {
    // x[N, length] reshaped to [2, 3]: runs only with length 6 (batch 1).
    const graph = new Graph('reshape');
    const x = graph.addInput('x', [1, 1]);
    const shape = graph.addInitializer('shape', [2], BigInt64Array.from([2n, 3n]));
    graph.addOutput(graph.add('Reshape', [x, shape], { name: 'reshape' }), [2, 3]);
    const proto = toModelProto(graph);
    const { Dimension } = onnxProto.onnx.TensorShapeProto;
    proto.graph!.input![0]!.type!.tensorType!.shape!.dim = [
      Dimension.create({ dimParam: 'N' }),
      Dimension.create({ dimParam: 'length' }),
    ];
    const bytes = onnxProto.onnx.ModelProto.encode(proto).finish();
    const fits = await prepareModel({
      kind: 'onnx',
      label: 'reshape.onnx',
      bytes,
      inputShape: { length: 6 },
    });
    await releaseModel(fits);
    await expect(
      prepareModel({ kind: 'onnx', label: 'reshape.onnx', bytes, inputShape: { length: 5 } }),
    ).rejects.toThrow(
      /^'reshape\.onnx' loads but does not run on inputs x float32\[1x5\]: .*; check model\.inputShape in the config$/s,
    );
  });

  it('rejects a file that is not an ONNX model, naming it and quoting onnxruntime', async () => {
    const repo = gitRepo();
    repo.write('simnas.json', JSON.stringify({ model: { onnx: 'model.onnx' } }));
    repo.write('model.onnx', 'this is not a model\n');
    repo.commit('not a model');
    const review = reviewPullRequest(options(repo), silentLogger);
    await expect(review).rejects.toThrow(UsageError);
    await expect(reviewPullRequest(options(repo), silentLogger)).rejects.toThrow(
      /^'model\.onnx' is not an ONNX model onnxruntime can load: .*protobuf parsing failed/,
    );
  });
});

describe('simnas review', () => {
  it('prints the section, and exits 2 with the message for a bad config', async () => {
    const repo = gitRepo();
    repo.write('simnas.json', cellConfig(SKIP));
    repo.commit('base');
    const stdout = capture(process.stdout);
    const stderr = capture(process.stderr);
    const code = await runCli(['node', 'simnas', 'review', '--repo', repo.dir, '--no-task-score', '--json']);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout()) as { verdict: string; head: { model: string } };
    expect(printed.head.model).toBe(SKIP);
    expect(['unchanged', 'inconclusive', 'improvement', 'latency-regression']).toContain(printed.verdict);

    repo.write('simnas.json', JSON.stringify({ model: { cell: SKIP.replace('~2', '~1') } }));
    expect(await runCli(['node', 'simnas', 'review', '--repo', repo.dir, '--no-task-score'])).toBe(2);
    expect(stderr()).toMatch(
      /simnas: simnas\.json: key 'model\.cell': invalid cell .*edge 3<-2: source node '1' found/,
    );
  }, 60_000);
});
