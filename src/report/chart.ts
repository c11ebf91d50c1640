// Charts of the latency / task-score tradeoff. The SVG (report files, job summary links) is drawn
// by Vega-Lite; PR comments cannot show SVG or data-URI images, so they get a Mermaid chart of the
// Pareto front, which GitHub renders from text.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ChartPoint {
  readonly cell: string;
  readonly latencyMs: number;
  readonly taskScore: number;
  /** How the latency was obtained. */
  readonly latencySource: 'measured' | 'predicted';
  readonly onFront: boolean;
  readonly recommended?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly budgetMs?: number;
  /** What the vertical rule marks: a budget the user gave, or the knee target chosen without one. */
  readonly budgetSource?: 'given' | 'knee';
}

/** The text beside the rule and in the legend, e.g. `budget 3.50 ms` or `knee target 9.80 ms`. */
export function budgetLabel(budgetMs: number, source: 'given' | 'knee' = 'given'): string {
  return `${source === 'knee' ? 'knee target' : 'budget'} ${budgetMs.toPrecision(3)} ms`;
}

/**
 * Padding of the log latency axis beyond the data, as a factor on each side: enough that the
 * extreme points do not sit on the frame. Vega's `nice` rounds a log domain out to whole decades,
 * which left a third or more of the plot empty (data ending at 2.8 ms on an axis to 10 ms).
 */
const AXIS_PAD = 1.08;

/** The latency axis: the data's range (and the rule's) padded a little, with 1-2-5 ticks in it. */
export function latencyAxis(latenciesMs: readonly number[]): { domain: [number, number]; ticks: number[] } {
  const positive = latenciesMs.filter((ms) => ms > 0 && Number.isFinite(ms));
  if (positive.length === 0) return { domain: [0.1, 10], ticks: [0.1, 1, 10] };
  const low = Math.min(...positive) / AXIS_PAD;
  const high = Math.max(...positive) * AXIS_PAD;
  const within = (steps: readonly number[]): number[] => {
    const ticks: number[] = [];
    for (let decade = Math.floor(Math.log10(low)); decade <= Math.ceil(Math.log10(high)); decade++) {
      for (const step of steps) {
        // Rounded to the step's own precision, so labels read 0.2, not 0.20000000000000004.
        const tick = Number((step * 10 ** decade).toPrecision(6));
        if (tick >= low && tick <= high) ticks.push(tick);
      }
    }
    return ticks;
  };
  // 1-2-5 over a wide range; every integer multiple when that leaves too few to read the scale by
  // (3-24 ms would get only 5, 10, 20), unless that crowds the axis.
  const coarse = within([1, 2, 5]);
  const fine = within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const ticks = coarse.length >= 4 || fine.length > 12 ? coarse : fine;
  return { domain: [low, high], ticks };
}

/**
 * A standalone SVG scatter of every point, the front as a step line, and the budget (or knee
 * target) as a labelled rule with its own legend entry.
 */
export async function tradeoffSvg(points: readonly ChartPoint[], options: ChartOptions): Promise<string> {
  const values = points.map((p) => ({
    ...p,
    series: p.recommended ? 'recommended' : `${p.latencySource}${p.onFront ? ' (front)' : ''}`,
  }));
  const axis = latencyAxis([
    ...points.map((p) => p.latencyMs),
    ...(options.budgetMs === undefined ? [] : [options.budgetMs]),
  ]);
  const x = {
    field: 'latencyMs',
    type: 'quantitative',
    title: 'latency (ms)',
    scale: { type: 'log', domain: axis.domain, nice: false },
    axis: { values: axis.ticks, format: '~g' },
  } as const;
  const y = {
    field: 'taskScore',
    type: 'quantitative',
    title: 'task score (proxy, higher is better)',
    scale: { zero: false },
  } as const;
  const rule =
    options.budgetMs === undefined ? undefined : budgetLabel(options.budgetMs, options.budgetSource);
  const ruleColor = '#d62728';
  // The label sits on the side of the rule with more room, so it never runs off the plot.
  const [low, high] = axis.domain.map(Math.log);
  const labelLeft =
    options.budgetMs !== undefined && (Math.log(options.budgetMs) - low!) / (high! - low!) > 0.6;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: 560,
    height: 320,
    data: { values },
    layer: [
      {
        transform: [{ filter: 'datum.onFront' }],
        mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeDash: [4, 3] },
        encoding: { x, y },
      },
      {
        mark: { type: 'point', filled: true, size: 40, opacity: 0.8 },
        encoding: {
          x,
          y,
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            scale: {
              domain: ['predicted', 'predicted (front)', 'measured', 'measured (front)', 'recommended'],
              range: ['#c6dbef', '#4292c6', '#fdd0a2', '#e6550d', '#31a354'],
            },
          },
          shape: { field: 'latencySource', type: 'nominal', title: 'latency' },
          tooltip: [{ field: 'cell' }, { field: 'latencyMs' }, { field: 'taskScore' }],
        },
      },
      ...(rule === undefined
        ? []
        : [
            {
              data: { values: [{ budget: options.budgetMs, label: rule }] },
              // The dash pattern carries the legend entry: its own scale, so the points' colour
              // legend is untouched and the entry is drawn as the dashed line itself.
              mark: { type: 'rule' as const, color: ruleColor },
              encoding: {
                x: { field: 'budget', type: 'quantitative' as const, scale: x.scale },
                strokeDash: {
                  field: 'label',
                  type: 'nominal' as const,
                  title: null,
                  scale: { domain: [rule], range: [[6, 4]] },
                  legend: { symbolType: 'stroke', symbolStrokeColor: ruleColor },
                },
              },
            },
            {
              data: { values: [{ budget: options.budgetMs, label: rule }] },
              mark: {
                type: 'text' as const,
                color: ruleColor,
                align: labelLeft ? ('right' as const) : ('left' as const),
                baseline: 'top' as const,
                dx: labelLeft ? -4 : 4,
                y: 4,
              },
              encoding: {
                x: { field: 'budget', type: 'quantitative' as const, scale: x.scale },
                text: { field: 'label', type: 'nominal' as const },
              },
            },
          ]),
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A Mermaid xychart of the front: task score against latency, fastest first. */
export function frontMermaid(front: readonly ChartPoint[], options: ChartOptions): string {
  const sorted = [...front].sort((a, b) => a.latencyMs - b.latencyMs);
  const labels = sorted.map(
    (p) => `"${p.latencyMs.toPrecision(3)}${p.latencySource === 'measured' ? '*' : ''}"`,
  );
  const scores = sorted.map((p) => p.taskScore.toFixed(4));
  const low = Math.min(...sorted.map((p) => p.taskScore));
  const high = Math.max(...sorted.map((p) => p.taskScore));
  const pad = Math.max(1e-3, (high - low) * 0.1);
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${options.title.replaceAll('"', "'")}"`,
    `  x-axis "latency (ms, * measured)" [${labels.join(', ')}]`,
    `  y-axis "task score" ${(low - pad).toFixed(3)} --> ${(high + pad).toFixed(3)}`,
    `  line [${scores.join(', ')}]`,
    '```',
  ].join('\n');
}
