// Writes fixtures/, the data tests stand on, and fixtures/README.md saying how each file was made:
//   npx tsx scripts/make-fixtures.ts            every deterministic fixture (events, configs, ONNX
//                                               models, report samples); test/fixtures.test.ts
//                                               regenerates them in memory and fails when stale
//   npx tsx scripts/make-fixtures.ts --measure  also the latency table recorded on this machine
//                                               (real onnxruntime measurements, about a minute)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import onnxProto from 'onnx-proto';

import { describeFingerprint, hardwareFingerprint } from '../src/hardware/fingerprint.js';
import { DEFAULT_MEASURE_OPTIONS } from '../src/hardware/measure.js';
import { recordLatencyTable } from '../src/hardware/record-table.js';
import { attr, toModelProto } from '../src/onnx/graph.js';
import { STAGE_CHANNELS, buildNetworkGraph, kaimingNormal } from '../src/spaces/nb201/network.js';
import type { SearchReport } from '../src/report/report.js';
import { parseCell } from '../src/spaces/nb201/cell.js';
import { stderrLogger } from '../src/util/log.js';
import { Random } from '../src/util/random.js';
import { handmadeReport } from '../test/support/report-fixtures.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export const SKIP_CELL =
  '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';
export const CONV_CELL =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

/** One fixture: its path under fixtures/, its bytes, and how it was made (for the README). */
export interface Fixture {
  readonly file: string;
  readonly content: string | Uint8Array;
  readonly how: string;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** A pull_request event payload as a runner writes it to GITHUB_EVENT_PATH (the fields simnas reads). */
export function pullRequestEvent(options: {
  readonly repository: string;
  readonly number: number;
  readonly headRepository?: string;
  readonly headSha?: string;
  readonly baseSha?: string;
}): Record<string, unknown> {
  const repo = (fullName: string) => ({
    full_name: fullName,
    name: fullName.split('/')[1],
    owner: { login: fullName.split('/')[0] },
  });
  return {
    action: 'synchronize',
    number: options.number,
    pull_request: {
      number: options.number,
      head: {
        ref: 'feature',
        sha: options.headSha ?? 'f'.repeat(40),
        repo: repo(options.headRepository ?? options.repository),
      },
      base: { ref: 'main', sha: options.baseSha ?? 'b'.repeat(40), repo: repo(options.repository) },
    },
    repository: repo(options.repository),
  };
}

/**
 * The NB201 network of `cell` as ONNX bytes with a symbolic batch and spatial size ('N',
 * 'height', 'width'), optionally with `extraConvs` 3x3 convolutions (64 -> 64) appended after the
 * last cell: a model deliberately made slower without changing its interface.
 */
export function reviewModel(cell: string, extraConvs = 0): Uint8Array {
  const built = buildNetworkGraph(parseCell(cell), { dataset: 'cifar10', seed: 0 });
  const graph = built.graph;
  const last = built.cellOutputs.at(-1)!;
  const consumers = graph.consumersOf(last);
  const channels = STAGE_CHANNELS.at(-1)!;
  let x = last;
  const random = new Random(5);
  for (let i = 0; i < extraConvs; i++) {
    const weight = graph.addInitializer(
      `extra${i}.weight`,
      [channels, channels, 3, 3],
      kaimingNormal(random.child(`extra${i}`), channels * channels * 9, channels * 9),
    );
    x = graph.add('Conv', [x, weight], {
      name: `extra${i}.conv`,
      attributes: { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) },
    });
  }
  for (const node of consumers) node.inputs = node.inputs.map((input) => (input === last ? x : input));
  const proto = toModelProto(graph);
  const dims = proto.graph!.input![0]!.type!.tensorType!.shape!.dim!;
  const { Dimension } = onnxProto.onnx.TensorShapeProto;
  dims[0] = Dimension.create({ dimParam: 'N' });
  dims[2] = Dimension.create({ dimParam: 'height' });
  dims[3] = Dimension.create({ dimParam: 'width' });
  return onnxProto.onnx.ModelProto.encode(proto).finish();
}

/** Three runners' reports of one release, in the folder layout actions/download-artifact gives. */
function releaseReports(): Fixture[] {
  // Each runner's latencies are the hand-made report's, scaled by how fast the runner is.
  const runners = [
    { tag: 'jetson-orin', speed: 1 },
    { tag: 'rpi5', speed: 3.2 },
    { tag: 'x86-avx512', speed: 0.35 },
  ];
  const latencyKeys = new Set([
    'ms',
    'measuredMs',
    'predictedMs',
    'predictedStdMs',
    'latencyMs',
    'latencyStdMs',
    'certifiedBelowMs',
  ]);
  return runners.map(({ tag, speed }) => {
    const report: SearchReport = {
      ...handmadeReport({ device: { kind: 'live', name: tag } }),
      nodeVersion: 'v24.0.0',
      simnasVersion: '0.1.0',
      run: { hardwareTag: tag, caches: { controller: 'hit', measurements: 'hit' }, event: 'release' },
    };
    const scaled = JSON.stringify(
      report,
      (key, value: unknown) =>
        latencyKeys.has(key) && typeof value === 'number' ? Number((value * speed).toPrecision(6)) : value,
      2,
    );
    return {
      file: `reports/simnas-report-${tag}/report.json`,
      content: `${scaled}\n`,
      how:
        `A search report of runner ${tag}: test/support/report-fixtures.ts handmadeReport with every ` +
        `latency times ${speed}, as release-search.yml uploads it; for aggregate.`,
    };
  });
}

