// `--space` on the commands that take an architecture or measure: describe and cell print the
// layer table and counts, measure and measure-table build the space's own networks (FBNet tables
// keep the index of the CSV they were listed from, resume, and replay as a recorded device), and what a space lacks is refused
// with exit code 2 and a message that says what to do.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { createDevice } from '../src/pipeline/device.js';
import { spaceById } from '../src/spaces/index.js';
import { numberingOf } from '../src/spaces/numbering.js';
import { silentLogger } from '../src/util/log.js';
import { Random } from '../src/util/random.js';
import { runCliCaptured } from './support/cli.js';

const fbnet = spaceById('fbnet');
const FBNET_ARCH = fbnet.format(fbnet.sample(new Random(1)));
const QUICK = ['--rounds', '3', '--warmup', '1'];

describe('--space on the space commands', () => {
  it('describes a Macro network with the published params and MACs, and its layers', async () => {
    const run = await runCliCaptured(
      'describe',
      '--space',
      'macro',
      'id-id-id-id-id-id-id-ir_3x3_t3',
      '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      paramsM: number;
      flopsM: number;
      dataset: string;
      layers: unknown[];
    };
    expect(result).toMatchObject({ paramsM: 0.791594, flopsM: 14.115328, dataset: 'cifar10' });
    expect(result.layers).toHaveLength(8);
  });

  it('describes an FBNet network on ImageNet as a table of stages, channels and strides', async () => {
    const run = await runCliCaptured('describe', '--space', 'fbnet', '--dataset', 'imagenet', FBNET_ARCH);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /\(FBNet \(HW-NAS-Bench\), imagenet\)\nparams \d+\.\d{6} M {2}MACs \d+\.\d{6} M/,
    );
    expect(run.stdout).toMatch(/layer {2}stage {2}channels {2}stride {2}input {4}block/);
    expect(run.stdout).toMatch(/\n {4}2 {6}2 {2}16->24 {9}2 {2}112x112/);
  });

  it('refuses a bad architecture, dataset or space with exit code 2, saying what is accepted', async () => {
    const short = await runCliCaptured('cell', '--space', 'fbnet', FBNET_ARCH.split('-').slice(1).join('-'));
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/found 21 layer\(s\), expected 22 .*k3_e1, k3_e1_g2/);
    const dataset = await runCliCaptured(
      'describe',
      '--space',
      'macro',
      '--dataset',
      'cifar100',
      'id-id-id-id-id-id-id-id',
    );
    expect(dataset.code).toBe(2);
    expect(dataset.stderr).toMatch(/'cifar100' is not a dataset of the macro space; expected one of cifar10/);
    const space = await runCliCaptured('describe', '--space', 'darts', 'x');
    expect(space.code).toBe(2);
    expect(space.stderr).toMatch(/--space: 'darts' is not accepted; expected one of nb201, fbnet, macro/);
    // Proxies are computed on demand in every space; a 21-layer FBNet string is refused first.
    const shortArch = FBNET_ARCH.split('-').slice(1).join('-');
    const proxies = await runCliCaptured('proxies', 'show', '--space', 'fbnet', shortArch);
    expect(proxies.code).toBe(2);
    expect(proxies.stderr).toMatch(/found 21 layer\(s\), expected 22/);
  });

  it('exports FBNet-C as an ONNX network onnxruntime runs, with the config FBNet_Infer takes', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'simnas-export-'));
    const fbnetC = fbnet.references.find((r) => r.name === 'FBNet-C')!.architecture;
    const onnx = join(folder, 'fbnet-c.onnx');
    const run = await runCliCaptured('export', '--space', 'fbnet', fbnetC, '--onnx', onnx, '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { publicForm: { config: Record<string, unknown> } };
    expect(result.publicForm.config).toEqual({
      op_idx_list: fbnet.parse(fbnetC),
      num_classes: 100,
      dataset: 'cifar100',
    });
    const session = await ort.InferenceSession.create(readFileSync(onnx));
    const input = new ort.Tensor('float32', new Float32Array(3 * 32 * 32).fill(0.5), [1, 3, 32, 32]);
    const output = await session.run({ [session.inputNames[0]!]: input });
    expect(output[session.outputNames[0]!]!.dims).toEqual([1, 100]);
    await session.release();

    const cell = spaceById('nb201').references[0]!.architecture;
    const nb201 = await runCliCaptured('export', cell, '--dataset', 'ImageNet16-120');
    expect(nb201.code).toBe(0);
    expect(nb201.stdout).toContain(`"arch_str":"${cell}"`);
    expect(nb201.stdout).toContain('"num_classes":120');

    const short = await runCliCaptured('export', '--space', 'fbnet', fbnetC.split('-').slice(1).join('-'));
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/found 21 layer\(s\), expected 22/);
    const unwritable = await runCliCaptured('export', cell, '--onnx', join(folder, 'missing', 'x.onnx'));
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/--onnx: cannot write/);
  });

  it('gives a Macro architecture its published code as key', async () => {
    const run = await runCliCaptured(
      'cell',
      '--space',
      'macro',
      'id-ir_3x3_t3-ir_5x5_t6-id-id-id-id-id',
      '--json',
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ key: '01200000', code: 1 * 3 + 2 * 9 });
  });
});

