// `simnas bench latency`: the latency model against the naive baseline and the ceiling on recorded
// devices (reads ../shared; skipped with a warning without it), `devices adapt`, and input errors.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { designVariant, runLatencyBench } from '../src/bench/latency-bench.js';
import { designSampleCells } from '../src/devices/design.js';
import { DEFAULT_BANK_SEED } from '../src/devices/prior.js';
import { spaceById } from '../src/spaces/index.js';
import { type Cell, encodeCell, parseCell } from '../src/spaces/nb201/cell.js';
import { readLatencyTable } from '../src/devices/recorded.js';
import { runCliCaptured } from './support/cli.js';

const SHARED = fileURLToPath(new URL('../../shared/data/nb201/', import.meta.url));
const HWNAS = join(SHARED, 'nb201_hwnasbench_cifar10.csv');
const hasShared = existsSync(HWNAS);
if (!hasShared) console.warn(`skipping latency benchmark tests: ${SHARED} is absent`);

describe.skipIf(!hasShared)('latency benchmark on recorded devices (reads ../shared)', () => {
  it('beats the naive baseline on the Edge TPU and stays near the ceiling on the FPGA', async () => {
    const result = await runLatencyBench({
      table: readLatencyTable(HWNAS, spaceById('nb201')),
      devices: ['edgetpu_latency', 'fpga_latency'],
      seeds: 4,
      designs: 2,
    });
    expect(result.designs).toBe(2);
    const [edgetpu, fpga] = result.devices;
    expect(edgetpu!.cells).toBeLessThan(15625);
    expect(edgetpu!.rho).toBeGreaterThan(edgetpu!.baseline_rho + 0.03);
    expect(fpga!.efficiency).toBeGreaterThan(0.97);
    for (const device of result.devices) {
      // The Edge TPU is the least covered column (73% over 20 seeds, standard error 6 points).
      expect(device.coverage90).toBeGreaterThan(0.45);
      expect(device.ceiling_rho).toBeGreaterThan(0.98);
      expect(device.prior_percentile).toBeGreaterThan(0);
      // Two variants, two seeds each: the mean lies between them.
      const [low, high] = device.efficiency_range;
      expect(low).toBeLessThanOrEqual(device.efficiency + 1e-12);
      expect(high).toBeGreaterThanOrEqual(device.efficiency - 1e-12);
      expect(high).toBeGreaterThan(low);
      // The shipped design and prior are one of the two variants. Seeds that share a variant err
      // together, so the standard error is over the two variants' means: sd / √2 of two values is
      // half their gap.
      expect([low, high]).toContainEqual(device.efficiency_shipped);
      expect(device.efficiency_se).toBeCloseTo((high - low) / 2, 12);
      expect(device.coverage90_se).toBeGreaterThanOrEqual(0);
    }
    expect(result.overall.rho).toBeCloseTo((edgetpu!.rho + fpga!.rho) / 2, 12);
  });

  it('learns the prior, or computes the design, from another synthetic bank when asked', async () => {
    const run = (seeds: { bankSeed?: number; designBankSeed?: number }) =>
      runLatencyBench({
        table: readLatencyTable(HWNAS, spaceById('nb201')),
        devices: ['pixel3_latency'],
        seeds: 1,
        designs: 1,
        ...seeds,
      });
    const shipped = await run({});
    const otherPrior = await run({ bankSeed: 1 });
    const otherDesign = await run({ designBankSeed: 1 });
    expect([shipped.bank_seed, shipped.design_bank_seed]).toEqual([DEFAULT_BANK_SEED, DEFAULT_BANK_SEED]);
    expect([otherPrior.bank_seed, otherDesign.design_bank_seed]).toEqual([1, 1]);
    // One seed on the shipped design: the shipped figure is the figure, with no spread to report.
    expect(shipped.devices[0]!.efficiency_shipped).toBe(shipped.devices[0]!.efficiency);
    expect(shipped.devices[0]!.efficiency_se).toBe(0);
    // The prior's draw leaves the design alone; the design's draw changes the cells measured.
    expect(otherPrior.sample_cells).toEqual(shipped.sample_cells);
    expect(otherPrior.devices[0]!.rho).not.toBe(shipped.devices[0]!.rho);
    expect(otherDesign.sample_cells).not.toEqual(shipped.sample_cells);
    // Another draw of the same prior still models the device far better than the naive baseline.
    for (const result of [otherPrior, otherDesign]) {
      expect(result.devices[0]!.rho).toBeGreaterThan(result.devices[0]!.baseline_rho);
    }
  });

  it('devices adapt: fits one column from its designed samples and reports the fit', async () => {
    const args = ['devices', 'adapt', '--table', HWNAS, '--device', 'fpga_latency', '--json'];
    const { code, stdout } = await runCliCaptured(...args);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as {
      device: string;
      samples: { cell: string; measuredMs: number }[];
      looMape: number;
    };
    expect(printed.device).toBe('fpga_latency');
    expect(printed.samples.map((s) => encodeCell(parseCell(s.cell)))).toEqual(
      designSampleCells(10).map((cell) => encodeCell(cell)),
    );
    // The FPGA is nearly additive: ten designed samples leave a leave-one-out error of a few percent.
    expect(printed.looMape).toBeGreaterThan(0);
    expect(printed.looMape).toBeLessThan(10);
  });

  it('varies the design deterministically: variant 0 is the shipped design, variant v the design against bank seed + v', () => {
    const codes = (cells: readonly Cell[]): number[] => cells.map((cell) => encodeCell(cell));
    const shipped = codes(designSampleCells(10));
    expect(codes(designVariant(10, 'cifar10', 0))).toEqual(shipped);
    const variant = codes(designVariant(10, 'cifar10', 1));
    expect(variant).toEqual(codes(designSampleCells(10, { bankSeed: DEFAULT_BANK_SEED + 1 })));
    expect(variant).not.toEqual(shipped);
  });

  it('exits 2 naming the columns that exist when a device column is missing', async () => {
    const { code, stderr: message } = await runCliCaptured(
      'bench',
      'latency',
      '--table',
      HWNAS,
      '--devices',
      'raspi5_latency',
    );
    expect(code).toBe(2);
    expect(message).toMatch(/no column 'raspi5_latency'; the device columns are: .*edgegpu_latency/);
  });
});

describe('latency benchmark input errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simnas-bench-latency-'));
  const run = async (text: string, ...extra: string[]): Promise<{ code: number; message: string }> => {
    const path = join(dir, `t${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(path, text);
    const { code, stderr: message } = await runCliCaptured(
      'bench',
      'latency',
      '--table',
      path,
      '--seeds',
      '1',
      ...extra,
    );
    return { code, message: message.replace(path, 'FILE') };
  };
  const cell = '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|';

  it('rejects a table without arch_str', async () => {
    const { code, message } = await run(`index,arch,fpga\n0,${cell},1\n`);
    expect(code).toBe(2);
    expect(message).toMatch(/FILE: row 1 \(header\) has no 'arch_str' column/);
  });

  it('rejects non-numeric and negative latencies with row and column', async () => {
    expect((await run(`index,arch_str,fpga\n0,${cell},fast\n`)).message).toMatch(
      /FILE: row 2, column 'fpga': 'fast'/,
    );
    expect((await run(`index,arch_str,fpga\n0,${cell},-3\n`)).code).toBe(2);
  });

  it('rejects fewer cells with data than samples', async () => {
    const { code, message } = await run(`index,arch_str,fpga\n0,${cell},1\n`);
    expect(code).toBe(2);
    expect(message).toMatch(/column 'fpga' has data for 1 cells, fewer than the 10 samples requested/);
  });
});
