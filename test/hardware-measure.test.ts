// Live measurement with onnxruntime-node: robust statistics, option ranges, the interleaved
// protocol on real networks (re-measuring noisy cells, time budgets), sample cells and the main job.
import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import {
  DEFAULT_MEASURE_OPTIONS,
  MIN_ROUNDS,
  driftOf,
  measureCells,
  remeasureRounds,
  resolveExecutionProvider,
  robustCv,
  runsPerVisitFor,
  validateMeasureOptions,
  type MeasureOptions,
  type VisitEvent,
} from '../src/hardware/measure.js';
import { availableExecutionProviders } from '../src/hardware/fingerprint.js';
import { defaultSampleCells, randomSampleCells } from '../src/hardware/sample-cells.js';
import { formatCell, isConnected, parseCell } from '../src/spaces/nb201/cell.js';
import { selectCells, runMainJob } from '../src/pipeline/index.js';
import { spaceById } from '../src/spaces/index.js';

const NB201 = spaceById('nb201');
import { silentLogger } from '../src/util/log.js';

const CHEAP = parseCell('|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|');
const MEDIUM = parseCell('|nor_conv_1x1~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|none~2|');
const CONV = parseCell('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|');
const CELLS = [CHEAP, MEDIUM, CONV];

const TINY: MeasureOptions = {
  ...DEFAULT_MEASURE_OPTIONS,
  dataset: 'ImageNet16-120',
  warmupRuns: 2,
  rounds: 4,
  minVisitMs: 0,
  maxRemeasures: 0,
};

/** A clock that advances only at the end of each run, by a scripted duration for the visited cell. */
function scriptedClock(duration: (visit: VisitEvent, run: number) => number) {
  let now = 0;
  let calls = 0;
  let run = 0;
  let current: VisitEvent | undefined;
  const visits: VisitEvent[] = [];
  return {
    visits,
    onVisit: (visit: VisitEvent) => {
      current = visit;
      run = 0;
      visits.push(visit);
    },
    clock: () => {
      calls++;
      if (calls % 2 === 0) now += duration(current!, run++);
      return now;
    },
  };
}

describe('measurement statistics', () => {
  it('computes a robust CV from the MAD', () => {
    expect(robustCv([10, 10, 10, 10])).toBe(0);
    // median 10, absolute deviations [1, 0, 1, 0, 90] -> MAD 1: the outlier is ignored.
    expect(robustCv([9, 10, 11, 10, 100])).toBeCloseTo(0.14826, 5);
    expect(robustCv([5])).toBe(0);
  });

  it('repeats short runs up to the minimum visit time', () => {
    expect(runsPerVisitFor(0.1, 10)).toBe(64);
    expect(runsPerVisitFor(0.5, 10)).toBe(20);
    expect(runsPerVisitFor(3, 10)).toBe(4);
    expect(runsPerVisitFor(30, 10)).toBe(1);
    expect(runsPerVisitFor(1, 0)).toBe(1);
  });
});

describe('measurement options', () => {
  it('resolves providers case-insensitively and lists the available ones otherwise', () => {
    expect(resolveExecutionProvider('CPU')).toBe('cpu');
    expect(() => resolveExecutionProvider('tpu')).toThrow(UsageError);
    expect(() => resolveExecutionProvider('tpu')).toThrow(/available: cpu/);
  });

  it('rejects settings outside their ranges with the accepted range', () => {
    expect(() => validateMeasureOptions({ ...TINY, rounds: 2 })).toThrow(
      /rounds must be an integer in 3\.\./,
    );
    expect(() => validateMeasureOptions({ ...TINY, threads: 0 })).toThrow(UsageError);
    expect(() => validateMeasureOptions({ ...TINY, batchSize: 1.5 })).toThrow(/batch size/);
    expect(() => validateMeasureOptions({ ...TINY, timeBudgetMs: 0 })).toThrow(/time budget/);
  });
});

