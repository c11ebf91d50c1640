// Report folders are written whole: a failed run leaves the folder as it was and its partial
// results in `<folder>.partial`, which the error names; a successful one replaces it in one go,
// never deleting files that are not a report's.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { StagedFolder } from '../src/util/staged-folder.js';
import { runCliCaptured } from './support/cli.js';
import { syntheticDeviceTable } from './support/search-fixtures.js';

const tempDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'simnas-staged-'));

function oldReport(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'report.json'), '{"old": true}\n');
  writeFileSync(path.join(folder, 'samples.json'), '{"old": true}\n');
  writeFileSync(path.join(folder, 'review.json'), '{"old": true}\n');
}

describe('StagedFolder', () => {
  it('swaps a report folder whole: files the new run did not write are gone', async () => {
    const folder = path.join(tempDir(), 'simnas-report');
    oldReport(folder);
    await StagedFolder.open(folder, '--out').run(async (staging) => {
      expect(staging).toBe(`${folder}.partial`);
      writeFileSync(path.join(staging, 'report.json'), '{"new": true}\n');
      // The folder is untouched while the run is under way.
      expect(readFileSync(path.join(folder, 'report.json'), 'utf8')).toContain('old');
    });
    expect(readdirSync(folder)).toEqual(['report.json']);
    expect(readFileSync(path.join(folder, 'report.json'), 'utf8')).toContain('new');
    expect(existsSync(`${folder}.partial`)).toBe(false);
  });

  it('moves files into a folder that holds other files, and never deletes those', async () => {
    const folder = tempDir();
    oldReport(folder);
    writeFileSync(path.join(folder, 'notes.txt'), 'mine');
    await StagedFolder.open(folder, '--out').run(async (staging) => {
      writeFileSync(path.join(staging, 'report.json'), '{"new": true}\n');
    });
    expect(readdirSync(folder).sort()).toEqual(['notes.txt', 'report.json']);
    expect(readFileSync(path.join(folder, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('on failure keeps the folder, keeps what was written beside it, and says where', async () => {
    const folder = path.join(tempDir(), 'out');
    oldReport(folder);
    const failed = StagedFolder.open(folder, '--out').run(async (staging) => {
      writeFileSync(path.join(staging, 'samples.json'), '{"new": true}\n');
      throw new UsageError('the budget is below the fastest cell');
    });
    await expect(failed).rejects.toThrow(UsageError);
    await expect(failed).rejects.toThrow(
      `the budget is below the fastest cell; partial results are in '${folder}.partial' ('${folder}' is left as it was)`,
    );
    expect(readFileSync(path.join(folder, 'samples.json'), 'utf8')).toContain('old');
    expect(readFileSync(path.join(folder, 'report.json'), 'utf8')).toContain('old');
    expect(readFileSync(path.join(`${folder}.partial`, 'samples.json'), 'utf8')).toContain('new');
  });

  it('on a failure before anything is written leaves no trace, not even the folder it created', async () => {
    const folder = path.join(tempDir(), 'new-report');
    await expect(
      StagedFolder.open(folder, '--out').run(() => Promise.reject(new UsageError('bad table'))),
    ).rejects.toThrow(/^bad table$/);
    expect(existsSync(folder)).toBe(false);
    expect(existsSync(`${folder}.partial`)).toBe(false);
  });
});

describe('simnas search into an existing report folder', () => {
  it('a search refused after measuring leaves the old report whole and names the partial results', async () => {
    const dir = tempDir();
    const table = syntheticDeviceTable(dir, 'device.csv', { board: 7 });
    const folder = path.join(dir, 'report');
    oldReport(folder);
    const fastest = Math.min(...table.latencies.board!);
    const run = await runCliCaptured(
      'search',
      '--device',
      `table:${table.file}:board`,
      '--budget',
      `${(fastest / 10).toFixed(6)}ms`,
      '--out',
      folder,
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/below the fastest cell/);
    expect(run.stderr).toContain(`${folder}.partial`);
    expect(readFileSync(path.join(folder, 'samples.json'), 'utf8')).toContain('old');
    expect(readFileSync(path.join(folder, 'report.json'), 'utf8')).toContain('old');
    expect(JSON.parse(readFileSync(path.join(`${folder}.partial`, 'samples.json'), 'utf8'))).toMatchObject({
      samples: expect.any(Array),
    });
  });
});
