// Verification of the recommendation: the normal CDF, the noise margin a measured cell must clear
// under the budget, and which predicted cells are worth a measurement.
import { describe, expect, it } from 'vitest';

import { recommend, type VerifiedCell } from '../src/search/recommend.js';
import {
  bestCertified,
  certifiedThresholdMs,
  chooseCandidates,
  normalCdf,
} from '../src/search/verification.js';
import { decodeCell, encodeCell, isConnected, parseCell, SPACE_SIZE } from '../src/spaces/nb201/cell.js';
import { nb201Space } from '../src/spaces/nb201/space.js';

const verified = (
  code: number,
  measuredMs: number,
  taskScore: number,
  source: VerifiedCell['source'] = 'verification',
): VerifiedCell => ({
  code,
  cell: `cell ${code}`,
  measuredMs,
  predictedMs: measuredMs,
  predictedStdMs: 0.1,
  taskScore,
  source,
});

describe('normal CDF', () => {
  it('matches known quantiles', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.645)).toBeCloseTo(0.95, 3);
    expect(normalCdf(-1.2816)).toBeCloseTo(0.1, 3);
    expect(normalCdf(-8)).toBeLessThan(1e-6);
  });
});

describe('measurement margin', () => {
  it('shrinks the budget by a factor for the noise, per cell when the noise is per cell', () => {
    expect(certifiedThresholdMs(10, 1, { noise: 0.03, marginZ: 1.645 })).toBeCloseTo(
      10 * Math.exp(-0.04935),
      9,
    );
    const perCell = new Map([[7, 0.1]]);
    expect(certifiedThresholdMs(10, 7, { noise: perCell, marginZ: 1 })).toBeCloseTo(10 * Math.exp(-0.1), 9);
    expect(certifiedThresholdMs(10, 8, { noise: perCell, marginZ: 1 })).toBe(10);
  });

  it('does not certify a cell measured just under the budget, inside the noise margin', () => {
    const cells = [verified(1, 9.9, 0.9), verified(2, 8, 0.5)];
    const exact = recommend(cells, 10);
    expect(exact.code).toBe(1);
    const noisy = recommend(cells, 10, { noise: 0.03, marginZ: 1.645 });
    expect(noisy.code).toBe(2);
    expect(noisy.certified).toBe(true);
    expect(noisy.certifiedBelowMs).toBeLessThan(9.9);
  });

  it('falls back to the fastest verified cell when none clears the margin, and says so', () => {
    const rec = recommend([verified(1, 9.9, 0.9), verified(2, 11, 0.95)], 10, {
      noise: 0.03,
      marginZ: 1.645,
    });
    expect(rec.code).toBe(1);
    expect(rec.certified).toBe(false);
    // Nothing is certified on hope: under the budget but inside the margin is not within budget.
    expect(rec.withinBudget).toBe(false);
    expect(rec.reason).toMatch(
      /^could not certify: measured 9\.90 ms ± 0\.30 ms against 10\.0 ms, inside the noise margin/,
    );
  });

  it('treats cells measured within noise of the fastest as tied, and takes the best task score among them', () => {
    const margin = { noise: 0.03, marginZ: 1.645 };
    // 10.2 ms is within 3% * sqrt(2) of 10.0 ms; 10.6 ms is not.
    const cells = [verified(1, 10.0, 0.5), verified(2, 10.2, 0.8), verified(3, 10.6, 0.9)];
    const rec = recommend(cells, 9.5, margin);
    expect(rec).toMatchObject({ code: 2, certified: false, tied: [cells[0]!.cell] });
    expect(rec.reason).toMatch(
      /this is the best task score among the 2 measured within noise of the fastest/,
    );
    // Whichever of the tied cells read fastest, the pick is the same.
    const swapped = [verified(1, 10.2, 0.5), verified(2, 10.0, 0.8), verified(3, 10.6, 0.9)];
    expect(recommend(swapped, 9.5, margin).code).toBe(2);
    // Without noise nothing is tied.
    expect(recommend(cells, 9.5)).toMatchObject({ code: 1 });
    expect(recommend(cells, 9.5).tied).toBeUndefined();
  });
});

