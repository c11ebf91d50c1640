// Bad command lines and output paths end in exit code 2 with a message naming the option, the
// file and what is accepted, never a stack trace: calibration folders with entries that cannot be
// read or decoded, empty or unwritable --out paths (fast even where mkdir -p would hang: /proc),
// option messages that state the accepted values, and warnings for options the device ignores.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { UsageError } from '../src/errors.js';
import { ensureWritableFile, ensureWritableFolder } from '../src/util/folders.js';
import { runCliCaptured } from './support/cli.js';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'simnas-cli-errors-'));
const CELL = '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|';

afterEach(() => {
  vi.restoreAllMocks();
});

const cli = runCliCaptured;

/** A calibration folder: 63 tiny valid PNGs plus `bad` (the 64th file NASWOT's batch reads). */
function calibrationFolder(bad: (file: string) => void): string {
  const dir = tempDir();
  const png = new PNG({ width: 4, height: 4 });
  png.data.fill(128);
  const bytes = PNG.sync.write(png);
  for (let n = 0; n < 63; n++) writeFileSync(path.join(dir, `img${String(n).padStart(2, '0')}.png`), bytes);
  bad(path.join(dir, 'x.png'));
  return dir;
}

describe('--calibration-images with entries that are not readable images', () => {
  const validPng = (): Buffer => {
    const png = new PNG({ width: 4, height: 4 });
    return PNG.sync.write(png);
  };

  it.each([
    ['a dangling link', (file: string) => symlinkSync('/nonexistent/image.png', file), /it does not exist/],
    ['a folder', (file: string) => mkdirSync(file), /it is a folder/],
  ])('names %s and what is accepted', async (_label, bad, why) => {
    const dir = calibrationFolder(bad);
    const run = await cli('proxies', 'show', CELL, '--no-table', '--calibration-images', dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot read '${path.join(dir, 'x.png')}'`);
    expect(run.stderr).toMatch(why);
    expect(run.stderr).toContain('expected readable PNG/JPEG files (.png, .jpg, .jpeg)');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['a truncated PNG', () => validPng().subarray(0, 40), /truncated PNG data/],
    ['a text file', () => Buffer.from('not an image'), /neither a PNG nor a JPEG signature/],
  ])('wraps the decoder error for %s in our words', async (_label, bytes, why) => {
    const dir = calibrationFolder((file) => writeFileSync(file, bytes()));
    const run = await cli('proxies', 'show', CELL, '--no-table', '--calibration-images', dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`'${path.join(dir, 'x.png')}': not a readable PNG/JPEG image (`);
    expect(run.stderr).toMatch(why);
    expect(run.stderr).not.toMatch(/waitng/);
  });
});

describe('output paths', () => {
  it.each([
    ['search', '--out'],
    ['aggregate', 'reports', '--out'],
    ['aggregate', 'reports', '--into'],
    ['measure-table', '--out'],
    ['search', '--calibration-images'],
  ])('refuses an empty path at option parsing: %s ... %s ""', async (...args) => {
    const run = await cli(...args, '');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^simnas: --[a-z-]+: an empty value; expected a (file or )?folder path/);
  });

  it.skipIf(process.platform !== 'linux')('refuses --out /proc/nope at once instead of hanging', async () => {
    const started = Date.now();
    const run = await cli('search', '--out', '/proc/nope/report');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--out '\/proc\/nope\/report': cannot write there: cannot create '\/proc\/nope'/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    [
      'under a file',
      (dir: string) => path.join(dir, 'notes.md', 'x.md'),
      /'.*notes\.md' is a file, not a folder/,
    ],
    ['an existing folder', (dir: string) => dir, /cannot write it: it is a folder, not a file/],
  ])('aggregate: exits 2 for an --out %s, saying why it cannot be written', async (_label, out, why) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'notes.md'), 'Release 1.2.3\n');
    // The output path is checked before any report is read, so no report is needed here.
    const run = await cli('aggregate', dir, '--out', out(dir));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--out '${out(dir)}': cannot write it`);
    expect(run.stderr).toMatch(why);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('creates missing folders, and refuses a file where a folder is wanted', () => {
    const dir = tempDir();
    ensureWritableFolder(path.join(dir, 'a', 'b'), '--out');
    expect(() => ensureWritableFile(path.join(dir, 'a', 'b', 'c', 'x.md'), '--out')).not.toThrow();
    const file = path.join(dir, 'file');
    writeFileSync(file, 'text');
    expect(() => ensureWritableFolder(file, '--out')).toThrow(UsageError);
    expect(() => ensureWritableFolder(path.join(file, 'sub'), '--out')).toThrow(
      `'${file}' is a file, so no folder can be created in it`,
    );
    expect(() => ensureWritableFile(path.join(file, 'x.md'), '--out')).toThrow(
      `'${file}' is a file, not a folder`,
    );
    expect(() => ensureWritableFile(dir, '--into')).toThrow(
      `--into '${dir}': cannot write it: it is a folder`,
    );
    expect(readFileSync(file, 'utf8')).toBe('text');
  });
});

describe('option messages', () => {
  it('gives a percentile example for an empty --budgets', async () => {
    const run = await cli('bench', 'search', '--table', 't.csv', '--accuracy', 'a.csv', '--budgets', ',');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/expected comma-separated budget percentiles, e\.g\. p25,p50,p75/);
  });

  it.each(['0', '1', '201', 'ten'])('states the accepted range for --samples %s', async (samples) => {
    const run = await cli('search', '--samples', samples);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/expected an integer from 2 to 200/);
  });
});

describe('options of the other device kind', () => {
  // A file as --out stops the search right after the option checks, before any measurement.
  const outFile = (): string => {
    const file = path.join(tempDir(), 'file');
    writeFileSync(file, '');
    return file;
  };

  it('warns that --provider and --threads are ignored for a recorded device', async () => {
    const device = 'table:devices.csv:board';
    const run = await cli(
      'search',
      '--device',
      device,
      '--provider',
      'foo',
      '--threads',
      '2',
      '--out',
      outFile(),
    );
    expect(run.stderr).toContain(
      `warning: --provider applies only to --device live; ignored for the recorded device '${device}'\n`,
    );
    expect(run.stderr).toContain('warning: --threads applies only to --device live');
  });

  it('warns that --noise is ignored for the live device, and says nothing without it', async () => {
    const noisy = await cli('search', '--noise', '0.03', '--out', outFile());
    expect(noisy.stderr).toMatch(
      /^warning: --noise applies only to a recorded device .*; ignored for --device live$/m,
    );
    const quiet = await cli('search', '--out', outFile());
    expect(quiet.code).toBe(2);
    expect(quiet.stderr).not.toMatch(/warning/);
  });
});

describe('search --space', () => {
  it('refuses what a space cannot do before measuring anything, and an unknown space', async () => {
    const out = path.join(tempDir(), 'r');
    const dataset = await cli('search', '--space', 'fbnet', '--dataset', 'cifar10', '--out', out);
    expect(dataset.code).toBe(2);
    expect(dataset.stderr).toMatch(
      /--dataset: 'cifar10' is not a dataset of the fbnet space; expected one of cifar100, imagenet/,
    );
    const exhaustive = await cli('search', '--space', 'fbnet', '--strategy', 'exhaustive', '--out', out);
    expect(exhaustive.code).toBe(2);
    expect(exhaustive.stderr).toMatch(
      /--strategy exhaustive cannot search the fbnet space: its task scores are computed on demand/,
    );
    const controller = await cli('search', '--space', 'macro', '--strategy', 'controller', '--out', out);
    expect(controller.code).toBe(2);
    expect(controller.stderr).toMatch(
      /no bundled controller for cifar10 in the macro space .*pretrain one with 'simnas pretrain --space macro --dataset cifar10'/,
    );
    expect(controller.stderr).not.toMatch(/\n\s+at /);
    const unknown = await cli('search', '--space', 'nb202');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--space: 'nb202' is not accepted; expected one of nb201, fbnet, macro/);
  });
});
