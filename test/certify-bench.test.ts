// `simnas bench certify` end to end at its smallest: one reference cell verified under one busy
// background process, one A-vs-A review, and the JSON shape the issue asks for; and the load
// generator stops what it starts.
import { describe, expect, it } from 'vitest';

import {
  CERTIFY_DELTAS,
  formatCertifyBench,
  runCertifyBench,
  startLoad,
} from '../src/bench/certify-bench.js';
import { silentLogger } from '../src/util/log.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('bench certify', () => {
  it('verifies a reference cell under load and reports rates per d, calibration and A-vs-A', async () => {
    const result = await runCertifyBench(
      {
        loads: [1],
        trials: 1,
        cells: 1,
        dataset: 'cifar10',
        seed: 3,
        referenceRepeats: 1,
        referenceRounds: 5,
        abRuns: 1,
        stabilityRuns: 0,
        stabilityLoads: [],
        stabilityBudgetMs: 2,
      },
      silentLogger,
    );
    expect(result.reference).toHaveLength(1);
    expect(result.reference[0]!.ms).toBeGreaterThan(0);
    expect(result.results.map((row) => row.delta)).toEqual([...CERTIFY_DELTAS]);
    for (const row of result.results) {
      expect(Object.keys(row).sort()).toEqual(
        ['certified', 'delta', 'false_certification', 'false_rejection', 'load', 'trials', 'wall_s'].sort(),
      );
      expect(row).toMatchObject({ load: 1, trials: 1 });
      expect(row.wall_s).toBeGreaterThan(0);
      // A rate only where it can happen: certification below the reference, rejection above it.
      if (row.delta > 0) expect(row.false_certification).toBe(0);
      else expect(row.false_rejection).toBe(0);
    }
    // Tighter budgets never certify more often than looser ones.
    const certified = result.results.map((row) => row.certified);
    expect(certified).toEqual([...certified].sort((a, b) => a - b));
    expect(result.calibration[0]).toMatchObject({ load: 1, verifications: 1 });
    // The background process was seen while measuring.
    expect(result.calibration[0]!.background_cores).toBeGreaterThan(0.3);
    // The machine's speed in the job against the reference, from the samples measured in both.
    expect(result.calibration[0]!.speed).toBeGreaterThan(0.1);
    expect(result.calibration[0]!.speed).toBeLessThan(10);
    expect(result.ab[0]).toMatchObject({ load: 1, runs: 1 });
    expect(formatCertifyBench(result)).toMatch(/false-cert/);
  }, 120_000);

  it('stops the background processes it starts', async () => {
    const stop = await startLoad(2);
    const { execSync } = await import('node:child_process');
    const children = execSync(`pgrep -P ${process.pid} || true`)
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect(children.length).toBeGreaterThanOrEqual(2);
    stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(children.filter(alive)).toEqual([]);
  });
});
