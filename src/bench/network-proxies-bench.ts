// `simnas bench proxies --space S --accuracy CSV` for spaces without a proxy table (NAS-Bench-Macro,
// any layered space with trained accuracies): the on-demand proxies and the task score against the
// table's accuracy, with the NB201 benchmark's figures (rank correlations, top-1 pick, top-10 mean,
// FLOPs-constrained regret) and the cost of one evaluation. The score's weights were chosen on one
// random half of NAS-Bench-Macro (half A: the architectures whose key hashes to an even first
// byte); the figures are printed for all rows and for each half, so half B is the check.
// Beside the score stand its ablations: each proxy alone used as the score, and NB201's ratio of
// NASWOT to parameter count carried over.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { UsageError } from '../errors.js';
import { computeNetworkProxies, type NetworkProxyValues } from '../proxies/network-proxies.js';
import { NETWORK_SCORE_FORMULA, nb201RatioScore, networkTaskScore } from '../proxies/network-score.js';
import { NETWORK_SEEDS, createNetworkTaskScorer } from '../proxies/task-scorer.js';
import { syntheticImages } from '../proxies/images.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { parseArchitectureField, splitCsvLine } from '../util/csv.js';
import type { Logger } from '../util/log.js';
import { createProgress } from '../util/progress.js';
import { quote } from '../util/quote.js';
import { Random } from '../util/random.js';
import { kendall, median, quantile, spearman } from '../util/stats.js';
import { scoreFigures, type TaskScoreFigures } from './proxies-bench.js';

export interface NetworkProxiesBenchOptions {
  readonly space: SearchSpace;
  readonly accuracyCsv: string;
  /** Accuracy column (default mean_acc). */
  readonly accuracyColumn?: string;
  /** Score a seeded random sample of this many rows (default all). */
  readonly limit?: number;
  readonly sampleSeed?: number;
  /** Networks timed from scratch, without the cache (0 skips). */
  readonly timingNetworks: number;
  /** Proxy cache folder (null: memory only). */
  readonly cacheDir?: string | null;
  /** Random networks the task score is normalised over (default the scorer's). */
  readonly referenceSize?: number;
  readonly logger: Logger;
}

export interface NetworkProxyFigures {
  readonly name: string;
  readonly spearman: number;
  readonly kendall: number;
}

export interface NetworkProxiesBenchResult {
  readonly space: string;
  readonly dataset: string;
  readonly rows: number;
  readonly scored: number;
  readonly formula: string;
  readonly reference_networks: number;
  readonly proxies: readonly NetworkProxyFigures[];
  readonly task_score: TaskScoreFigures;
  /** The score on the two halves of the rows: A chose the weights, B is the check. */
  readonly halves: {
    readonly a: TaskScoreFigures;
    readonly b: TaskScoreFigures;
    readonly sizes: [number, number];
  };
  /** Each proxy alone as the score, and NB201's ratio of terms (the ablations). */
  readonly ablations: readonly { readonly name: string; readonly figures: TaskScoreFigures }[];
  readonly top1_arch: string;
  readonly on_demand_ms?: { readonly median: number; readonly p90: number; readonly networks: number };
}

interface AccuracyRow {
  readonly architecture: Architecture;
  readonly accuracy: number;
}

