// Verdict rules on hand-made figures (the interval, not the point estimate, decides latency
// verdicts), severity order, and the Markdown section; plus the bootstrap over rounds.
import { describe, expect, it } from 'vitest';

import { bootstrapRounds, medianInPlace } from '../src/review/ab-timing.js';
import { DEFAULT_THRESHOLDS } from '../src/review/config.js';
import {
  REGRESSION_VERDICTS,
  decideVerdicts,
  regressionMessage,
  renderReviewMarkdown,
  type LatencyRatio,
  type Review,
  type SideFacts,
  type VerdictInput,
} from '../src/review/verdict.js';
import { Random } from '../src/util/random.js';
import { median } from '../src/util/stats.js';

const CELL_A =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const CELL_B = '|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|';

function side(ref: string, latencyMs: number, taskScore?: number, model = CELL_A): SideFacts {
  return {
    ref,
    modelKind: taskScore === undefined ? 'onnx' : 'cell',
    model,
    dataset: 'cifar10',
    latencyMs,
    latencyInterval: { low: latencyMs * 0.98, high: latencyMs * 1.02, confidence: 0.95 },
    ...(taskScore !== undefined ? { taskScore } : {}),
  };
}

const ratio = (value: number, low: number, high: number): LatencyRatio => ({
  value,
  low,
  high,
  confidence: 0.95,
});

function judge(
  overrides: Partial<VerdictInput> & { ratio?: LatencyRatio },
): ReturnType<typeof decideVerdicts> {
  return decideVerdicts({
    base: side('main', 1.0, 0.7),
    head: side('working tree', 1.0, 0.7),
    ratio: ratio(1, 0.98, 1.02),
    thresholds: DEFAULT_THRESHOLDS,
    ...overrides,
  });
}

const kinds = (outcome: ReturnType<typeof decideVerdicts>): string[] => outcome.verdicts.map((v) => v.kind);

