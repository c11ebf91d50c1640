// `simnas bench certify`: does a certification keep its promise on a busy machine? Cells whose
// latency is known from a long reference measurement (taken first, on the quiet machine) are
// verified again and again with the pipeline's own protocol (a LiveDevice: the samples measured
// first, then one candidate per call with sample cells as drift anchors), while 0, 1 or 2 busy
// background processes run (started and stopped here: a CPU-bound loop, then a memory-bandwidth
// loop). Budgets sit at the reference latency x (1 + d); a certification while the reference
// exceeds the budget is a false certification. The same run reports the review's A-vs-A (a cell
// against itself: "unchanged" is the right verdict) and the stability of `simnas search` over
// cold runs (separate processes, as a team's pushes would be).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { LiveDevice, LIVE_REPEATABILITY } from '../devices/live.js';
import { measureCells, DEFAULT_MEASURE_OPTIONS } from '../hardware/measure.js';
import { defaultSampleCells, randomSampleCells } from '../hardware/sample-cells.js';
import { DEFAULT_THRESHOLDS } from '../review/config.js';
import { prepareModel, releaseModel, timeAB } from '../review/ab-timing.js';
import { decideVerdicts, type SideFacts } from '../review/verdict.js';
import { certifiedThresholdMs, DEFAULT_MARGIN_Z } from '../search/verification.js';
import { encodeCell, formatCell, type Cell } from '../spaces/nb201/cell.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import { spaceById } from '../spaces/index.js';
import type { Logger } from '../util/log.js';
import { Random } from '../util/random.js';
import { median } from '../util/stats.js';

/** The space whose cells are verified (the live pipeline's default). */
const NB201 = spaceById('nb201');

/** Budget offsets from the reference latency, as fractions (the issue's -5% .. +5%). */
export const CERTIFY_DELTAS = [-0.05, -0.02, -0.01, 0.01, 0.02, 0.05] as const;

export const CERTIFY_TARGETS = {
  /** At every load and d. */
  maxFalseCertification: 0.01,
  /** At load 0, cells 5% under budget. */
  minCertifiedAtPlus5: 0.95,
  maxWallSecondsPerCandidate: 2,
  /** A-vs-A reviews that must say "unchanged", of 20. */
  minUnchangedOf20: 19,
  /** Stability at load 0, of 10 runs. */
  minModalOf10: 7,
  maxScoreSpread: 0.02,
} as const;

export interface CertifyBenchOptions {
  readonly loads: readonly number[];
  readonly trials: number;
  /** Cells verified per trial (random connected cells, none of the samples). */
  readonly cells: number;
  readonly dataset: Dataset;
  readonly seed: number;
  /** Independent reference measurements per cell (fresh sessions each). */
  readonly referenceRepeats: number;
  /** Rounds of each reference measurement (the CLI: 60). */
  readonly referenceRounds: number;
  /** A-vs-A reviews per load (0 skips them). */
  readonly abRuns: number;
  /** Cold `simnas search` runs per setting (0 skips them). */
  readonly stabilityRuns: number;
  readonly stabilityLoads: readonly number[];
  readonly stabilityBudgetMs: number;
  /** The simnas CLI to run cold searches with (default: the running one). */
  readonly cliPath?: string;
}

export interface CertifyRow {
  readonly load: number;
  readonly delta: number;
  readonly trials: number;
  readonly certified: number;
  /** Share of trials certified while the reference latency exceeds the budget (d < 0). */
  readonly false_certification: number;
  /** Share of trials not certified while the reference latency is within the budget (d > 0). */
  readonly false_rejection: number;
  /** Median wall time of one verification (one candidate and its anchors), seconds. */
  readonly wall_s: number;
}