describe('measurement protocol on real networks', () => {
  it('measures 3 cells in interleaved rounds with the configured counts', async () => {
    const visits: VisitEvent[] = [];
    const result = await measureCells(CELLS, TINY, {
      space: NB201,
      onVisit: (visit) => visits.push(visit),
      logger: silentLogger,
      interactiveProgress: false,
    });
    expect(result.cells.map((cell) => cell.cell)).toEqual(CELLS.map(formatCell));
    for (const cell of result.cells) {
      expect(Number.isFinite(cell.medianMs)).toBe(true);
      expect(cell.medianMs).toBeGreaterThan(0);
      expect(cell.p90Ms).toBeGreaterThanOrEqual(cell.medianMs);
      expect(cell.minMs).toBeLessThanOrEqual(cell.medianMs);
      expect(cell.runsPerVisit).toBe(1);
      expect(cell.runs).toBe(TINY.rounds);
      expect(cell.attempts).toBe(1);
      expect(cell.sessionMs).toBeGreaterThan(0);
    }
    // The all-skip network is the backbone alone; two 3x3 convs per cell cost visibly more.
    expect(result.cells[2]!.medianMs).toBeGreaterThan(result.cells[0]!.medianMs);
    expect(result.protocol.roundsCompleted).toBe(TINY.rounds);
    expect(result.protocol.timedRuns).toBe(TINY.rounds * CELLS.length);
    expect(result.protocol.warmupRunsTotal).toBe(TINY.warmupRuns * CELLS.length);
    expect(result.protocol.onnxruntimeVersion).toMatch(/^\d+\.\d+/);
    expect(result.protocol.sessionOptions).toMatchObject({
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
    });

    const warmups = visits.filter((visit) => visit.phase === 'warmup');
    expect(warmups).toHaveLength(TINY.warmupRuns * CELLS.length);
    const timed = visits.filter((visit) => visit.phase === 'timed');
    expect(timed).toHaveLength(TINY.rounds * CELLS.length);
    // Interleaved: round r holds every cell exactly once and ends before round r + 1 starts.
    for (let round = 0; round < TINY.rounds; round++) {
      const block = timed.slice(round * CELLS.length, (round + 1) * CELLS.length);
      expect(block.every((visit) => visit.round === round)).toBe(true);
      expect(block.map((visit) => visit.cellIndex).sort()).toEqual([0, 1, 2]);
    }
  });

  it('re-measures noisy cells and flags those that stay noisy', async () => {
    const script = scriptedClock((visit, run) => {
      if (visit.phase === 'warmup') return 1;
      if (visit.cellIndex === 0) return 1 + 0.001 * visit.round;
      if (visit.cellIndex === 1) return visit.round % 2 === 0 ? 1 : 3; // noisy in every attempt
      return visit.attempt === 0 ? (visit.round % 2 === 0 ? 2 : 5) : 2 + 0.001 * run; // calms down
    });
    const result = await measureCells(
      CELLS,
      { ...TINY, rounds: 8, maxRemeasures: 2, noisyError: 0.1 },
      { space: NB201, clock: script.clock, onVisit: script.onVisit, logger: silentLogger },
    );
    const [steady, noisy, recovered] = result.cells;
    expect(steady).toMatchObject({ attempts: 1, noisy: false });
    expect(steady!.medianMs).toBeCloseTo(1.0035, 6);
    expect(steady!.runs).toBe(8);
    // Re-measures run half as many rounds as the first measurement, and their runs join the pool.
    expect(recovered!.runs).toBe(8 + remeasureRounds(8));
    expect(noisy!.runs).toBe(8 + 2 * remeasureRounds(8));
    expect(remeasureRounds(8)).toBe(4);
    expect(noisy).toMatchObject({ attempts: 3, noisy: true });
    expect(noisy!.cv).toBeGreaterThan(0.1);
    expect(recovered).toMatchObject({ attempts: 2, noisy: false, medianMs: 2, cv: 0 });
    expect(result.protocol.remeasureAttempts).toBe(2);
    expect(result.protocol.clock).toBe('injected');

    const remeasured = (attempt: number): number[] => [
      ...new Set(script.visits.filter((v) => v.attempt === attempt).map((v) => v.cellIndex)),
    ];
    expect(remeasured(1).sort()).toEqual([1, 2]);
    expect(remeasured(2)).toEqual([1]);
  });

  it('re-measures anchors beside new cells and puts the new cells on the earlier scale, either way', async () => {
    // Earlier, the machine was twice as slow as the scripted clock says now: both anchors read 0.5x
    // (MEDIUM, nearest to the new cell's 3 ms, is prepared first: index 1).
    const anchored = async (earlier: readonly [number, number]) => {
      const script = scriptedClock((visit) => (visit.cellIndex === 0 ? 3 : visit.cellIndex === 1 ? 2 : 4));
      return measureCells(
        [CONV],
        { ...TINY, rounds: 50, windowMs: 60 },
        {
          space: NB201,
          clock: script.clock,
          onVisit: script.onVisit,
          anchors: {
            cells: [
              { architecture: MEDIUM, medianMs: earlier[0] },
              { architecture: CHEAP, medianMs: earlier[1] },
              { architecture: CONV, medianMs: 3 }, // the cell being measured is never its own anchor
            ],
            count: 2,
          },
        },
      );
    };
    const faster = await anchored([4, 8]);
    const anchoring = faster.protocol.anchoring!;
    expect(anchoring.anchors.map((a) => a.cell)).toEqual([formatCell(MEDIUM), formatCell(CHEAP)]);
    expect(anchoring.drift).toBeCloseTo(0.5, 9);
    // Put on the earlier, slower scale.
    expect(faster.cells[0]!.medianMs).toBeCloseTo(6, 9);
    // Window: a round of three 1-run visits takes 9 scripted ms, so 60 ms is 7 rounds.
    expect(faster.protocol.roundsCompleted).toBe(7);
    expect(faster.cells[0]!.visits).toBe(7);

    // Slower now than earlier: put on the earlier, faster scale just the same, so that a machine
    // loaded during verification does not decide the verdict.
    const slower = await anchored([1, 2]);
    expect(slower.protocol.anchoring).toMatchObject({ drift: 2 });
    expect(slower.cells[0]!.medianMs).toBeCloseTo(1.5, 9);

    // The drift's error: the anchors' own errors (now and earlier) and their disagreement.
    const agreeing = driftOf([
      { cell: 'a', earlierMs: 1, nowMs: 0.99, error: 0.02 },
      { cell: 'b', earlierMs: 2, nowMs: 1.98, error: 0.02 },
    ]);
    expect(agreeing.drift).toBeCloseTo(0.99, 9);
    expect(agreeing.driftError).toBeCloseTo(0.02, 9);
    const disagreeing = driftOf([
      { cell: 'a', earlierMs: 1, nowMs: 0.9, error: 0.02 },
      { cell: 'b', earlierMs: 2, nowMs: 2.2, error: 0.02 },
    ]);
    expect(disagreeing.driftError).toBeGreaterThan(0.05);
  });

  it('turns a listed provider that cannot start into a UsageError, not a crash', async () => {
    const separate = availableExecutionProviders().find((ep) => !ep.bundled);
    if (!separate) return; // every listed provider is bundled here: nothing to check
    const outcome = await measureCells(
      [CHEAP],
      { ...TINY, rounds: 3, provider: separate.name },
      { space: NB201 },
    ).then(
      (result) => result.protocol.provider,
      (error: unknown) => error,
    );
    // Where its libraries are installed the provider simply works.
    if (typeof outcome === 'string') expect(outcome).toBe(separate.name);
    else {
      expect(outcome).toBeInstanceOf(UsageError);
      expect(String(outcome)).toMatch(/could not start a session.*use --provider cpu/);
    }
  });

  it('stops timing rounds when the time budget is spent, never before the minimum', async () => {
    const result = await measureCells([CHEAP], { ...TINY, rounds: 50, timeBudgetMs: 1 }, { space: NB201 });
    expect(result.protocol.roundsCompleted).toBe(MIN_ROUNDS);
    expect(result.protocol.stoppedByBudget).toBe(true);
    expect(result.cells[0]!.runs).toBe(MIN_ROUNDS);
  });
});

