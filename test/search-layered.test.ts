// The search job in a space whose task scores are computed on demand and whose architectures have
// no integer codes (FBNet): measured live on this machine with onnxruntime-node, scored with the
// real NASWOT scorer (a smaller reference sample), searched by evolution, verified and reported
// like NB201's; and what it refuses before measuring anything.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { DEFAULT_MEASURE_OPTIONS } from '../src/hardware/measure.js';
import { runSearch, type SearchJobOptions, type SearchResult } from '../src/pipeline/index.js';
import { fastestArchitecture, spreadArchitectures } from '../src/pipeline/search-architectures.js';
import { createTaskScorer, type TaskScorer } from '../src/proxies/task-scorer.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { toReport } from '../src/report/schema.js';
import { spaceById } from '../src/spaces/index.js';
import { numberingOf } from '../src/spaces/numbering.js';
import { silentLogger } from '../src/util/log.js';
import { Random } from '../src/util/random.js';

const fbnet = spaceById('fbnet');

/** A short protocol: the test checks the flow, not the latencies' precision. */
const QUICK = { ...DEFAULT_MEASURE_OPTIONS, warmupRuns: 2, rounds: 4, minVisitMs: 0, maxRemeasures: 0 };

let scorer: TaskScorer;
const options = (extra: Partial<SearchJobOptions> = {}): SearchJobOptions => ({
  space: fbnet,
  dataset: 'cifar100',
  samples: 10,
  verify: 3,
  strategy: 'auto',
  device: { kind: 'live', measure: QUICK },
  seed: 0,
  evaluations: 24,
  taskScorer: scorer,
  ...extra,
});

beforeAll(async () => {
  scorer = await createTaskScorer(fbnet, { dataset: 'cifar100', cacheDir: null, referenceSize: 4 });
}, 120_000);

describe('architecture numbers', () => {
  it('number a space without codes as met, and an enumerable one by its codes', () => {
    const numbering = numberingOf(fbnet);
    const random = new Random(3);
    const [a, b] = [fbnet.sample(random), fbnet.sample(random)];
    expect([numbering.numberOf(a), numbering.numberOf(b), numbering.numberOf([...a])]).toEqual([0, 1, 0]);
    expect(numbering.size).toBe(2);
    expect(numbering.architectureOf(1)).toEqual(b);
    expect(() => numbering.architectureOf(2)).toThrow(/never given out/);
    const nb201 = numberingOf(spaceById('nb201'));
    expect(nb201.size).toBe(15_625);
    expect(nb201.numberOf(nb201.architectureOf(1234))).toBe(1234);
  });

  it("spread the knee's pilot from the fastest architecture to random ones", () => {
    const numbering = numberingOf(fbnet);
    // A stand-in model whose latency is the sum of choice indices: the fastest is all choice 0.
    const model = {
      predict: (a: readonly number[]) => ({ meanMs: 1 + a.reduce((s, c) => s + c, 0), stdMs: 0.1 }),
    } as unknown as Parameters<typeof fastestArchitecture>[1];
    const fastest = fastestArchitecture(numbering, model);
    expect(fastest).toEqual(new Array(22).fill(0));
    const pilot = spreadArchitectures(numbering, fastest, 16, new Random(1));
    const changed = pilot.map((a) => a.filter((c) => c !== 0).length);
    // From nearly the fastest to nearly uniform random (8 of 9 choices differ from 0).
    expect(Math.min(...changed)).toBeLessThanOrEqual(3);
    expect(Math.max(...changed)).toBeGreaterThanOrEqual(15);
  });
});