describe('the recommendation among verified cells and a competing sample', () => {
  const sample = (code: number, measuredMs: number, taskScore: number): VerifiedCell =>
    verified(code, measuredMs, taskScore, 'sample');

  it('counts the sample apart from the verified cells, and keeps its source on the pick', () => {
    const cells = [verified(1, 9, 0.8), verified(2, 11, 0.9), verified(3, 12, 0.95), sample(4, 8, 0.5)];
    const rec = recommend(cells, 10);
    expect(rec).toMatchObject({ code: 1, source: 'verification', certified: true });
    expect(rec.reason).toBe(
      'best task score among 1 of 3 verified cells and the best sample measured within the budget',
    );
    // The sample wins when it scores best; the pick says it is a sample.
    const won = recommend([...cells.slice(0, 3), sample(4, 8, 0.85)], 10);
    expect(won).toMatchObject({ code: 4, source: 'sample' });
    expect(won.reason).toMatch(/^best task score among 1 of 3 verified cells and the best sample/);
  });

  it('says so when only the sample fits, or when nothing does', () => {
    const onlySample = recommend([verified(1, 11, 0.9), verified(2, 12, 0.95), sample(3, 8, 0.5)], 10);
    expect(onlySample.code).toBe(3);
    expect(onlySample.reason).toBe(
      'the best sample measured within the budget; none of the 2 verified cells was',
    );
    const none = recommend([verified(1, 11, 0.9), verified(2, 12, 0.95), sample(3, 10.5, 0.5)], 10);
    expect(none).toMatchObject({ code: 3, certified: false });
    expect(none.reason).toMatch(
      /^none of the 2 verified cells nor the fastest sample measured within 10\.0 ms; this is the fastest of them \(measured 10\.5 ms against 10\.0 ms, a sample cell\)$/,
    );
  });
});

describe('the recommendation without a budget', () => {
  const margin = { noise: 0.03, marginZ: 1.645 };

  it('is the knee whenever it is certified, even beside a better-scored certified cell', () => {
    const cells = [verified(7, 8.1, 0.82), verified(1, 7.2, 0.78), verified(2, 8.4, 0.9)];
    const rec = recommend(cells, 10, margin, 7);
    expect(rec).toMatchObject({ code: 7, certified: true });
    expect(rec.reason).toBe(
      'the knee of the predicted front, measured within the target (with a margin of 1.645 sd of measurement noise) (2 other measured cells also were)',
    );
    // Without the knee, or with a knee that missed the target, the best certified cell is taken.
    expect(recommend(cells, 10, margin).code).toBe(2);
    expect(recommend([verified(7, 9.9, 0.82), ...cells.slice(1)], 10, margin, 7).code).toBe(2);
  });
});

