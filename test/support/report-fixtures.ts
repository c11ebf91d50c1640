// A search result written by hand, for testing what the report shows without running a search: a
// recorded device, five verified cells and the best sample competing beside them, a small front.
import type { SearchResult } from '../../src/pipeline/index.js';
import { toReport, type SearchReport } from '../../src/report/report.js';
import { allCells, formatCell, isConnected } from '../../src/spaces/nb201/cell.js';

const connected = allCells()
  .map((cell, code) => ({ code, cell }))
  .filter(({ cell }) => isConnected(cell))
  .slice(0, 40)
  .map(({ code, cell }) => ({ code, cell: formatCell(cell) }));

/** The cell of fixture index `i` (distinct connected cells). */
export const fixtureCell = (i: number): { code: number; cell: string } => connected[i]!;

/**
 * A report whose front spans `latenciesMs`, with a given budget of `budgetMs` (or the knee) on a
 * table device; entry 5 of `verified` is the sample, and it is the recommendation when
 * `sampleWins`.
 */
export function handmadeReport(
  options: {
    latenciesMs?: readonly number[];
    budgetMs?: number;
    budgetSource?: 'given' | 'knee';
    sampleWins?: boolean;
    device?: SearchResult['device'];
  } = {},
): SearchReport {
  const latencies = options.latenciesMs ?? [0.9, 1.2, 1.5, 2.0, 2.8];
  const budgetMs = options.budgetMs ?? 2.5;
  const front: SearchResult['front'] = latencies.map((latencyMs, i) => ({
    ...fixtureCell(i),
    latencyMs,
    latencySource: i % 2 === 0 ? 'predicted' : 'measured',
    ...(i % 2 === 0 ? { latencyStdMs: 0.1 * latencyMs } : {}),
    taskScore: 0.5 + 0.08 * i,
  }));
  const samples = Array.from({ length: 10 }, (_, i) => ({
    ...fixtureCell(10 + i),
    measuredMs: 0.8 + 0.3 * i,
    taskScore: 0.4 + 0.02 * i,
  }));
  const verified: SearchResult['verified'] = [
    ...Array.from({ length: 5 }, (_, i) => ({
      ...fixtureCell(20 + i),
      measuredMs: 1.9 + 0.2 * i,
      predictedMs: 2.0 + 0.2 * i,
      predictedStdMs: 0.2,
      taskScore: 0.6 + 0.03 * i,
      source: 'verification' as const,
    })),
    {
      ...samples[3]!,
      predictedMs: 1.71,
      predictedStdMs: 0.05,
      taskScore: options.sampleWins ? 0.9 : samples[3]!.taskScore,
      source: 'sample' as const,
    },
  ];
  const winner = options.sampleWins ? verified[5]! : verified[1]!;
  const result: SearchResult = {
    dataset: 'cifar10',
    seed: 7,
    strategy: 'controller',
    device: options.device ?? {
      kind: 'table',
      name: 'gold_6240',
      table: '../shared/data/nb201/nb201_latency_help.csv',
      noise: 0.03,
    },
    budget: { ms: budgetMs, source: options.budgetSource ?? 'given' },
    samples,
    verified,
    measurements: { samples: 10, verification: 5, total: 15, reused: 0 },
    cellsWithoutScore: 0,
    latencyModel: { looMapePercent: 8.5, looRmseMs: 0.2, noiseSd: 0.05, modeWeights: { cpu: 1 } },
    taskScoreId: 'toy',
    controller: {
      path: 'controllers/cifar10.json',
      bundled: true,
      sha256: '0123456789abcdef',
      simnasVersion: '0.1.0',
      taskScoreId: 'toy',
      priorHash: 'prior',
    },
    settings: { samples: 10, verify: 5, evaluations: 500, computeMissingScores: false },
    cellsEvaluated: 1000,
    front,
    recommendation: {
      ...winner,
      withinBudget: true,
      certified: true,
      certifiedBelowMs: budgetMs * 0.95,
      reason: 'best task score among 2 of 5 verified cells and the best sample measured within the budget',
    },
    wallMs: 1000,
  };
  return toReport(result);
}