export interface CalibrationRow {
  readonly load: number;
  readonly verifications: number;
  /** Median of measured / reference - 1. */
  readonly bias: number;
  /** Robust sd of log(measured / reference): the real repeatability of one verification. */
  readonly spread: number;
  /** Median noise the device claimed (its standard error with the floor). */
  readonly claimed: number;
  /**
   * Share of verifications that read faster than the reference by more than 1.645 claimed sds (the
   * side that certifies wrongly; 5% if the claimed noise is honest and unbiased).
   */
  readonly beyond_z: number;
  readonly background_cores: number;
  /**
   * The machine's speed at this load against the reference: the samples' latencies during the
   * reference measurement over their latencies when this load's job measured them (the
   * median over the samples; 0.8 = the job ran 25% slower). Every verification stands on the job's scale, so below 1
   * the reference reads as a budget the job cannot see, and certifications turn conservative.
   */
  readonly speed: number;
}

export interface AbRow {
  readonly load: number;
  readonly runs: number;
  readonly unchanged: number;
  readonly verdicts: Readonly<Record<string, number>>;
  readonly wall_s: number;
}

export interface StabilityRow {
  readonly load: number;
  /** "knee" or a budget in ms. */
  readonly budget: string | number;
  readonly runs: number;
  readonly distinct: number;
  readonly modal_count: number;
  readonly score_spread: number;
  /** Targets the knee chose (runs without a budget), min and max ms. */
  readonly target_range_ms?: readonly [number, number];
  readonly failed: number;
}

export interface CertifyBenchResult {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly seed: number;
  readonly reference: readonly { readonly cell: string; readonly ms: number; readonly spread: number }[];
  readonly results: readonly CertifyRow[];
  readonly calibration: readonly CalibrationRow[];
  readonly ab: readonly AbRow[];
  readonly stability: readonly StabilityRow[];
  readonly marginZ: number;
  readonly floor: number;
  readonly wallMs: number;
}

/** The background work of `load` busy processes: a CPU-bound loop, then a memory-bandwidth loop. */
const LOAD_SCRIPTS = [
  'for (;;) {}',
  'const a = Buffer.alloc(64 << 20, 1); const b = Buffer.alloc(64 << 20); for (;;) { a.copy(b); b.copy(a); }',
];

/** Starts `count` busy processes; the returned function stops them (also on this process's exit). */
export async function startLoad(count: number): Promise<() => void> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(
      spawn(process.execPath, ['-e', LOAD_SCRIPTS[i % LOAD_SCRIPTS.length]!], { stdio: 'ignore' }),
    );
  }
  const stop = (): void => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', stop);
  // Let them start spinning (and the memory loop allocate) before anything is timed.
  if (count > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  return () => {
    stop();
    process.removeListener('exit', stop);
  };
}

