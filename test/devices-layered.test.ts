// Device models of layered spaces (FBNet here, through its operator list): the per-layer operator
// table, synthetic devices for layered networks, their bank, the sample design, the latency model
// and its input errors, and `bench latency --space fbnet` on a table written from a synthetic device
// (and on the shared table's FPGA column where ../shared is present).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { layeredSpaceById } from '../src/bench/layered-spaces.js';
import { parseLayeredTable, runLayeredLatencyBench } from '../src/bench/layered-latency-bench.js';
import {
  designLayeredSamples,
  fitLayeredLatencyModel,
  type LayeredBank,
  layeredBank,
  layeredParts,
} from '../src/devices/layered-model.js';
import {
  type LayeredSpace,
  layeredLatency,
  layerTable,
  sampleLayeredDevice,
} from '../src/devices/layered-synthetic.js';
import { DESIGNED_LAYERED_SAMPLES } from '../src/devices/layered-samples.js';
import { nonNegativeLeastSquares } from '../src/devices/linalg.js';
import { UsageError } from '../src/errors.js';
import { bodyOperators, FBNET_SETTINGS, SKIP_BLOCK } from '../src/spaces/fbnet/definition.js';
import { type Operator, operatorMacs } from '../src/spaces/operators.js';
import type { Architecture } from '../src/spaces/space.js';
import { Random } from '../src/util/random.js';
import { spearman } from '../src/util/stats.js';
import { runCliCaptured } from './support/cli.js';

const DATASET = 'cifar100';
const FBNET_LAYERED = layeredSpaceById('fbnet');
/** A small bank keeps the tests fast; the shipped one has LAYERED_BANK_SIZE devices. */
const BANK_SIZE = 800;
const randomArchitectures = (count: number, seed: number): Architecture[] => {
  const random = new Random(seed);
  return Array.from({ length: count }, () => Array.from({ length: 22 }, () => random.int(9)));
};

describe('layer table', () => {
  it("lists each (layer, block)'s operators as the FBNet definition builds them", () => {
    const table = layerTable(FBNET_LAYERED, DATASET);
    expect(table.featureCount).toBe(1 + 22 * 9);
    const arch = randomArchitectures(1, 1)[0]!;
    const fromTable = arch.flatMap((block, layer) => table.operators[table.offsets[layer]! + block]!);
    expect(fromTable).toEqual(bodyOperators(arch, FBNET_SETTINGS.cifar100));
  });

  it('refuses a space whose layers depend on other layers, naming the position', () => {
    const coupled: LayeredSpace = {
      ...FBNET_LAYERED,
      id: 'coupled',
      // Layer 2's operators change with layer 1's choice.
      operators: (arch, dataset) =>
        bodyOperators(arch, FBNET_SETTINGS.cifar100)
          .map((op) => (op.layer === 1 && arch[0] === 3 ? { ...op, inSize: op.inSize + 1 } : op))
          .filter(() => dataset === DATASET),
    };
    expect(() => layerTable(coupled, DATASET)).toThrow(/space coupled: the operators of layer 2 depend/);
  });
});

