// What the report shows (src/report): the sample that competes beside the verified cells marked as
// a sample, the command that repeats a run, the controller without the runner's paths, and the
// SVG chart's labelled budget rule and data-fitted latency axis.
import path from 'node:path';

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';

import { addSearchOptions, searchOptionsFrom } from '../src/cli/search-commands.js';
import { bundledControllerPath, controllerLocation } from '../src/pipeline/index.js';
import { latencyAxis, tradeoffSvg } from '../src/report/chart.js';
import { renderMarkdown, reproduceCommand } from '../src/report/markdown.js';
import { chartPoints } from '../src/report/report.js';
import { handmadeReport } from './support/report-fixtures.js';
import { nb201Space } from '../src/spaces/nb201/space.js';

/** Splits a POSIX shell command line into words (single quotes and backslash escapes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (char === '\\') {
      word = (word ?? '') + line[++i]!;
    } else if (char === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The search options the CLI would build from a reproduce command line. */
function parsedBack(command: string): ReturnType<typeof searchOptionsFrom> {
  const words = shellWords(command);
  expect(words.slice(0, 2)).toEqual(['simnas', 'search']);
  const search = addSearchOptions(new Command('search')).exitOverride();
  search.parse(words.slice(2), { from: 'user' });
  return searchOptionsFrom(search.opts() as Parameters<typeof searchOptionsFrom>[0]);
}

/** The line of report.md that starts with `prefix`. */
const lineOf = (markdown: string, prefix: string): string =>
  markdown.split('\n').find((line) => line.startsWith(prefix)) ?? '';

describe('report.md', () => {
  it('marks the sample among the measured candidates and shows its model value as a fit', () => {
    const report = handmadeReport();
    const markdown = renderMarkdown(report);
    const rows = markdown.split('\n').filter((line) => line.startsWith('| `') && line.includes(' ms | '));
    const sampleCell = report.verified[5]!.cell.replaceAll('|', '\\|');
    const sampleRow = rows.find((row) => row.includes(sampleCell) && row.includes('(sample)'));
    expect(sampleRow).toBeDefined();
    expect(sampleRow).toContain('fitted 1.71 ms');
    expect(sampleRow).not.toContain('±');
    // The five verified cells keep their predictions, unmarked.
    const verifiedRows = rows.filter(
      (row) =>
        report.verified.slice(0, 5).some((v) => row.includes(v.cell.replaceAll('|', '\\|'))) &&
        row.includes('±'),
    );
    expect(verifiedRows).toHaveLength(5);
    expect(verifiedRows.every((row) => !row.includes('(sample)'))).toBe(true);
    expect(markdown).toContain('(5 verified + 1)');
    // A verified winner shows its prediction; a sample winner says it is a sample instead.
    expect(lineOf(markdown, '| 2.10 ms')).toContain('predicted 2.20 ms ± 0.200 ms');
    const sampleWins = renderMarkdown(handmadeReport({ sampleWins: true }));
    expect(lineOf(sampleWins, '| 1.70 ms')).toContain('a sample cell, measured to fit the model');
    expect(lineOf(sampleWins, '| 1.70 ms')).not.toContain('predicted');
  });

  it('gives a command that repeats a table run: device spec, noise, strategy, samples, verify, budget, seed', () => {
    const report = handmadeReport();
    const line = lineOf(renderMarkdown(report), '**Reproduce**');
    const command = reproduceCommand(report);
    expect(line).toContain(`\`${command}\``);
    expect(command).toContain('--device table:../shared/data/nb201/nb201_latency_help.csv:gold_6240');
    expect(command).toContain('--noise 0.03');
    // The CLI parses it back into the run's own options.
    expect(parsedBack(command)).toMatchObject({
      dataset: 'cifar10',
      budgetMs: 2.5,
      samples: 10,
      verify: 5,
      strategy: 'controller',
      seed: 7,
      device: {
        kind: 'table',
        path: '../shared/data/nb201/nb201_latency_help.csv',
        column: 'gold_6240',
        noise: 0.03,
      },
    });
  });

  it('leaves the budget out for a knee target, and quotes a table path with spaces', () => {
    const report = handmadeReport({
      budgetSource: 'knee',
      device: { kind: 'table', name: 'my col', table: "/data/it's here/t.csv", noise: 0 },
    });
    const options = parsedBack(reproduceCommand(report));
    expect(options.budgetMs).toBeUndefined();
    expect(options.device).toEqual({
      kind: 'table',
      path: "/data/it's here/t.csv",
      column: 'my col',
      noise: 0,
    });
  });

  it('names the bundled controller without a path, and another by its path and hash', () => {
    const bundled = lineOf(renderMarkdown(handmadeReport()), '**Controller**');
    expect(bundled).toBe(
      '**Controller**: bundled (cifar10), sha256 `0123456789abcdef`, pretrained by simnas 0.1.0.',
    );
    const report = handmadeReport();
    const own = {
      ...report,
      controller: { ...report.controller!, path: 'my/controller.json', bundled: false },
    };
    expect(lineOf(renderMarkdown(own), '**Controller**')).toContain('`my/controller.json`, sha256');
    expect(reproduceCommand(own)).toContain('--controller my/controller.json');
  });
});