/** The architecture and accuracy columns of a trained-accuracy CSV; errors name the row and column. */
export function readAccuracyTable(space: SearchSpace, path: string, column: string): AccuracyRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${quote(path)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  const header = splitCsvLine(lines[0] ?? '', `${path}: row 1 (header)`).map((h) => h.trim());
  const archAt = header.indexOf(space.archColumn);
  const accuracyAt = header.indexOf(column);
  for (const [at, name] of [
    [archAt, space.archColumn],
    [accuracyAt, column],
  ] as const) {
    if (at < 0) {
      throw new UsageError(
        `${path}: row 1 (header) has no ${quote(name)} column (found: ${header.join(', ')}); ` +
          `expected the ${space.id} architecture in ${quote(space.archColumn)} and the accuracy in ${quote(column)}`,
      );
    }
  }
  if (lines.length < 2) throw new UsageError(`${path}: no rows after the header`);
  const seen = new Map<string, number>();
  return lines.slice(1).map((line, i) => {
    const where = `${path}: row ${i + 2}`;
    const fields = splitCsvLine(line, where);
    const architecture = parseArchitectureField(space, fields[archAt], where, space.archColumn);
    const key = space.key(architecture);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new UsageError(
        `${where}, column ${quote(space.archColumn)}: the same architecture as row ${earlier}`,
      );
    }
    seen.set(key, i + 2);
    const raw = (fields[accuracyAt] ?? '').trim();
    const accuracy = raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(accuracy)) {
      throw new UsageError(
        `${where}, column ${quote(column)}: ${quote(raw)} is not a number (an accuracy in %)`,
      );
    }
    return { architecture, accuracy };
  });
}

/** Half A (the weights were chosen on it) or B: the parity of the first byte of sha256(key). */
export function halfOf(key: string): 'a' | 'b' {
  return (createHash('sha256').update(key).digest()[0]! & 1) === 0 ? 'a' : 'b';
}

const ALONE: readonly { readonly name: string; readonly value: (v: NetworkProxyValues) => number }[] = [
  { name: 'naswot', value: (v) => v.naswot },
  { name: 'flops', value: (v) => v.flopsM },
  { name: 'params', value: (v) => v.paramsM },
  { name: 'relus', value: (v) => v.relus },
  { name: 'relu_units', value: (v) => v.reluUnits },
];

const rankable = (values: readonly number[]): number[] =>
  values.map((v) => (v === Number.NEGATIVE_INFINITY ? -Number.MAX_VALUE : v));

export async function runNetworkProxiesBench(
  options: NetworkProxiesBenchOptions,
): Promise<NetworkProxiesBenchResult> {
  const { space, logger } = options;
  const column = options.accuracyColumn ?? 'mean_acc';
  const all = readAccuracyTable(space, options.accuracyCsv, column);
  let rows = all;
  if (options.limit !== undefined && options.limit < all.length) {
    const random = new Random(options.sampleSeed ?? 0).child('bench-proxies-sample');
    const order = all.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    rows = order.slice(0, options.limit).map((i) => all[i]!);
  }
  if (rows.length < 10)
    throw new UsageError(`bench proxies needs at least 10 rows to rank; got ${rows.length}`);
  const scorer = await createNetworkTaskScorer(space, {
    cacheDir: options.cacheDir,
    referenceSize: options.referenceSize,
    logger,
  });
  const progress = createProgress({ label: `proxies ${space.id}`, total: rows.length, logger });
  const values: NetworkProxyValues[] = [];
  for (const row of rows) {
    values.push(await scorer.values(row.architecture));
    progress.tick();
  }
  progress.done();
  logger.info(`proxies: ${scorer.computed} computed now, the rest read from the cache`);
  const accuracy = rows.map((r) => r.accuracy);
  const flops = values.map((v) => v.flopsM);
  const scores = values.map((v) => networkTaskScore(v, scorer.normaliser));
  const subset = (half: 'a' | 'b') => {
    const at = rows.flatMap((r, i) => (halfOf(space.key(r.architecture)) === half ? [i] : []));
    return {
      size: at.length,
      figures: scoreFigures(
        at.map((i) => scores[i]!),
        at.map((i) => accuracy[i]!),
        at.map((i) => flops[i]!),
      ),
    };
  };
  const a = subset('a');
  const b = subset('b');
  const best = scores.reduce((top, s, i) => (s > scores[top]! ? i : top), 0);
  const timing =
    options.timingNetworks > 0
      ? await timeOnDemand(space, scorer.dataset, options.timingNetworks)
      : undefined;
  return {
    space: space.id,
    dataset: scorer.dataset,
    rows: all.length,
    scored: rows.length,
    formula: NETWORK_SCORE_FORMULA,
    reference_networks: scorer.normaliser.size,
    proxies: [
      ...ALONE.map(({ name, value }) => {
        const ours = rankable(values.map(value));
        return { name, spearman: spearman(ours, accuracy), kendall: kendall(ours, accuracy) };
      }),
    ],
    task_score: scoreFigures(scores, accuracy, flops),
    halves: { a: a.figures, b: b.figures, sizes: [a.size, b.size] },
    ablations: [
      ...ALONE.map(({ name, value }) => ({
        name: `${name} alone`,
        figures: scoreFigures(rankable(values.map(value)), accuracy, flops),
      })),
      {
        name: "NB201's ratio (naswot 1 : params 2)",
        figures: scoreFigures(
          values.map((v) => nb201RatioScore(v, scorer.normaliser)),
          accuracy,
          flops,
        ),
      },
    ],
    top1_arch: space.format(rows[best]!.architecture),
    ...(timing ? { on_demand_ms: timing } : {}),
  };
}