describe('synthetic devices for layered networks', () => {
  const table = layerTable(FBNET_LAYERED, DATASET);

  it('are deterministic under a seed, positive, and span launch-bound to compute-bound', () => {
    const draw = (k: number) => sampleLayeredDevice(new Random(5).child(String(k)), table);
    expect(draw(0)).toEqual(draw(0));
    const devices = Array.from({ length: 200 }, (_, k) => draw(k));
    for (const device of devices.slice(0, 20)) {
      expect(Math.min(...device.costs)).toBeGreaterThanOrEqual(0);
      expect(device.residualVariance).toBeGreaterThan(0);
    }
    const shares = devices.map((device) => device.launchShare);
    expect(shares.filter((share) => share < 0.2).length).toBeGreaterThan(20);
    expect(shares.filter((share) => share > 0.6).length).toBeGreaterThan(20);
  });

  it('price an identity layer below an e6 block, and a launch-bound device every block alike', () => {
    const devices = Array.from({ length: 200 }, (_, k) =>
      sampleLayeredDevice(new Random(6).child(String(k)), table),
    );
    // Layer 3 (24 -> 24 channels, stride 1): skip is an identity there.
    const cost = (device: (typeof devices)[number], block: number): number =>
      device.costs[table.offsets[2]! + block]!;
    const cheaper = devices.filter((device) => cost(device, SKIP_BLOCK) < cost(device, 3)).length;
    expect(cheaper).toBeGreaterThan(190);
    const spread = (device: (typeof devices)[number]): number => {
      const blocks = [0, 2, 3, 4, 6, 7].map((block) => cost(device, block));
      return Math.max(...blocks) / Math.min(...blocks);
    };
    const launchBound = devices.filter((device) => device.launchShare > 0.9);
    const computeBound = devices.filter((device) => device.launchShare < 0.05);
    expect(launchBound.length).toBeGreaterThan(3);
    expect(computeBound.length).toBeGreaterThan(3);
    const medianSpread = (list: typeof devices): number =>
      list.map(spread).sort((a, b) => a - b)[list.length >> 1]!;
    expect(medianSpread(launchBound)).toBeLessThan(1.5);
    expect(medianSpread(computeBound)).toBeGreaterThan(3);
  });

  it('leave a mechanism out without changing the rest of the device', () => {
    // A device with a per-filter cost: its depthwise-heavy blocks get dearer, nothing else moves.
    const k = Array.from({ length: 40 }, (_, i) => i).find((i) => {
      const a = sampleLayeredDevice(new Random(5).child(String(i)), table);
      const b = sampleLayeredDevice(new Random(5).child(String(i)), table, new Set(['filter-cost']));
      return a.costs.some((cost, j) => Math.abs(cost - b.costs[j]!) > 0.01 * cost);
    })!;
    expect(k).toBeDefined();
    const full = sampleLayeredDevice(new Random(5).child(String(k)), table);
    const plain = sampleLayeredDevice(new Random(5).child(String(k)), table, new Set(['filter-cost']));
    expect(full.noiseSd).toBe(plain.noiseSd);
    expect(full.launchShare).toBeLessThanOrEqual(plain.launchShare);
    // The setup is per channel, so it weighs most on small maps: a k5_e1 block at 4x4 (layer 21)
    // gains on the same block at 32x32 (layer 3).
    const small = table.offsets[20]! + 4;
    const large = table.offsets[2]! + 4;
    expect(full.costs[small]! / full.costs[large]!).toBeGreaterThan(
      plain.costs[small]! / plain.costs[large]!,
    );
  });

  it('give whole-network latencies near their per-layer sum (interactions and noise only)', () => {
    const device = sampleLayeredDevice(new Random(7), table);
    for (const arch of randomArchitectures(20, 3)) {
      let sum = device.overheadMs;
      arch.forEach((block, layer) => (sum += device.costs[table.offsets[layer]! + block]!));
      const latency = layeredLatency(device, table, arch);
      expect(latency).toBe(layeredLatency(device, table, arch));
      expect(Math.abs(Math.log(latency / sum))).toBeLessThan(0.5);
    }
  });

  it('make a bank whose weights give each device a mean latency of 1, split by launch share and batch', () => {
    const bank = layeredBank(FBNET_LAYERED, DATASET, BANK_SIZE, 11);
    expect(layeredBank(FBNET_LAYERED, DATASET, BANK_SIZE, 11)).toBe(bank);
    const d = bank.featureCount;
    for (const k of [0, 1, 2]) {
      let mean = bank.weights[k * d]!;
      for (let p = 0; p < 22; p++)
        for (let c = 0; c < 9; c++) mean += bank.weights[k * d + 1 + p * 9 + c]! / 9;
      expect(mean).toBeCloseTo(1, 10);
    }
    const unsplit = layeredParts(bank, false);
    expect(unsplit.map((part) => part.label)).toEqual(['compute-bound', 'mixed', 'launch-bound', 'macs']);
    expect(unsplit.reduce((sum, part) => sum + part.members.length, 0)).toBe(bank.size);
    expect(bank.syntheticCount).toBe(BANK_SIZE);
    expect(unsplit[3]!.members.every((k) => k >= BANK_SIZE)).toBe(true);
    // Split by batch too: batch-1 parts hold batch-1 devices only, each unsplit part is the union of its two.
    const parts = layeredParts(bank);
    expect(parts.map((part) => part.label)).toContain('compute-bound, batch 1');
    expect(parts.map((part) => part.label)).toContain('compute-bound, batched');
    for (const part of parts) {
      if (part.label.endsWith(', batch 1'))
        expect(part.members.every((k) => bank.batchOne[k] === 1)).toBe(true);
      if (part.label.endsWith(', batched'))
        expect(part.members.every((k) => bank.batchOne[k] === 0)).toBe(true);
    }
    const computeBound = parts
      .filter((part) => part.label.startsWith('compute-bound'))
      .flatMap((part) => part.members)
      .sort((a, b) => a - b);
    expect(computeBound).toEqual(unsplit[0]!.members);
  });

  it('price the MACs devices by MACs of each operator kind (total MACs without kind-macs), mean latency 1', () => {
    const byKind = layeredBank(FBNET_LAYERED, DATASET, BANK_SIZE, 11);
    const total = layeredBank(FBNET_LAYERED, DATASET, BANK_SIZE, 11, new Set(['kind-macs']));
    const table = byKind.table;
    const d = byKind.featureCount;
    const kindOf = (op: Operator): number =>
      op.kind === 'pointwise' ? (op.groups > 1 ? 1 : 0) : op.kind === 'depthwise' ? 2 : 3;
    const macsOf = (arch: Architecture, kind?: number): number =>
      arch.reduce(
        (sum, block, layer) =>
          sum +
          table.operators[table.offsets[layer]! + block]!.reduce(
            (t, op) => t + (kind === undefined || kindOf(op) === kind ? operatorMacs(op) : 0),
            0,
          ),
        0,
      );
    const archs = randomArchitectures(30, 4);
    const k = byKind.size - 1;
    const latency = (bank: LayeredBank, arch: Architecture): number =>
      arch.reduce(
        (sum, block, layer) => sum + bank.weights[k * d + 1 + table.offsets[layer]! + block]!,
        bank.weights[k * d]!,
      );
    // Without kind-macs, latency minus the constant is proportional to total MACs.
    const ratios = archs.map((arch) => (latency(total, arch) - total.weights[k * d]!) / macsOf(arch));
    for (const ratio of ratios) expect(ratio).toBeCloseTo(ratios[0]!, 12);
    // With it, a fixed rate per kind: dense 1x1, grouped 1x1 and depthwise MACs explain it exactly.
    const rows = archs.map((arch) => [0, 1, 2].map((kind) => macsOf(arch, kind)));
    const rates = nonNegativeLeastSquares(
      rows.slice(0, 10).map((row) => Float64Array.from(row)),
      archs.slice(0, 10).map((arch) => latency(byKind, arch) - byKind.weights[k * d]!),
    );
    archs.forEach((arch, i) => {
      const predicted = rows[i]!.reduce((sum, macs, j) => sum + macs * rates[j]!, 0);
      expect(predicted / (latency(byKind, arch) - byKind.weights[k * d]!)).toBeCloseTo(1, 6);
    });
    expect(Math.max(...rates) / Math.min(...rates)).toBeGreaterThan(1.01);
    for (const bank of [byKind, total]) {
      let mean = bank.weights[k * d]!;
      for (let p = 0; p < 22; p++)
        for (let c = 0; c < 9; c++) mean += bank.weights[k * d + 1 + p * 9 + c]! / 9;
      expect(mean).toBeCloseTo(1, 10);
    }
  });
});

