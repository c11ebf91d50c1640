// fixtures/ is what scripts/make-fixtures.ts makes (the deterministic files are regenerated here
// and must be equal), and each fixture serves what it is for: the configs parse, the ONNX model
// runs in the review's timing, the report samples aggregate, the recorded table reads as a table
// whose latencies follow the networks' cost.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { deterministicFixtures, FIXTURES } from '../scripts/make-fixtures.js';
import { parseLatencyTable } from '../src/devices/recorded.js';
import { spaceById } from '../src/spaces/index.js';
import { networkCounts } from '../src/spaces/nb201/cost.js';
import { readAndAggregate } from '../src/report/aggregate.js';
import { prepareModel, releaseModel, timeSingle } from '../src/review/ab-timing.js';
import { parseConfig } from '../src/review/config.js';
import { parseCell } from '../src/spaces/nb201/cell.js';
import { silentLogger } from '../src/util/log.js';
import { spearman } from '../src/util/stats.js';

const fixture = (file: string): Buffer => readFileSync(path.join(FIXTURES, file));

describe('fixtures/', () => {
  it('holds what scripts/make-fixtures.ts makes (run npx tsx scripts/make-fixtures.ts)', () => {
    for (const { file, content } of deterministicFixtures()) {
      const expected = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
      expect(fixture(file).equals(expected), `fixtures/${file} is stale`).toBe(true);
    }
    const readme = fixture('README.md').toString();
    for (const { file } of deterministicFixtures()) expect(readme).toContain(`\`${file}\``);
  });

  it('the configs parse, and the ONNX model runs in the review timing at the sizes its config gives', async () => {
    const origin = { kind: 'working-tree', repoDir: FIXTURES } as const;
    const cell = parseConfig(fixture('configs/simnas.cell.json').toString(), 'simnas.cell.json', origin);
    expect(cell).toMatchObject({
      dataset: 'cifar10',
      budgetMs: 5,
      model: { kind: 'architecture', key: 'cell' },
    });
    // The README's example config is this fixture.
    const readme = readFileSync(path.join(FIXTURES, '..', 'README.md'), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(JSON.parse(example ?? 'null')).toEqual(JSON.parse(fixture('configs/simnas.cell.json').toString()));
    const onnx = parseConfig(fixture('configs/simnas.onnx.json').toString(), 'simnas.onnx.json', origin);
    expect(onnx.model.kind).toBe('onnx');
    const inputShape = onnx.model.kind === 'onnx' ? onnx.model.inputShape : {};
    const short = { targetMs: 200, resamples: 200, warmupRuns: 2 };
    const model = await prepareModel(
      { kind: 'onnx', label: 'skip-cell.onnx', bytes: fixture('models/skip-cell.onnx'), inputShape },
      short,
    );
    try {
      const timing = await timeSingle(model, short, silentLogger);
      expect(timing.model.medianMs).toBeGreaterThan(0);
    } finally {
      await releaseModel(model);
    }
  });

  it('the report samples aggregate as a release would (one row per runner)', () => {
    const aggregate = readAndAggregate([path.join(FIXTURES, 'reports')]);
    expect(aggregate.rows.map((row) => row.hardwareTag)).toEqual(['jetson-orin', 'rpi5', 'x86-avx512']);
    // Scaled by runner speed: the Raspberry Pi is the slowest, the x86 server the fastest.
    const measured = Object.fromEntries(aggregate.rows.map((row) => [row.hardwareTag, row.measuredMs]));
    expect(measured['rpi5']!).toBeGreaterThan(measured['jetson-orin']!);
    expect(measured['jetson-orin']!).toBeGreaterThan(measured['x86-avx512']!);
  });

  it('the latency table recorded on this machine reads as a table, its latencies following FLOPs', () => {
    const file = path.join(FIXTURES, 'latency', 'this-machine.csv');
    expect(existsSync(file), 'run npx tsx scripts/make-fixtures.ts --measure').toBe(true);
    const table = parseLatencyTable(readFileSync(file, 'utf8'), file, spaceById('nb201'));
    const latencies = table.latencies.get('this_machine')!;
    const codes = [...latencies.keys()].filter((code) => Number.isFinite(latencies[code]!));
    expect(codes.length).toBeGreaterThanOrEqual(24);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(1);
    const flops = lines.map((line) => networkCounts(parseCell(line.split(',')[1]!), 'cifar10', true).flops);
    const ms = lines.map((line) => Number(line.split(',')[2]));
    expect(ms.every((value) => value > 0)).toBe(true);
    expect(spearman(flops, ms)).toBeGreaterThan(0.5);
  });
});