describe('verdicts', () => {
  it('calls a change within noise unchanged', () => {
    const outcome = judge({});
    expect(outcome.verdict).toBe('unchanged');
    expect(outcome.taskScoreDelta).toBe(0);
  });

  it('flags a latency regression only when the whole interval is above the threshold', () => {
    // The point estimate is 8% slower, but the interval reaches below +5%: not proven either way.
    const unproven = judge({ ratio: ratio(1.08, 1.03, 1.13) });
    expect(kinds(unproven)).toEqual(['inconclusive']);
    expect(unproven.verdicts[0]!.reason).toMatch(/straddles the ±5% threshold/);
    expect(regressionMessage(unproven)).toBeUndefined();
    const outcome = judge({ ratio: ratio(1.08, 1.06, 1.1) });
    expect(kinds(outcome)).toEqual(['latency-regression']);
    expect(outcome.verdicts[0]!.reason).toMatch(/\+8\.0% \(95% CI \+6\.0% to \+10\.0%\)/);
    expect(REGRESSION_VERDICTS.has(outcome.verdict)).toBe(true);
    expect(regressionMessage(outcome)).toMatch(/^latency-regression: latency \+8\.0%/);
    expect(regressionMessage(judge({}))).toBeUndefined();
  });

  it('calls an interval that reaches across either threshold inconclusive, one inside both unchanged', () => {
    expect(judge({ ratio: ratio(1.0, 0.97, 1.06) }).verdict).toBe('inconclusive');
    expect(judge({ ratio: ratio(0.97, 0.94, 1.0) }).verdict).toBe('inconclusive');
    expect(judge({ ratio: ratio(1.0, 0.951, 1.049) }).verdict).toBe('unchanged');
    // A task-score change is still reported beside an inconclusive latency.
    expect(kinds(judge({ head: side('working tree', 1.0, 0.6), ratio: ratio(1.0, 0.9, 1.1) }))).toEqual([
      'task-score-regression',
      'inconclusive',
    ]);
    expect(kinds(judge({ head: side('working tree', 1.0, 0.8), ratio: ratio(1.0, 0.9, 1.1) }))).toEqual([
      'inconclusive',
      'improvement',
    ]);
  });

  it('calls a proven speed-up or a task-score gain an improvement', () => {
    expect(judge({ ratio: ratio(0.9, 0.96, 0.97) }).verdict).toBe('unchanged');
    expect(judge({ ratio: ratio(0.9, 0.88, 0.93) }).verdict).toBe('improvement');
    const better = judge({ head: side('working tree', 1.0, 0.75) });
    expect(better.verdict).toBe('improvement');
    expect(better.taskScoreDelta).toBeCloseTo(0.05, 12);
    // A better score does not excuse a proven slow-down.
    expect(kinds(judge({ head: side('working tree', 1.2, 0.75), ratio: ratio(1.2, 1.15, 1.25) }))).toEqual([
      'latency-regression',
    ]);
  });

  it('flags a task-score fall beyond the threshold, listing a speed-up too', () => {
    const outcome = judge({ head: side('working tree', 0.8, 0.6), ratio: ratio(0.8, 0.78, 0.82) });
    expect(kinds(outcome)).toEqual(['task-score-regression', 'improvement']);
    expect(outcome.verdict).toBe('task-score-regression');
    expect(judge({ head: side('working tree', 1.0, 0.69) }).verdict).toBe('unchanged');
  });

  it('puts over-budget first and says whether the base was over too', () => {
    const outcome = judge({
      budgetMs: 0.9,
      ratio: ratio(1.2, 1.1, 1.3),
      head: side('working tree', 1.2, 0.7),
    });
    expect(kinds(outcome)).toEqual(['over-budget', 'latency-regression']);
    expect(outcome.verdicts[0]!.reason).toMatch(/over the 0\.900 ms budget \(the base was over it too\)/);
    // The head's interval reaches below the budget: not over.
    expect(judge({ budgetMs: 0.99 }).verdict).toBe('unchanged');
  });

  it('flags a head the recommended cell beats on both latency and task score', () => {
    const recommended = { cell: CELL_B, latencyMs: 0.5, taskScore: 0.8 };
    const outcome = judge({ recommended });
    expect(kinds(outcome)).toEqual(['dominated', 'unchanged']);
    expect(judge({ recommended: { ...recommended, taskScore: 0.71 } }).verdict).toBe('unchanged');
    expect(judge({ recommended: { ...recommended, latencyMs: 0.97 } }).verdict).toBe('unchanged');
    // Plain ONNX heads have no task score, so they cannot be dominated.
    expect(judge({ head: side('working tree', 1.0), base: side('main', 1.0), recommended }).verdict).toBe(
      'unchanged',
    );
  });

  it('says the config is new when there is no base', () => {
    const outcome = decideVerdicts({
      head: side('working tree', 1.0, 0.7),
      baseMissing: 'simnas.json does not exist at main: the config is new in this pull request',
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(outcome.verdict).toBe('new');
    expect(outcome.verdicts[0]!.reason).toMatch(/new in this pull request/);
    expect(outcome.taskScoreDelta).toBeUndefined();
  });

  it('does not compare task scores across datasets', () => {
    const outcome = judge({ head: { ...side('working tree', 1.0, 0.4), dataset: 'cifar100' } });
    expect(outcome.taskScoreDelta).toBeUndefined();
    expect(outcome.verdict).toBe('unchanged');
  });
});

describe('review Markdown', () => {
  it('renders the section with escaped cell strings, the ratio and one line per verdict', () => {
    const base = side('0123456789abcdef0123456789abcdef01234567', 1.0, 0.7, CELL_A);
    const head = side('working tree', 1.25, 0.6, CELL_B);
    const latencyRatio = ratio(1.25, 1.2, 1.3);
    const outcome = decideVerdicts({ base, head, ratio: latencyRatio, thresholds: DEFAULT_THRESHOLDS });
    const review: Review = {
      schema: 'simnas-review',
      schemaVersion: 1,
      configPath: 'simnas.json',
      baseRef: 'main',
      headRef: 'working tree',
      base,
      head,
      latencyRatio,
      thresholds: DEFAULT_THRESHOLDS,
      notes: ['a note'],
      timing: {
        protocol: {
          onnxruntimeVersion: '1.30.0',
          provider: 'cpu',
          threads: 1,
          seed: 0,
          warmupRuns: 5,
          rounds: 40,
          order: 'interleaved',
          statistic: 'median',
          interval: 'seeded percentile bootstrap over whole rounds, 95%',
          resamples: 2000,
          loadAverage: [0, 0],
        },
        wallMs: 2000,
      },
      ...outcome,
    };
    const markdown = renderReviewMarkdown(review);
    expect(markdown.startsWith('### This pull request\n')).toBe(true);
    expect(markdown).toContain('**Verdict: 🔺 latency regression**');
    expect(markdown).toContain('| Base (`0123456`) | cell `');
    expect(markdown).toContain('`\\|skip_connect~0\\|+\\|none~0\\|');
    expect(markdown).toContain('| Change | | ×1.250 (95% CI ×1.200 to ×1.300) | −0.100 |');
    expect(markdown).toMatch(/- \*\*🔻 task-score regression\*\*: task score fell by 0\.100/);
    expect(markdown).toContain('- note: a note');
    // Every table row has the same number of unescaped pipes as the header.
    const rows = markdown.split('\n').filter((line) => line.startsWith('|'));
    const columns = (line: string): number => line.replaceAll('\\|', '').split('|').length;
    for (const line of rows) expect(columns(line)).toBe(columns(rows[0]!));
  });
});

describe('bootstrap over rounds', () => {
  it('covers the true ratio and is reproducible under a seed', () => {
    const random = new Random(3);
    const rounds = 30;
    // Base ~1 ms, head ~1.2 ms with shared per-round drift and independent run noise.
    const times = [[], []] as number[][][];
    for (let round = 0; round < rounds; round++) {
      const drift = 1 + 0.1 * random.normal();
      times[0]!.push(Array.from({ length: 5 }, () => drift * (1 + 0.02 * random.normal())));
      times[1]!.push(Array.from({ length: 5 }, () => 1.2 * drift * (1 + 0.02 * random.normal())));
    }
    const first = bootstrapRounds(times, 1000, 0.95, new Random(7));
    const again = bootstrapRounds(times, 1000, 0.95, new Random(7));
    expect(again).toEqual(first);
    expect(first.ratio!.low).toBeLessThan(1.2);
    expect(first.ratio!.high).toBeGreaterThan(1.2);
    expect(first.ratio!.high - first.ratio!.low).toBeLessThan(0.15);
    expect(first.medians[0]!.low).toBeLessThan(first.medians[0]!.high);
  });

  it('takes medians by quickselect that agree with sorting, ties and even lengths included', () => {
    const random = new Random(11);
    for (let trial = 0; trial < 500; trial++) {
      const values = Float64Array.from(
        { length: 1 + random.int(40) },
        () => random.int(6) + (trial % 2) * random.next(),
      );
      expect(medianInPlace(Float64Array.from(values))).toBeCloseTo(median(values), 12);
    }
    expect(medianInPlace(new Float64Array())).toBeNaN();
  });
});