/** Wall time of computing one network's proxies from scratch (no cache), for random architectures. */
async function timeOnDemand(
  space: SearchSpace,
  dataset: string,
  count: number,
): Promise<{ median: number; p90: number; networks: number }> {
  const random = new Random(7).child(`timing/${space.id}`);
  const first = space.sample(random);
  const size = space.networkGraph(first, { dataset, batchSize: 1, seed: 0 }).input.dims.at(-1)!;
  const images = syntheticImages(32, size, 0);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const architecture = i === 0 ? first : space.sample(random);
    const started = performance.now();
    await computeNetworkProxies(space, architecture, dataset, images, NETWORK_SEEDS);
    times.push(performance.now() - started);
  }
  return { median: median(times), p90: quantile(times, 0.9), networks: count };
}

export function formatNetworkProxiesBench(r: NetworkProxiesBenchResult): string {
  const f = (v: number, digits = 3) => v.toFixed(digits);
  const line = (label: string, t: TaskScoreFigures) =>
    `${label}: spearman ${f(t.spearman)} kendall ${f(t.kendall)}; top-1 ${f(t.top1_acc, 2)}% top-10 mean ${f(t.top10_mean_acc, 2)}% ` +
    `(optimum ${f(t.optimum_acc, 2)}%); FLOPs-constrained regret p25/p50/p75 ${f(t.constrained_regret.p25, 2)} / ` +
    `${f(t.constrained_regret.p50, 2)} / ${f(t.constrained_regret.p75, 2)} points`;
  const lines = [
    `${r.space} (${r.dataset}): ${r.scored} of ${r.rows} rows scored; task score normalised over ${r.reference_networks} seeded random networks`,
    `task score: ${r.formula}`,
    '',
    'proxy        spearman  kendall',
    ...r.proxies.map((p) => `${p.name.padEnd(12)} ${f(p.spearman).padStart(8)} ${f(p.kendall).padStart(8)}`),
    '',
    line('task score, all rows', r.task_score),
    line(`task score, half A (${r.halves.sizes[0]} rows; chose the weights)`, r.halves.a),
    line(`task score, half B (${r.halves.sizes[1]} rows; the check)`, r.halves.b),
    ...r.ablations.map((a) => line(a.name, a.figures)),
    `top-1 architecture: ${r.top1_arch}`,
  ];
  if (r.on_demand_ms) {
    lines.push(
      `on-demand computation (no cache, ${r.on_demand_ms.networks} random networks): median ${r.on_demand_ms.median.toFixed(0)} ms, p90 ${r.on_demand_ms.p90.toFixed(0)} ms per network`,
    );
  }
  return `${lines.join('\n')}\n`;
}
