// Verification of the recommendation: the normal CDF, the noise margin a measured cell must clear
// under the budget, and which predicted cells are worth a measurement.
import { describe, expect, it } from 'vitest';

import { recommend, type VerifiedCell } from '../src/search/recommend.js';
import { certifiedThresholdMs, chooseCandidates, normalCdf } from '../src/search/verification.js';

const verified = (code: number, measuredMs: number, taskScore: number): VerifiedCell => ({
  code,
  cell: `cell ${code}`,
  measuredMs,
  predictedMs: measuredMs,
  predictedStdMs: 0.1,
  taskScore,
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
    expect(rec.withinBudget).toBe(true);
    expect(rec.reason).toMatch(/inside the noise margin/);
  });
});

describe('choosing cells to verify', () => {
  // Codes 0..9: scores rise with code, and so does the predicted latency (budget 10 ms).
  const scores = Float64Array.from({ length: 10 }, (_, code) => 0.1 * (code + 1));
  const mean = Float64Array.from({ length: 10 }, (_, code) => 6 + 0.5 * code);
  const std = new Float64Array(10).fill(0.5);
  const base = {
    pool: Array.from({ length: 10 }, (_, code) => code),
    scores,
    predicted: { mean, std },
    budgetMs: 10,
    margin: { noise: 0, marginZ: 0 },
    expectedNoise: 0,
  };

  it('first bets on the best expected improvement, then spreads its other bets over risk levels', () => {
    const chosen = chooseCandidates({ ...base, count: 3 });
    expect(chosen).toHaveLength(3);
    expect(new Set(chosen).size).toBe(3);
    // Code 9 (mean 10.5) rarely fits, code 0 always does but scores little: neither leads.
    expect(chosen[0]).toBeGreaterThan(3);
    expect(chosen[0]).toBeLessThan(9);
    // Chance that code c passes: its predicted latency 6 + 0.5c (sd 0.5) under the 10 ms budget.
    const pass = (code: number): number => normalCdf((10 - mean[code]!) / std[code]!);
    const first = pass(chosen[0]!);
    // The first bet is likely to pass, so another at its risk level would add little: the second
    // is bolder (less likely to pass, a higher score), which pays when the first passes.
    expect(pass(chosen[1]!)).toBeLessThan(first - 0.3);
    expect(scores[chosen[1]!]!).toBeGreaterThan(scores[chosen[0]!]!);
    // Together the picks run from near-certain to a coin flip.
    const passes = chosen.map(pass);
    expect(Math.max(...passes)).toBeGreaterThan(0.9);
    expect(Math.min(...passes)).toBeLessThan(0.6);
    // With bets to spare it also hedges: a cell safer than the first, which pays when that fails.
    const more = chooseCandidates({ ...base, count: 5 });
    expect(more.slice(0, 3)).toEqual(chosen);
    expect(more.slice(1).some((code) => pass(code) > first)).toBe(true);
  });

  it('skips cells no better than a sample already certified, and stops when none is left', () => {
    const measured = new Map([[7, 9.4]]);
    const chosen = chooseCandidates({ ...base, count: 5, measured });
    expect(chosen.every((code) => code > 7)).toBe(true);
    expect(chosen.length).toBeLessThanOrEqual(2);
  });

  it('never chooses unscored cells, nor hopeless ones', () => {
    const withUnscored = Float64Array.from(scores);
    withUnscored[5] = Number.NaN;
    const far = Float64Array.from(mean);
    far[8] = 100;
    const chosen = chooseCandidates({
      ...base,
      scores: withUnscored,
      predicted: { mean: far, std },
      count: 10,
    });
    expect(chosen).not.toContain(5);
    expect(chosen).not.toContain(8);
  });

  it('with a minimum chance of passing, bets on a likelier cell, and ignores it when no cell has it', () => {
    const [bold] = chooseCandidates({ ...base, count: 1 });
    const [likely] = chooseCandidates({ ...base, count: 1, minPass: 0.99 });
    expect(likely!).toBeLessThan(bold!);
    // Code c has mean 6 + 0.5c and sd 0.5 against a budget of 10: pass >= 0.99 means c <= 5.
    expect(likely!).toBe(5);
    // Every cell at least 4 ms slower: some chance for the fastest, none as likely as 0.99.
    const slower = Float64Array.from(mean, (m) => m + 4);
    const unconstrained = chooseCandidates({ ...base, predicted: { mean: slower, std }, count: 1 });
    expect(unconstrained).toHaveLength(1);
    expect(chooseCandidates({ ...base, predicted: { mean: slower, std }, count: 1, minPass: 0.99 })).toEqual(
      unconstrained,
    );
  });

  it('asks a measurement to clear the margin, so it prefers cells further below the budget', () => {
    const exact = chooseCandidates({ ...base, count: 1 });
    const margined = chooseCandidates({
      ...base,
      count: 1,
      expectedNoise: 0.05,
      margin: { noise: 0.05, marginZ: 2 },
    });
    expect(margined[0]!).toBeLessThan(exact[0]!);
  });
});