describe('layered sample design and latency model', () => {
  const bank = layeredBank(FBNET_LAYERED, DATASET, BANK_SIZE, 11);
  const table = bank.table;

  it('designs distinct architectures, deterministically, among given candidates when asked', () => {
    const candidates = randomArchitectures(300, 8);
    const design = designLayeredSamples(FBNET_LAYERED, 10, { candidates });
    expect(design).toHaveLength(10);
    expect(new Set(design.map((arch) => arch.join())).size).toBe(10);
    const keys = new Set(candidates.map((arch) => arch.join()));
    for (const arch of design) expect(keys.has(arch.join())).toBe(true);
    expect(designLayeredSamples(FBNET_LAYERED, 10, { candidates })).toEqual(design);
    expect(() => designLayeredSamples(FBNET_LAYERED, 1)).toThrow(/sample count 1 is out of range/);
  });

  it('recovers held-out synthetic devices from 10 designed samples with sensible intervals', () => {
    const candidates = randomArchitectures(600, 9);
    const design = designLayeredSamples(FBNET_LAYERED, 10, { candidates });
    const test = randomArchitectures(400, 10);
    const rhos: number[] = [];
    const coverages: number[] = [];
    for (let k = 0; k < 6; k++) {
      const device = sampleLayeredDevice(new Random(123).child(String(k)), table);
      const model = fitLayeredLatencyModel(
        FBNET_LAYERED,
        { architectures: design, latenciesMs: design.map((arch) => layeredLatency(device, table, arch)) },
        { dataset: DATASET, bank },
      );
      const truth = Float64Array.from(test, (arch) => layeredLatency(device, table, arch));
      const predictions = test.map((arch) => model.predict(arch));
      rhos.push(
        spearman(
          Float64Array.from(predictions, (p) => p.meanMs),
          truth,
        ),
      );
      coverages.push(
        predictions.filter((p, i) => Math.abs(p.meanMs - truth[i]!) <= 1.645 * p.stdMs).length / test.length,
      );
      expect(model.predictAll).toBeUndefined();
    }
    rhos.sort((a, b) => a - b);
    expect(rhos[3]!).toBeGreaterThan(0.9);
    const meanCoverage = coverages.reduce((a, b) => a + b) / coverages.length;
    expect(meanCoverage).toBeGreaterThan(0.6);
  });

  it('recognizes a device priced by total MACs and ranks by MACs', () => {
    const candidates = randomArchitectures(600, 9);
    const design = designLayeredSamples(FBNET_LAYERED, 10, { candidates });
    const macsOf = (arch: Architecture): number =>
      arch.reduce(
        (sum, block, layer) =>
          sum + table.operators[table.offsets[layer]! + block]!.reduce((t, op) => t + operatorMacs(op), 0),
        0,
      );
    const noise = new Random(21);
    const model = fitLayeredLatencyModel(
      FBNET_LAYERED,
      {
        architectures: design,
        latenciesMs: design.map((arch) => (5 + macsOf(arch) / 1e7) * Math.exp(0.03 * noise.normal())),
      },
      { dataset: DATASET, bank },
    );
    // The MACs part holds a fifth of the posterior (0.20; about half before the parts were split by
    // batch size, 0.92 with total MACs alone, see KIND_RATE_SD), the compute-bound batched part
    // (the narrowest of the synthetic parts, no per-filter costs) the rest, and the prediction ranks
    // as MACs do.
    expect(model.parameters.modeWeights.macs ?? 0).toBeGreaterThan(0.15);
    const test = randomArchitectures(200, 22);
    const predicted = Float64Array.from(test, (arch) => model.predict(arch).meanMs);
    expect(spearman(predicted, Float64Array.from(test, macsOf))).toBeGreaterThan(0.9);
  });

  it('refuses bad samples and architectures, naming what is wrong', () => {
    const [a, b] = randomArchitectures(2, 12);
    const fit = (architectures: Architecture[], latenciesMs: number[]) =>
      fitLayeredLatencyModel(FBNET_LAYERED, { architectures, latenciesMs }, { dataset: DATASET, bank });
    expect(() => fit([a!], [1])).toThrow(/needs at least 2 measured architectures, got 1/);
    expect(() => fit([a!, b!], [1, 0])).toThrow(/sample 1 has latency 0 ms/);
    expect(() => fit([a!, a!], [1, 2])).toThrow(/contain duplicates/);
    expect(() => fit([a!, b!.slice(1)], [1, 2])).toThrow(/sample 1: 21 positions, the fbnet space has 22/);
    expect(() => fit([a!, [...b!.slice(1), 9]], [1, 2])).toThrow(
      /layer 22 has choice 9; expected an index from 0 to 8/,
    );
    const model = fit([a!, b!], [1, 2]);
    expect(() => model.predict([1, 2])).toThrow(UsageError);
  });
});

