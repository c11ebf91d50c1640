// The hardware commands (`fingerprint`, `measure`, `measure-table`) end to end: exit code 2 with
// the accepted values for bad input, JSON output, and a resumable latency table.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { runCli } from '../src/cli/program.js';
import { readLatencyTable, RecordedDevice } from '../src/devices/recorded.js';
import { spaceById } from '../src/spaces/index.js';
import { decodeCell, effectiveCell, encodeCell, SPACE_SIZE } from '../src/spaces/nb201/cell.js';

const CELL = '|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|';

describe('hardware commands', () => {
  let stdout: string[];
  let stderr: string[];
  beforeEach(() => {
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const run = (...args: string[]) => runCli(['node', 'simnas', ...args]);

  it('rejects an unknown provider with exit code 2 and names the available ones', async () => {
    expect(await run('measure', CELL, '--provider', 'tpu')).toBe(2);
    expect(stderr.join('')).toMatch(/execution provider 'tpu' is not available.*available: cpu/);
  });

  it('rejects a malformed cell with exit code 2 and shows the accepted form', async () => {
    expect(await run('measure', '|nor_conv_3x3~0|+|bogus~0|')).toBe(2);
    expect(stderr.join('')).toMatch(/invalid cell .*Expected the NB201 form/);
  });

  it('rejects an unknown dataset with exit code 2 and lists the datasets', async () => {
    expect(await run('measure', '--dataset', 'mnist')).toBe(2);
    expect(stderr.join('')).toMatch(
      /--dataset: 'mnist' is not a dataset of the nb201 space; expected one of cifar10, cifar100, ImageNet16-120/,
    );
  });

  it('rejects cells together with --sample, and too few rounds', async () => {
    expect(await run('measure', CELL, '--sample', '3')).toBe(2);
    expect(stderr.join('')).toMatch(/either cells or a sample size/);
    expect(await run('measure', CELL, '--rounds', '2')).toBe(2);
    expect(stderr.join('')).toMatch(/rounds must be an integer in 3\.\./);
  });

  it('prints the fingerprint as JSON', async () => {
    expect(await run('fingerprint', '--json')).toBe(0);
    const fingerprint = JSON.parse(stdout.join('')) as { hash: string; tag: string };
    expect(fingerprint.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(fingerprint.tag.length).toBeGreaterThan(0);
  });

  it('measures a cell and prints one JSON object', async () => {
    const code = await run(
      'measure',
      CELL,
      '--dataset',
      'ImageNet16-120',
      '--rounds',
      '3',
      '--warmup',
      '1',
      '--json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout.join('')) as {
      cellSource: string;
      measurement: { cells: { cell: string; medianMs: number }[] };
    };
    expect(result.cellSource).toBe('given');
    expect(result.measurement.cells[0]!.cell).toBe(CELL);
    expect(result.measurement.cells[0]!.medianMs).toBeGreaterThan(0);
  });

  it('records a latency table a recorded device replays, resuming where it stopped', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'simnas-table-')), 'this.csv');
    const record = (limit: string) =>
      run(
        'measure-table',
        '--out',
        out,
        '--column',
        'here',
        '--limit',
        limit,
        '--chunk',
        '2',
        '--rounds',
        '3',
        '--warmup',
        '1',
        '--json',
      );
    expect(await record('3')).toBe(0);
    expect(await record('2')).toBe(0);
    const [first, second] = stdout.map(
      (line) => JSON.parse(line) as { measuredNow: number; networksDone: number },
    );
    expect(first).toMatchObject({ measuredNow: 3, networksDone: 3 });
    expect(second).toMatchObject({ measuredNow: 2, networksDone: 5 });
    const latencies = readLatencyTable(out, spaceById('nb201')).latencies.get('here')!;
    const measured = [...latencies.keys()].filter((code) => !Number.isNaN(latencies[code]!));
    // Every cell that deploys as a measured network carries that network's latency.
    const networks = new Set(measured.map((code) => encodeCell(effectiveCell(decodeCell(code)))));
    expect(networks.size).toBe(5);
    for (const code of measured) {
      expect(latencies[code]).toBe(latencies[encodeCell(effectiveCell(decodeCell(code)))]);
    }
    expect(latencies.length).toBe(SPACE_SIZE);
    const device = RecordedDevice.fromCsv(out, 'here', spaceById('nb201'));
    expect(device.availableCount()).toBe(measured.length);
  });

  it('refuses an --out it cannot write before measuring anything', async () => {
    const blocker = join(mkdtempSync(join(tmpdir(), 'simnas-table-')), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const out = join(blocker, 'table.csv');
    expect(await run('measure-table', '--out', out, '--column', 'here', '--limit', '1')).toBe(2);
    expect(stderr.join('')).toMatch(
      /--out '.*a-file.table\.csv': cannot write it: '.*a-file' is a file, not a folder/,
    );
    expect(stderr.join('')).not.toMatch(/networks to measure now/);
  });

  it('refuses to resume a table written for another column, naming it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'simnas-table-')), 'other.csv');
    writeFileSync(out, 'index,arch_str,pixel9\n');
    expect(await run('measure-table', '--out', out, '--column', 'here', '--limit', '1')).toBe(2);
    expect(stderr.join('')).toMatch(
      /other\.csv' exists with the column\(s\) 'pixel9'.*--column pixel9 to resume/,
    );
  });
});