export async function runCertifyBench(
  options: CertifyBenchOptions,
  logger: Logger,
): Promise<CertifyBenchResult> {
  const started = performance.now();
  const random = new Random(options.seed);
  const samples = defaultSampleCells(options.dataset);
  const sampleCodes = new Set(samples.map(encodeCell));
  const cells = randomSampleCells(options.cells + samples.length, options.seed + 1)
    .filter((cell) => !sampleCodes.has(encodeCell(cell)))
    .slice(0, options.cells);
  const measure = { ...DEFAULT_MEASURE_OPTIONS, dataset: options.dataset, seed: options.seed };

  // The reference: several independent long measurements (fresh sessions each), on the quiet
  // machine, before any background load. The samples are measured in the same rounds, so that the
  // machine's speed then can be set against its speed in each load's job.
  const repeats: number[][] = [...cells, ...samples].map(() => []);
  for (let r = 0; r < options.referenceRepeats; r++) {
    const result = await logger.group(`reference ${r + 1} of ${options.referenceRepeats}`, () =>
      measureCells(
        [...cells, ...samples],
        { ...measure, rounds: options.referenceRounds, seed: options.seed + r },
        { logger },
      ),
    );
    result.cells.forEach((cell, i) => repeats[i]!.push(cell.medianMs));
  }
  const reference = cells.map((cell, i) => {
    const values = repeats[i]!;
    const ms = median(values);
    return { cell: formatCell(cell), ms, spread: (Math.max(...values) - Math.min(...values)) / ms };
  });
  const sampleReference = repeats.slice(cells.length).map(median);

  const results: CertifyRow[] = [];
  const calibration: CalibrationRow[] = [];
  const ab: AbRow[] = [];
  for (const load of options.loads) {
    const stopLoad = await startLoad(load);
    try {
      const device = new LiveDevice({ space: NB201, measure, logger });
      const sampled = await logger.group(`load ${load}: measuring the ${samples.length} samples`, () =>
        device.measure(samples),
      );
      const speed = Math.exp(
        median(Array.from(sampled.latenciesMs, (ms, i) => Math.log(sampleReference[i]! / ms))),
      );
      const outcomes: { cell: number; ms: number; noise: number; wallMs: number }[] = [];
      const order = random.child(`certify-order-${load}`);
      for (let trial = 0; trial < options.trials; trial++) {
        for (const index of order.shuffled(cells.map((_, i) => i))) {
          const cell = cells[index]!;
          const t0 = performance.now();
          const measured = await device.measure([cell]);
          const wallMs = performance.now() - t0;
          const noise = device.measurementNoise().get(encodeCell(cell)) ?? LIVE_REPEATABILITY;
          outcomes.push({ cell: index, ms: measured.latenciesMs[0]!, noise, wallMs });
        }
        logger.info(`load ${load}: trial ${trial + 1} of ${options.trials} done`);
      }
      const wall = median(outcomes.map((o) => o.wallMs)) / 1000;
      for (const delta of CERTIFY_DELTAS) {
        const certified = outcomes.filter((o) => {
          const budgetMs = reference[o.cell]!.ms * (1 + delta);
          return o.ms <= certifiedThresholdMs(budgetMs, 0, { noise: o.noise, marginZ: DEFAULT_MARGIN_Z });
        }).length;
        results.push({
          load,
          delta,
          trials: outcomes.length,
          certified,
          false_certification: delta < 0 ? certified / outcomes.length : 0,
          false_rejection: delta > 0 ? (outcomes.length - certified) / outcomes.length : 0,
          wall_s: wall,
        });
      }
      const errors = outcomes.map((o) => Math.log(o.ms / reference[o.cell]!.ms));
      const conditions = device.conditions.slice(1);
      calibration.push({
        load,
        verifications: outcomes.length,
        bias: Math.exp(median(errors)) - 1,
        spread: 1.4826 * median(errors.map((e) => Math.abs(e - median(errors)))),
        claimed: median(outcomes.map((o) => o.noise)),
        beyond_z:
          outcomes.filter((o, i) => errors[i]! < -DEFAULT_MARGIN_Z * o.noise).length / outcomes.length,
        background_cores: median(conditions.map((c) => c.backgroundCores)),
        speed,
      });
      if (options.abRuns > 0) ab.push(await abAgainstItself(cells, options, load, logger));
    } finally {
      stopLoad();
    }
  }

  const stability: StabilityRow[] = [];
  if (options.stabilityRuns > 0) {
    for (const load of options.stabilityLoads) {
      const stopLoad = await startLoad(load);
      try {
        for (const budget of [options.stabilityBudgetMs, 'knee'] as const) {
          stability.push(await searchStability(options, load, budget, logger));
        }
      } finally {
        stopLoad();
      }
    }
  }
  return {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
    seed: options.seed,
    reference,
    results,
    calibration,
    ab,
    stability,
    marginZ: DEFAULT_MARGIN_Z,
    floor: LIVE_REPEATABILITY,
    wallMs: performance.now() - started,
  };
}

