// `simnas describe`: figures, live edges, JSON, and exit code 2 with a message on bad input.
import { afterEach, describe, expect, it, vi } from 'vitest';

import { runCli } from '../src/cli/program.js';
import { capture } from './support/capture.js';

const RESNET = '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('simnas describe', () => {
  it('prints nominal and deployed params and FLOPs and the live edges', async () => {
    const stdout = capture(process.stdout);
    expect(await runCli(['node', 'simnas', 'describe', RESNET])).toBe(0);
    const text = stdout();
    expect(text).toContain('nominal   params 0.559386 M  FLOPs 79.582912 M');
    expect(text).toContain('1<-0  nor_conv_3x3');
    expect(text).toContain('3<-2  skip_connect');
    expect(text).not.toContain('2<-0');
  });

  it('prints JSON for another dataset', async () => {
    const stdout = capture(process.stdout);
    expect(
      await runCli(['node', 'simnas', 'describe', RESNET, '--dataset', 'imagenet16-120', '--json']),
    ).toBe(0);
    const parsed = JSON.parse(stdout()) as {
      dataset: string;
      nominal: { paramsM: number };
      connected: boolean;
    };
    expect(parsed.dataset).toBe('ImageNet16-120');
    expect(parsed.nominal.paramsM).toBeCloseTo(0.566536, 6);
    expect(parsed.connected).toBe(true);
  });

  it('exits 2 with the reason for a bad cell or dataset', async () => {
    const stderr = capture(process.stderr);
    expect(
      await runCli(['node', 'simnas', 'describe', '|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|']),
    ).toBe(2);
    expect(stderr()).toMatch(/unknown op 'nor_conv_5x5'/);
    expect(await runCli(['node', 'simnas', 'describe', RESNET, '--dataset', 'mnist'])).toBe(2);
    expect(stderr()).toMatch(
      /--dataset: 'mnist' is not a dataset; expected one of cifar10, cifar100, ImageNet16-120/,
    );
  });
});