/** Every fixture that does not depend on the machine, in a fixed order. */
export function deterministicFixtures(): Fixture[] {
  return [
    {
      file: 'events/pull_request.json',
      content: json(pullRequestEvent({ repository: 'octo/models', number: 7 })),
      how: 'A pull_request event payload (the fields simnas reads: number, head and base sha and repository).',
    },
    {
      file: 'events/pull_request-fork.json',
      content: json(
        pullRequestEvent({ repository: 'octo/models', number: 9, headRepository: 'someone/models' }),
      ),
      how: 'The same event for a pull request from a fork (head repository differs from the base).',
    },
    {
      file: 'configs/simnas.cell.json',
      content: json({
        dataset: 'cifar10',
        model: { cell: CONV_CELL },
        budget: '5ms',
        thresholds: { latencyPercent: 5, taskScorePoints: 0.02 },
      }),
      how: "The review config of the README's example: an NB201 cell, a budget and thresholds.",
    },
    {
      file: 'configs/simnas.onnx.json',
      content: json({ model: { onnx: 'model.onnx', inputShape: { batch: 1, height: 32, width: 32 } } }),
      how: 'A review config naming an ONNX model with symbolic dimensions, each given a size.',
    },
    {
      file: 'models/skip-cell.onnx',
      content: reviewModel(SKIP_CELL),
      how:
        'The NB201 network of the all-skip cell (cifar10 head, seed 0) with symbolic N, height and width ' +
        '(scripts/make-fixtures.ts reviewModel): a small ONNX model for the review.',
    },
    ...releaseReports(),
  ];
}

/** The latency of 24 NB201 networks measured on this machine (the one the script runs on). */
async function recordedTable(): Promise<Fixture[]> {
  const out = path.join(FIXTURES, 'latency', 'this-machine.csv');
  const fingerprint = await hardwareFingerprint();
  const rounds = 5;
  const result = await recordLatencyTable(
    { out, column: 'this_machine', chunk: 24, limit: 24, measure: { ...DEFAULT_MEASURE_OPTIONS, rounds } },
    stderrLogger,
  );
  // Keep the measured rows only: a partial table lists every cell, most of them empty.
  const [header, ...rows] = readFileSync(out, 'utf8').trimEnd().split('\n');
  const measured = rows.filter((row) => !row.endsWith(','));
  return [
    {
      file: 'latency/this-machine.csv',
      content: `${[header, ...measured].join('\n')}\n`,
      how:
        `Latencies (ms) of ${result.cellsDone} NB201 cells (${result.networksDone} distinct networks, a uniform ` +
        `sample) measured with \`simnas measure-table --limit 24 --rounds ${rounds}\` on ` +
        `${describeFingerprint(fingerprint).split('\n')[0]} (fingerprint ${fingerprint.hash}), ` +
        `${new Date().toISOString().slice(0, 10)}; a recorded table of the shape bench and --device table: read.`,
    },
  ];
}

function readmeText(fixtures: readonly Fixture[], previous: string): string {
  // The measured table's line survives a run without --measure.
  const kept = previous.split('\n').filter((line) => line.startsWith('- `latency/'));
  const lines = fixtures.map((fixture) => `- \`${fixture.file}\`: ${fixture.how}`);
  const measured = lines.some((line) => line.startsWith('- `latency/')) ? [] : kept;
  return [
    '# fixtures',
    '',
    'Data the tests stand on, written by `scripts/make-fixtures.ts` (do not edit by hand: run',
    '`npx tsx scripts/make-fixtures.ts`, and `--measure` to record the latency table again).',
    '',
    ...lines,
    ...measured,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const fixtures = [
    ...deterministicFixtures(),
    ...(process.argv.includes('--measure') ? await recordedTable() : []),
  ];
  for (const fixture of fixtures) {
    const file = path.join(FIXTURES, fixture.file);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, fixture.content);
  }
  const readme = path.join(FIXTURES, 'README.md');
  let previous = '';
  try {
    previous = readFileSync(readme, 'utf8');
  } catch {
    // first run
  }
  writeFileSync(readme, readmeText(fixtures, previous));
  console.log(`wrote ${fixtures.length} fixtures and fixtures/README.md`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