/** The review's latency comparison of the middle reference cell against itself, `abRuns` times. */
async function abAgainstItself(
  cells: readonly Cell[],
  options: CertifyBenchOptions,
  load: number,
  logger: Logger,
): Promise<AbRow> {
  const cell = cells[Math.floor(cells.length / 2)]!;
  const verdicts: Record<string, number> = {};
  const walls: number[] = [];
  for (let run = 0; run < options.abRuns; run++) {
    const timing = { seed: options.seed + run };
    const source = {
      kind: 'architecture' as const,
      label: formatCell(cell),
      space: NB201,
      architecture: cell,
      dataset: options.dataset,
    };
    const base = await prepareModel(source, timing);
    const head = await prepareModel(source, timing);
    try {
      const measured = await timeAB(base, head, timing);
      walls.push(measured.wallMs);
      const side = (ref: string, t: typeof measured.base): SideFacts => ({
        ref,
        modelKind: 'cell',
        model: formatCell(cell),
        dataset: options.dataset,
        latencyMs: t.medianMs,
        latencyInterval: t.medianInterval,
      });
      const outcome = decideVerdicts({
        head: side('head', measured.head),
        base: side('base', measured.base),
        ratio: { value: measured.ratio, ...measured.ratioInterval },
        thresholds: DEFAULT_THRESHOLDS,
      });
      verdicts[outcome.verdict] = (verdicts[outcome.verdict] ?? 0) + 1;
    } finally {
      await Promise.all([releaseModel(base), releaseModel(head)]);
    }
  }
  logger.info(`load ${load}: A-vs-A ${JSON.stringify(verdicts)}`);
  return {
    load,
    runs: options.abRuns,
    unchanged: verdicts['unchanged'] ?? 0,
    verdicts,
    wall_s: median(walls) / 1000,
  };
}