describe('sample cells and the main job', () => {
  it('has 10 distinct connected default cells', () => {
    const cells = defaultSampleCells('cifar10');
    expect(cells).toHaveLength(10);
    expect(new Set(cells.map(formatCell)).size).toBe(10);
    expect(cells.every(isConnected)).toBe(true);
  });

  it('draws random cells reproducibly under a seed', () => {
    const a = randomSampleCells(30, 7).map(formatCell);
    expect(a).toEqual(randomSampleCells(30, 7).map(formatCell));
    expect(new Set(a).size).toBe(30);
    expect(randomSampleCells(30, 8).map(formatCell)).not.toEqual(a);
    expect(() => randomSampleCells(0, 1)).toThrow(UsageError);
  });

  it('selects given, random or default cells, never two sources at once', () => {
    const options = { ...TINY };
    expect(selectCells({ cells: [CHEAP] }, options).source).toBe('given');
    expect(selectCells({ sample: 3 }, options).cells).toHaveLength(3);
    expect(selectCells({}, options).source).toBe('default');
    expect(() => selectCells({ cells: [CHEAP], sample: 3 }, options)).toThrow(UsageError);
  });

  it('runs the main job: fingerprint plus measured cells', async () => {
    const result = await runMainJob(
      {
        cells: [CHEAP, CONV],
        dataset: 'ImageNet16-120',
        rounds: 3,
        warmupRuns: 1,
        minVisitMs: 0,
        interactiveProgress: false,
      },
      silentLogger,
    );
    expect(result.fingerprint.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(result.cellSource).toBe('given');
    expect(result.measurement.cells).toHaveLength(2);
    expect(result.measurement.protocol.dataset).toBe('ImageNet16-120');
    expect(result.measurement.protocol.rounds).toBe(3);
  });
});