describe('--space on measurement', () => {
  it('measures random FBNet architectures with their keys', async () => {
    const run = await runCliCaptured('measure', '--space', 'fbnet', '--sample', '2', ...QUICK, '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      space: string;
      cellSource: string;
      measurement: {
        protocol: { dataset: string };
        cells: { cell: string; key: string; code: null; medianMs: number }[];
      };
    };
    expect(result).toMatchObject({ space: 'fbnet', cellSource: 'random' });
    expect(result.measurement.protocol.dataset).toBe('cifar100');
    expect(result.measurement.cells).toHaveLength(2);
    for (const cell of result.measurement.cells) {
      expect(cell.key).toBe(fbnet.key(fbnet.parse(cell.cell)));
      expect(cell.code).toBeNull();
      expect(cell.medianMs).toBeGreaterThan(0);
    }
  });

  it('records an FBNet table from a CSV of architectures, keeping its index, resumes it and replays it', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'simnas-fbnet-table-'));
    const archs = join(folder, 'archs.csv');
    const listed = [2, 3, 4].map((seed) => fbnet.format(fbnet.sample(new Random(seed))));
    writeFileSync(
      archs,
      `index,arch,pixel9\n${listed.map((arch, i) => `${10 + i},${arch},1.5`).join('\n')}\n`,
    );
    const out = join(folder, 'here.csv');
    const record = (limit: string) =>
      runCliCaptured(
        'measure-table',
        '--space',
        'fbnet',
        '--archs',
        archs,
        '--out',
        out,
        '--column',
        'here',
        '--limit',
        limit,
        '--chunk',
        '1',
        ...QUICK,
        '--json',
      );
    const first = await record('2');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ measuredNow: 2, networksDone: 2, networksTotal: 3 });
    const second = await record('5');
    expect(JSON.parse(second.stdout)).toMatchObject({ measuredNow: 1, networksDone: 3, cellsDone: 3 });
    const [settings, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
    expect(settings).toMatch(/^# simnas measure-table: dataset=cifar100 batch=1 /);
    expect(lines[0]).toBe('index,arch,here');
    expect(lines.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual(
      listed.map((arch, i) => `${10 + i},${arch}`),
    );
    for (const line of lines.slice(1)) expect(Number(line.split(',')[2])).toBeGreaterThan(0);

    // The table replays as a recorded device (what `--device table:CSV:here` builds), keyed by `arch`.
    const recorded = lines.slice(1).map((line) => Number(line.split(',')[2]));
    const device = createDevice(
      { kind: 'table', path: out, column: 'here', noise: 0 },
      numberingOf(fbnet),
      'cifar100',
      0,
      silentLogger,
    );
    const parsed = listed.map((arch) => fbnet.parse(arch));
    expect([...(await device.measure(parsed.toReversed())).latenciesMs]).toEqual(recorded.toReversed());
    const unlisted = fbnet.sample(new Random(99));
    expect(device.hasData?.(unlisted)).toBe(false);
    await expect(device.measure([unlisted])).rejects.toThrow(
      `${out}: column 'here' has no latency for ${fbnet.format(unlisted)}`,
    );
    // An NB201 table read as FBNet says which column it lacks.
    writeFileSync(join(folder, 'nb201.csv'), 'index,arch_str,here\n');
    expect(() =>
      createDevice(
        { kind: 'table', path: join(folder, 'nb201.csv'), column: 'here', noise: 0 },
        numberingOf(fbnet),
        'cifar100',
        0,
        silentLogger,
      ),
    ).toThrow(
      /row 1 \(header\) has no 'arch' column \(found: 'index', 'arch_str', 'here'\); expected a header 'index,arch,<device columns>'/,
    );
  });

  it('refuses to record the whole FBNet space', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'simnas-fbnet-table-')), 'all.csv');
    const run = await runCliCaptured('measure-table', '--space', 'fbnet', '--out', out, '--column', 'here');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot be recorded whole; pass --archs CSV/);
  });

  it('times building and loading Macro networks', async () => {
    const run = await runCliCaptured('bench', 'onnx', '--space', 'macro', '--cells', '2', '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      space: string;
      samples: number;
      median: { sessionMs: number };
    };
    expect(result).toMatchObject({ space: 'macro', samples: 2 });
    expect(result.median.sessionMs).toBeGreaterThan(0);
  });
});