/** `simnas search` in fresh processes, as a team's pushes would run it; what it recommends each time. */
async function searchStability(
  options: CertifyBenchOptions,
  load: number,
  budget: number | 'knee',
  logger: Logger,
): Promise<StabilityRow> {
  const cli = options.cliPath ?? process.argv[1]!;
  const picks: { cell: string; score: number; target: number }[] = [];
  let failed = 0;
  for (let run = 0; run < options.stabilityRuns; run++) {
    const out = await mkdtemp(path.join(os.tmpdir(), 'simnas-stability-'));
    try {
      const args = [cli, 'search', '--json', '--dataset', options.dataset, '--out', path.join(out, 'report')];
      if (budget !== 'knee') args.push('--budget', String(budget));
      const stdout = await runProcess(process.execPath, args);
      const report = JSON.parse(stdout) as {
        recommendation: { cell: string; taskScore: number };
        budget: { ms: number };
      };
      picks.push({
        cell: report.recommendation.cell,
        score: report.recommendation.taskScore,
        target: report.budget.ms,
      });
    } catch (error) {
      failed++;
      logger.warn(`stability run ${run + 1} failed: ${(error as Error).message.slice(0, 300)}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    logger.info(
      `load ${load}, budget ${budget}: run ${run + 1} of ${options.stabilityRuns}: ${picks.at(-1)?.cell ?? 'failed'}`,
    );
  }
  const counts = new Map<string, number>();
  for (const pick of picks) counts.set(pick.cell, (counts.get(pick.cell) ?? 0) + 1);
  const scores = picks.map((p) => p.score);
  const targets = picks.map((p) => p.target);
  return {
    load,
    budget,
    runs: picks.length,
    distinct: counts.size,
    modal_count: Math.max(0, ...counts.values()),
    score_spread: scores.length > 0 ? Math.max(...scores) - Math.min(...scores) : 0,
    ...(budget === 'knee' && targets.length > 0
      ? { target_range_ms: [Math.min(...targets), Math.max(...targets)] as const }
      : {}),
    failed,
  };
}

function runProcess(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
}

const percent = (fraction: number, digits = 1): string => `${(fraction * 100).toFixed(digits)}%`;

export function formatCertifyBench(result: CertifyBenchResult): string {
  const lines = [
    `simnas bench certify on ${result.machine.cpu} (${result.machine.cores} cores, Node ${result.machine.node}), seed ${result.seed}; ` +
      `certified = measured <= budget x exp(-${result.marginZ} x noise), noise = hypot(own standard error with the drift's, anchors' dispersion, floor ${percent(result.floor)})`,
    '',
    'reference (long measurement on the quiet machine): ' +
      result.reference.map((r) => `${r.ms.toFixed(3)} ms (±${percent(r.spread / 2)})`).join(', '),
    '',
    'load  d      trials  certified  false-cert  false-reject  wall s',
    ...result.results.map(
      (r) =>
        `${String(r.load).padEnd(4)}  ${(r.delta > 0 ? '+' : '') + percent(r.delta, 0)}`.padEnd(13) +
        `${String(r.trials).padStart(6)}  ${percent(r.certified / r.trials).padStart(9)}  ` +
        `${(r.delta < 0 ? percent(r.false_certification) : '').padStart(10)}  ` +
        `${(r.delta > 0 ? percent(r.false_rejection) : '').padStart(12)}  ${r.wall_s.toFixed(2).padStart(6)}`,
    ),
    '',
    'load  verifications  bias    spread  claimed  fast by 1.645 sd  busy cores  speed vs reference',
    ...result.calibration.map(
      (c) =>
        `${String(c.load).padEnd(4)}  ${String(c.verifications).padStart(13)}  ${percent(c.bias).padStart(6)}  ` +
        `${percent(c.spread).padStart(6)}  ${percent(c.claimed).padStart(7)}  ${percent(c.beyond_z).padStart(15)}  ` +
        `${c.background_cores.toFixed(2).padStart(10)}  ${c.speed.toFixed(3).padStart(18)}`,
    ),
  ];
  if (result.ab.length > 0) {
    lines.push('', 'A-vs-A review (a cell against itself)');
    for (const row of result.ab) {
      lines.push(
        `  load ${row.load}: unchanged ${row.unchanged} of ${row.runs} (${Object.entries(row.verdicts)
          .map(([kind, count]) => `${kind} ${count}`)
          .join(', ')}), ${row.wall_s.toFixed(2)} s each`,
      );
    }
  }
  if (result.stability.length > 0) {
    lines.push('', 'search stability over cold runs');
    for (const row of result.stability) {
      const budget = row.budget === 'knee' ? 'no budget (knee)' : `budget ${row.budget} ms`;
      const targets = row.target_range_ms
        ? `, knee targets ${row.target_range_ms[0].toFixed(2)}-${row.target_range_ms[1].toFixed(2)} ms`
        : '';
      lines.push(
        `  load ${row.load}, ${budget}: ${row.distinct} distinct cell(s) in ${row.runs} runs, the most frequent ${row.modal_count} times, ` +
          `task-score spread ${row.score_spread.toFixed(3)}${targets}${row.failed > 0 ? `, ${row.failed} failed` : ''}`,
      );
    }
  }
  const worstFalse = Math.max(0, ...result.results.map((r) => r.false_certification));
  const plus5 = result.results.find((r) => r.load === 0 && r.delta === 0.05);
  const wall = Math.max(0, ...result.results.map((r) => r.wall_s));
  lines.push(
    '',
    `targets: false certification <= ${percent(CERTIFY_TARGETS.maxFalseCertification, 0)} (worst ${percent(worstFalse)}); ` +
      `load 0, +5%: certified >= ${percent(CERTIFY_TARGETS.minCertifiedAtPlus5, 0)} (${plus5 ? percent(plus5.certified / plus5.trials) : 'not run'}); ` +
      `wall per candidate <= ${CERTIFY_TARGETS.maxWallSecondsPerCandidate} s (worst median ${wall.toFixed(2)} s); ` +
      `A-vs-A unchanged >= ${CERTIFY_TARGETS.minUnchangedOf20} of 20; stability at load 0: modal >= ${CERTIFY_TARGETS.minModalOf10} of 10, spread <= ${CERTIFY_TARGETS.maxScoreSpread}`,
    `wall ${(result.wallMs / 1000).toFixed(0)} s`,
  );
  return lines.join('\n');
}
