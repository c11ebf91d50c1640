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
}

/** A standalone SVG scatter of every point, the front as a step line, the budget as a rule. */
export async function tradeoffSvg(points: readonly ChartPoint[], options: ChartOptions): Promise<string> {
  const values = points.map((p) => ({
    ...p,
    series: p.recommended ? 'recommended' : `${p.latencySource}${p.onFront ? ' (front)' : ''}`,
  }));
  const x = {
    field: 'latencyMs',
    type: 'quantitative',
    title: 'latency (ms)',
    scale: { type: 'log' },
  } as const;
  const y = {
    field: 'taskScore',
    type: 'quantitative',
    title: 'task score (proxy, higher is better)',
    scale: { zero: false },
  } as const;
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
      ...(options.budgetMs === undefined
        ? []
        : [
            {
              data: { values: [{ budget: options.budgetMs }] },
              mark: { type: 'rule' as const, color: '#d62728', strokeDash: [6, 4] },
              encoding: { x: { field: 'budget', type: 'quantitative' as const } },
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