describe('choosing cells to verify', () => {
  // Ten cells that compute something, by index 0..9: scores rise with the index, and so does the
  // predicted latency (budget 10 ms). Every other cell is unscored.
  const CODES = Array.from({ length: SPACE_SIZE }, (_, code) => code)
    .filter((code) => isConnected(decodeCell(code)))
    .slice(0, 10);
  const byIndex = (value: (index: number) => number): Float64Array => {
    const array = new Float64Array(SPACE_SIZE).fill(Number.NaN);
    CODES.forEach((code, index) => (array[code] = value(index)));
    return array;
  };
  const scores = byIndex((i) => 0.1 * (i + 1));
  const mean = byIndex((i) => 6 + 0.5 * i);
  const std = byIndex(() => 0.5);
  const base = {
    pool: CODES,
    scores,
    predicted: { mean, std },
    budgetMs: 10,
    margin: { noise: 0, marginZ: 0 },
    expectedNoise: 0,
    usable: (code: number) => nb201Space.isUsable(nb201Space.fromCode(code)),
  };
  /** `chooseCandidates`, answering with indices into CODES. */
  const pick = (choice: Parameters<typeof chooseCandidates>[0]): number[] =>
    chooseCandidates(choice).map((code) => CODES.indexOf(code));

  it('first bets on the best expected improvement, then spreads its other bets over risk levels', () => {
    const chosen = pick({ ...base, count: 3 });
    expect(chosen).toHaveLength(3);
    expect(new Set(chosen).size).toBe(3);
    // Index 9 (mean 10.5) rarely fits, index 0 always does but scores little: neither leads.
    expect(chosen[0]).toBeGreaterThan(3);
    expect(chosen[0]).toBeLessThan(9);
    // Chance that index i passes: its predicted latency 6 + 0.5i (sd 0.5) under the 10 ms budget.
    const pass = (i: number): number => normalCdf((10 - mean[CODES[i]!]!) / std[CODES[i]!]!);
    const first = pass(chosen[0]!);
    // The first bet is likely to pass, so another at its risk level would add little: the second
    // is bolder (less likely to pass, a higher score), which pays when the first passes.
    expect(pass(chosen[1]!)).toBeLessThan(first - 0.3);
    expect(chosen[1]!).toBeGreaterThan(chosen[0]!);
    // Together the picks run from near-certain to a coin flip.
    const passes = chosen.map(pass);
    expect(Math.max(...passes)).toBeGreaterThan(0.9);
    expect(Math.min(...passes)).toBeLessThan(0.6);
    // With bets to spare it also hedges: a cell safer than the first, which pays when that fails.
    const more = pick({ ...base, count: 5 });
    expect(more.slice(0, 3)).toEqual(chosen);
    expect(more.slice(1).some((i) => pass(i) > first)).toBe(true);
  });

  it('skips cells no better than a sample already certified, and stops when none is left', () => {
    const measured = new Map([[CODES[7]!, 9.4]]);
    const chosen = pick({ ...base, count: 5, measured });
    expect(chosen.every((i) => i > 7)).toBe(true);
    expect(chosen.length).toBeLessThanOrEqual(2);
  });

  it('never chooses unscored cells, nor hopeless ones', () => {
    const withUnscored = Float64Array.from(scores);
    withUnscored[CODES[5]!] = Number.NaN;
    const far = Float64Array.from(mean);
    far[CODES[8]!] = 100;
    const chosen = pick({
      ...base,
      scores: withUnscored,
      predicted: { mean: far, std },
      count: 10,
    });
    expect(chosen).not.toContain(5);
    expect(chosen).not.toContain(8);
  });

  it('with a minimum chance of passing, bets on a likelier cell, and ignores it when no cell has it', () => {
    const [bold] = pick({ ...base, count: 1 });
    const [likely] = pick({ ...base, count: 1, minPass: 0.99 });
    expect(likely!).toBeLessThan(bold!);
    // Index i has mean 6 + 0.5i and sd 0.5 against a budget of 10: pass >= 0.99 means i <= 5.
    expect(likely!).toBe(5);
    // Every cell at least 4 ms slower: some chance for the fastest, none as likely as 0.99.
    const slower = Float64Array.from(mean, (m) => m + 4);
    const unconstrained = pick({ ...base, predicted: { mean: slower, std }, count: 1 });
    expect(unconstrained).toHaveLength(1);
    expect(pick({ ...base, predicted: { mean: slower, std }, count: 1, minPass: 0.99 })).toEqual(
      unconstrained,
    );
  });

  it('judges candidates as slower than predicted by the selection-bias shift, so it bets more safely', () => {
    const [bold] = pick({ ...base, count: 1 });
    const [shifted] = pick({ ...base, count: 1, selectionBiasSds: 2 });
    // Two sds slower: index i passes as index i + 2 would unshifted (means 0.5 ms apart, sd 0.5),
    // so the best single bet, score x chance, moves to a faster cell (index 6 -> 5).
    expect(shifted!).toBeLessThan(bold!);
    expect(pick({ ...base, count: 1, selectionBiasSds: 0 })).toEqual([bold]);
  });

  it('asks a measurement to clear the margin, so it prefers cells further below the budget', () => {
    const exact = pick({ ...base, count: 1 });
    const margined = pick({
      ...base,
      count: 1,
      expectedNoise: 0.05,
      margin: { noise: 0.05, marginZ: 2 },
    });
    expect(margined[0]!).toBeLessThan(exact[0]!);
  });

  it('never bets on a cell that computes nothing, even as the one likely pass of a last chance', () => {
    // `npm start -- --budget 0.125ms`: the all-none cell, predicted at the floor, was the only cell
    // likely to pass, so the last-chance rule spent a measurement on it.
    const empty = encodeCell(parseCell('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'));
    const deadEnd = encodeCell(parseCell('|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|'));
    const zeroScore = CODES[0]!;
    const withEmpty = {
      ...base,
      pool: [...CODES, empty, deadEnd],
      // The disconnected cells get the best scores a toy score could give them, and certain passes.
      scores: Float64Array.from(scores, (s, code) =>
        code === empty || code === deadEnd ? 1 : code === zeroScore ? 0 : s,
      ),
      predicted: {
        mean: Float64Array.from(mean, (m, code) =>
          code === empty || code === deadEnd || code === zeroScore ? 1 : m + 3,
        ),
        std,
      },
      count: 1,
      minPass: 0.7,
    };
    const [last] = chooseCandidates(withEmpty);
    expect(last).toBeDefined();
    expect([empty, deadEnd, zeroScore]).not.toContain(last);
    // The same choice with the nothing-cells gone: they were the only likely passes.
    expect(last).toBe(chooseCandidates({ ...withEmpty, pool: CODES.slice(1) })[0]);
    const all = chooseCandidates({ ...withEmpty, count: 20, minPass: 0 });
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((code) => [empty, deadEnd, zeroScore].includes(code))).toEqual([]);
  });

  it('does not let a measured cell that computes nothing stand as the certified sample', () => {
    const empty = encodeCell(parseCell('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'));
    const toyScores = Float64Array.from(scores, (s, code) => (code === empty ? 1 : s));
    const measured = new Map([
      [empty, 1],
      [CODES[2]!, 7],
    ]);
    expect(bestCertified(measured, toyScores, 10, { noise: 0, marginZ: 0 }, base.usable)).toEqual({
      code: CODES[2],
      score: toyScores[CODES[2]!],
    });
    expect(
      bestCertified(new Map([[empty, 1]]), toyScores, 10, { noise: 0, marginZ: 0 }, base.usable),
    ).toBeUndefined();
  });
});
