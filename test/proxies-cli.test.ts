// `simnas proxies show`: values from the table with their source, JSON, and exit code 2 with a
// message naming the problem for a bad cell, dataset or calibration folder; `simnas bench proxies`
// refuses a table another algorithm wrote.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { runCli } from '../src/cli/program.js';
import { readTable, defaultTablePath, PROXY_ALGORITHM } from '../src/spaces/nb201/proxies/table.js';
import { decodeCell, formatCell, isConnected } from '../src/spaces/nb201/cell.js';
import { capture } from './support/capture.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('simnas proxies show', () => {
  it('prints the table values of a covered cell as JSON', async () => {
    const table = readTable(defaultTablePath());
    const code = table.codes().find((c) => isConnected(decodeCell(c)))!;
    const stdout = capture(process.stdout);
    capture(process.stderr);
    const cell = formatCell(decodeCell(code));
    expect(await runCli(['node', 'simnas', 'proxies', 'show', cell, '--dataset', 'cifar100', '--json'])).toBe(
      0,
    );
    const printed = JSON.parse(stdout()) as {
      cell: string;
      results: { dataset: string; source: string; values: { logsynflow: number }; taskScore: number }[];
    };
    expect(printed.cell).toBe(cell);
    expect(printed.results[0]!.source).toBe('table');
    expect(printed.results[0]!.values.logsynflow).toBe(table.lookup(code, 'cifar100')!.logsynflow);
  });

  it.each([
    [['bad-cell'], /invalid cell 'bad-cell'/],
    [['--dataset', 'mnist'], /--dataset: 'mnist' is not a dataset; expected one of cifar10/],
    [
      ['--calibration-images', '/nonexistent/folder'],
      /--calibration-images '\/nonexistent\/folder': cannot read/,
    ],
  ])('exits 2 for %j', async (extra, message) => {
    const stderr = capture(process.stderr);
    capture(process.stdout);
    const cell =
      extra[0] === 'bad-cell'
        ? []
        : ['|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'];
    expect(await runCli(['node', 'simnas', 'proxies', 'show', ...cell, ...extra, '--no-table'])).toBe(2);
    expect(stderr()).toMatch(message);
  });
});

describe('simnas bench proxies', () => {
  it('exits 2 for a table another algorithm wrote, rather than print its figures as ours', async () => {
    const [metadata, ...rows] = readFileSync(defaultTablePath(), 'utf8').split('\n');
    const stale = join(mkdtempSync(join(tmpdir(), 'simnas-stale-')), 'old.jsonl');
    writeFileSync(stale, [metadata!.replace(PROXY_ALGORITHM, 'simnas-proxies-0'), ...rows].join('\n'));
    const stderr = capture(process.stderr);
    const stdout = capture(process.stdout);
    const args = ['bench', 'proxies', '--table', stale, '--accuracy', 'a.csv', '--reference', 'r.csv'];
    expect(await runCli(['node', 'simnas', ...args])).toBe(2);
    expect(stderr()).toMatch(/was computed by simnas-proxies-0, this is simnas-proxies-1; rebuild it/);
    expect(stdout()).toBe('');
  });
});