describe('controller location in a report', () => {
  it('never gives an absolute path: bundled, relative to the working directory, or the file name', () => {
    const cwd = path.resolve('/work/project');
    expect(
      controllerLocation(bundledControllerPath(nb201Space, 'cifar100'), nb201Space, 'cifar100', cwd),
    ).toEqual({
      path: 'controllers/cifar100.json',
      bundled: true,
    });
    expect(controllerLocation(path.join(cwd, 'models', 'c.json'), nb201Space, 'cifar10', cwd)).toEqual({
      path: 'models/c.json',
      bundled: false,
    });
    expect(controllerLocation('models/c.json', nb201Space, 'cifar10', cwd)).toEqual({
      path: 'models/c.json',
      bundled: false,
    });
    expect(controllerLocation('/runner/_work/_temp/cache/cifar10.json', nb201Space, 'cifar10', cwd)).toEqual({
      path: 'cifar10.json',
      bundled: false,
    });
  });
});

/** The x-axis tick labels of a Vega SVG and their positions (the first axis drawn is x). */
function xTicks(svg: string): { value: number; x: number }[] {
  const group = /<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/s.exec(svg)![1]!;
  return [...group.matchAll(/translate\(([\d.]+),15\)[^>]*>([^<]+)<\/text>/g)].map((m) => ({
    x: Number(m[1]),
    value: Number(m[2]),
  }));
}

/** The latency at the right end of the plot, from two ticks of the log axis and its 560 px width. */
function axisMax(svg: string): number {
  const ticks = xTicks(svg);
  const [a, b] = [ticks[0]!, ticks.at(-1)!];
  const pxPerLog = (b.x - a.x) / Math.log(b.value / a.value);
  return a.value * Math.exp((560 - a.x) / pxPerLog);
}

describe('pareto.svg', () => {
  it('labels the budget rule and gives it a legend entry', async () => {
    const svg = await tradeoffSvg(chartPoints(handmadeReport()), { title: 't', budgetMs: 2.5 });
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    // Once beside the rule, once in the legend.
    expect(texts.filter((t) => t === 'budget 2.50 ms')).toHaveLength(2);
    expect(svg).toMatch(/role-legend-symbol[^>]*><path[^>]*stroke="#d62728"[^>]*stroke-dasharray="6,4"/);
    const knee = await tradeoffSvg(chartPoints(handmadeReport({ budgetSource: 'knee' })), {
      title: 't',
      budgetMs: 9.8,
      budgetSource: 'knee',
    });
    expect(knee).toContain('>knee target 9.80 ms</text>');
  });

  it('ends the latency axis near the data, not at the next power of ten', async () => {
    const short = await tradeoffSvg(chartPoints(handmadeReport()), { title: 't', budgetMs: 2.5 });
    // Every point of the fixture report lies within 0.8-3.5 ms; before, the axis ran to 10 ms.
    const points = chartPoints(handmadeReport()).map((p) => p.latencyMs);
    expect(axisMax(short)).toBeGreaterThanOrEqual(Math.max(...points));
    expect(axisMax(short)).toBeLessThan(Math.max(...points) * 1.2);
    expect(Math.max(...xTicks(short).map((t) => t.value))).toBeLessThan(10);
    const wide = await tradeoffSvg(
      chartPoints(handmadeReport({ latenciesMs: [3, 5, 8, 13, 22], budgetMs: 12 })),
      { title: 't', budgetMs: 12 },
    );
    expect(axisMax(wide)).toBeGreaterThanOrEqual(22);
    expect(axisMax(wide)).toBeLessThan(22 * 1.2);
  });

  it('ticks at 1-2-5 steps over a wide range, and every unit step within a narrow one', () => {
    expect(latencyAxis([0.3, 22]).ticks).toEqual([0.5, 1, 2, 5, 10, 20]);
    expect(latencyAxis([1.3, 2.8]).ticks).toEqual([2, 3]);
    expect(latencyAxis([0.9, 2.8]).ticks).toEqual([0.9, 1, 2, 3]);
    expect(latencyAxis([3.3, 22]).ticks).toEqual([4, 5, 6, 7, 8, 9, 10, 20]);
  });
});