describe('bench latency --space fbnet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simnas-layered-bench-'));
  const table = layerTable(FBNET_LAYERED, DATASET);
  const archs = randomArchitectures(200, 13);
  const device = sampleLayeredDevice(new Random(14), table);
  const rows = archs.map(
    (arch, i) =>
      `${i},${FBNET_LAYERED.format(arch)},${arch.join(' ')},${layeredLatency(device, table, arch)}`,
  );
  const write = (text: string): string => {
    const path = join(dir, `t${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(path, text);
    return path;
  };
  const good = write(['index,arch,op_idx,synthetic', ...rows].join('\n'));

  it('parses any column name and refuses non-FBNet architectures and non-positive latencies by row and column', () => {
    const parsed = parseLayeredTable(['index,arch,op_idx,mydevice', ...rows].join('\n'), 'T', FBNET_LAYERED);
    expect(parsed.columns).toEqual(['mydevice']);
    expect(parsed.architectures[5]).toEqual(archs[5]);
    const nb201 = '0,|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|,x,1';
    expect(() => parseLayeredTable(`index,arch,op_idx,d\n${nb201}`, 'T', FBNET_LAYERED)).toThrow(
      /T: row 2, column 'arch': invalid FBNet architecture/,
    );
    const zero = rows[0]!.replace(/,[^,]*$/, ',0');
    expect(() => parseLayeredTable(`index,arch,op_idx,d\n${zero}`, 'T', FBNET_LAYERED)).toThrow(
      /T: row 2, column 'd': '0' is not a latency; expected a positive number/,
    );
    expect(() => parseLayeredTable(`index,op_idx,d\n0,1,2`, 'T', FBNET_LAYERED)).toThrow(
      /has no 'arch' column/,
    );
  });

  it('exits 2 naming the column and row of a missing latency, for fewer than 2 samples, and for an unknown mechanism', async () => {
    const bench = (table: string, ...args: string[]) =>
      runCliCaptured('bench', 'latency', '--space', 'fbnet', '--table', table, ...args);
    const missing = write(
      ['index,arch,op_idx,a,b', ...rows.map((row, i) => `${row},${i === 7 ? '' : 1 + i}`)].join('\n'),
    );
    const run = await bench(missing, '--devices', 'b', '--seeds', '1');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/column 'b' has no latency in row 9/);
    const few = await bench(good, '--samples', '1');
    expect(few.code).toBe(2);
    expect(few.stderr).toMatch(/--samples/);
    const unknown = await bench(good, '--without', 'filter-cost,cliffs');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /'cliffs' is not a mechanism of the layered prior; expected some of filter-cost/,
    );
  });

  it('devices design --space fbnet prints 10 distinct FBNet architectures', async () => {
    const { code, stdout } = await runCliCaptured('devices', 'design', '--space', 'fbnet', '--json');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { space: string; dataset: string; architectures: string[] };
    expect(printed.dataset).toBe('cifar100');
    expect(new Set(printed.architectures).size).toBe(10);
    for (const text of printed.architectures) expect(FBNET_LAYERED.parse(text)).toHaveLength(22);
    // What every search of the space measures first is this design, written out.
    expect(DESIGNED_LAYERED_SAMPLES['fbnet/cifar100']).toEqual(printed.architectures);
  });

  it("devices design takes the space's own datasets (FBNet's ImageNet), whatever their case", async () => {
    const { code, stdout } = await runCliCaptured(
      'devices',
      'design',
      '--space',
      'fbnet',
      '--dataset',
      'ImageNet',
      '--json',
    );
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { dataset: string; architectures: string[] };
    expect(printed.dataset).toBe('imagenet');
    expect(printed.architectures).toEqual(DESIGNED_LAYERED_SAMPLES['fbnet/imagenet']);
  });

  it('matches the designed samples written out for every layered space and dataset', () => {
    for (const [key, written] of Object.entries(DESIGNED_LAYERED_SAMPLES)) {
      const [id, dataset] = key.split('/') as [string, string];
      const space = layeredSpaceById(id);
      const designed = designLayeredSamples(space, 10, { dataset }).map((a) => space.format(a));
      expect(designed, key).toEqual(written);
    }
  }, 120_000);

  it('prints the NB201 bench shape with the baselines, ceiling and prior coverage', async () => {
    const result = await runLayeredLatencyBench({
      space: FBNET_LAYERED,
      table: parseLayeredTable(['index,arch,op_idx,synthetic', ...rows].join('\n'), 'T', FBNET_LAYERED),
      seeds: 2,
      designs: 1,
    });
    const [row] = result.devices;
    expect(row!.name).toBe('synthetic');
    expect(row!.cells).toBe(200);
    for (const key of [
      'rho',
      'mape',
      'coverage90',
      'baseline_rho',
      'feature_baseline_rho',
      'ceiling_rho',
      'efficiency',
      'best_synthetic_rho',
      'prior_percentile',
    ] as const) {
      expect(Number.isFinite(row![key])).toBe(true);
    }
    expect(row!.efficiency).toBeCloseTo(row!.rho / row!.ceiling_rho, 12);
    expect(result.sample_architectures).toHaveLength(10);
    // A device drawn from the prior is well covered by it, and 10 designed samples rank it well.
    expect(row!.rho).toBeGreaterThan(0.8);
  });
});

const SHARED = fileURLToPath(new URL('../../shared/data/fbnet/fbnet_latency_help.csv', import.meta.url));
const hasShared = existsSync(SHARED);
if (!hasShared) console.warn(`skipping the FBNet latency benchmark test: ${SHARED} is absent`);

describe.skipIf(!hasShared)('FBNet latency benchmark on a recorded column (reads ../shared)', () => {
  it('ranks the launch-bound 2080 Ti far above total MACs and near its ceiling', async () => {
    const { code, stdout } = await runCliCaptured(
      'bench',
      'latency',
      '--space',
      'fbnet',
      '--table',
      SHARED,
      '--devices',
      '2080ti_1',
      '--seeds',
      '1',
      '--designs',
      '1',
      '--json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      devices: { rho: number; baseline_rho: number; efficiency: number }[];
    };
    const [gpu] = result.devices;
    expect(gpu!.baseline_rho).toBeLessThan(0.4);
    expect(gpu!.rho).toBeGreaterThan(0.9);
    expect(gpu!.efficiency).toBeGreaterThan(0.93);
  });
});