describe('search --space fbnet on this machine', () => {
  let result: SearchResult;
  let outDir: string;
  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'simnas-fbnet-search-'));
    result = await runSearch(options({ outDir }), silentLogger);
  }, 300_000);

  it('measures 10 samples, finds a knee target, and verifies what the controller found', () => {
    expect(result.space).toBe('fbnet');
    // auto: the controller bundled for FBNet CIFAR-100, which the report names.
    expect(result.strategy).toBe('controller');
    expect(result.controller).toMatchObject({ path: 'controllers/fbnet-cifar100.json', bundled: true });
    expect(result.budget.source).toBe('knee');
    expect(result.budget.ms).toBeGreaterThan(0);
    expect(result.measurements.samples).toBe(10);
    // None when no scored architecture could beat the best sample already certified.
    expect(result.measurements.verification).toBeLessThanOrEqual(3);
    expect(result.verified.filter((cell) => cell.source === 'verification')).toHaveLength(
      result.measurements.verification,
    );
    // The samples' scores, the pilot and the strategy: no more than the evaluations allowed.
    expect(result.cellsEvaluated).toBeGreaterThan(10);
    expect(result.cellsEvaluated).toBeLessThanOrEqual(10 + 24);
    expect(result.settings.evaluations).toBe(24);
    for (const cell of [...result.samples, ...result.verified, ...result.front]) {
      expect(fbnet.format(fbnet.parse(cell.cell))).toBe(cell.cell);
    }
    for (const sample of result.samples) expect(sample.taskScore).toBeGreaterThanOrEqual(0);
    expect(existsSync(path.join(outDir, 'samples.json'))).toBe(true);
    expect(existsSync(path.join(outDir, 'verified.json'))).toBe(true);
  });

  it('recommends a verified architecture in the form HW-NAS-Bench trains, beside FBNet-A/B/C', () => {
    const rec = result.recommendation;
    expect(result.verified.map((cell) => cell.cell)).toContain(rec.cell);
    expect(rec.publicForm?.config.op_idx_list).toEqual(fbnet.parse(rec.cell));
    expect(rec.publicForm?.config.num_classes).toBe(100);
    expect(result.references?.map((r) => r.name)).toEqual(fbnet.references.map((r) => r.name));
    for (const reference of result.references ?? []) {
      expect(reference.measuredMs).toBeGreaterThan(0);
      expect(reference.taskScore).toBeGreaterThanOrEqual(0);
      expect(reference.taskScore).toBeLessThanOrEqual(1);
    }
    const markdown = renderMarkdown(toReport(result));
    expect(markdown).toContain('| layer | stage | channels | stride |');
    expect(markdown).toContain('FBNet-C');
    expect(markdown).toContain('--space fbnet --dataset cifar100 --strategy controller');
    expect(JSON.parse(readFileSync(path.join(outDir, 'samples.json'), 'utf8')).samples).toHaveLength(10);
  });
});

describe('search --space fbnet refuses', () => {
  it('what it cannot do, before measuring anything', async () => {
    await expect(runSearch(options({ strategy: 'exhaustive' }), silentLogger)).rejects.toThrow(
      /--strategy exhaustive cannot search the fbnet space: its task scores are computed on demand.*expected auto or one of controller, controller-untrained, evolution, local, random/,
    );
    await expect(
      runSearch(options({ strategy: 'evolution', evaluations: 10 }), silentLogger),
    ).rejects.toThrow(/--evaluations 10 is below what the evolution strategy needs to start/);
    await expect(runSearch(options({ evaluations: 4 }), silentLogger)).rejects.toThrow(
      /--evaluations 4 is below what the controller strategy needs to start \(its first batch of 8 proposals\)/,
    );
    await expect(
      runSearch(options({ dataset: 'imagenet', strategy: 'controller-untrained' }), silentLogger),
    ).rejects.toThrow(/no bundled controller for imagenet in the fbnet space/);
    await expect(
      runSearch(options({ device: { kind: 'table', path: 'x.csv', column: 'c', noise: 0 } }), silentLogger),
    ).rejects.toThrow(/--device table: the fbnet space is searched architecture by architecture/);
  });

  it('a budget below every architecture, after writing the samples it measured', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'simnas-fbnet-refusal-'));
    const run = runSearch(options({ budgetMs: 0.001, outDir }), silentLogger);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/latency budget 0.001 ms is below the fastest cell on this device/);
    expect(existsSync(path.join(outDir, 'samples.json'))).toBe(true);
  }, 120_000);
});
