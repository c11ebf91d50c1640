// How long it takes to turn a cell into a runnable ONNX network: build the graph, serialize it,
// create an onnxruntime-node session and run it once. Feeds `simnas bench onnx`; every figure is
// measured in the run that prints it.
import { performance } from 'node:perf_hooks';

import * as ort from 'onnxruntime-node';

import type { Cell } from '../spaces/nb201/cell.js';
import type { Dataset } from '../spaces/nb201/datasets.js';
import type { Architecture, NetworkRequest, SearchSpace, SpaceGraph } from '../spaces/space.js';
import { median, quantile } from '../util/stats.js';
import { serializeModel } from './graph.js';
import { buildNetworkGraph } from '../spaces/nb201/network.js';

export interface BuildTimingOptions {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly prune: boolean;
  /** ORT intra-op threads (1 keeps the figures comparable on a shared machine). */
  readonly threads: number;
}

/** Milliseconds of each stage for one cell. */
export interface BuildTiming {
  readonly buildMs: number;
  readonly serializeMs: number;
  readonly modelBytes: number;
  readonly sessionMs: number;
  readonly firstRunMs: number;
}

export interface TimingSummary {
  readonly samples: number;
  readonly median: BuildTiming;
  readonly p90: BuildTiming;
}

export async function timeCell(cell: Cell, options: BuildTimingOptions): Promise<BuildTiming> {
  return timeGraph(() => buildNetworkGraph(cell, options), options.threads);
}

/** Times building (by `build`), serializing, loading and first running one network. */
async function timeGraph(build: () => SpaceGraph, threads: number): Promise<BuildTiming> {
  const started = performance.now();
  const built = build();
  const builtAt = performance.now();
  const bytes = serializeModel(built.graph);
  const serializedAt = performance.now();
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const sessionAt = performance.now();
  try {
    const size = built.input.dims.reduce((a, b) => a * b, 1);
    const images = new ort.Tensor('float32', new Float32Array(size).fill(0.5), [...built.input.dims]);
    await session.run({ [built.input.name]: images });
  } finally {
    await session.release();
  }
  const ranAt = performance.now();
  return {
    buildMs: builtAt - started,
    serializeMs: serializedAt - builtAt,
    modelBytes: bytes.length,
    sessionMs: sessionAt - serializedAt,
    firstRunMs: ranAt - sessionAt,
  };
}

function summarize(timings: readonly BuildTiming[], pick: (values: number[]) => number): BuildTiming {
  const of = (key: keyof BuildTiming) => pick(timings.map((timing) => timing[key]));
  return {
    buildMs: of('buildMs'),
    serializeMs: of('serializeMs'),
    modelBytes: of('modelBytes'),
    sessionMs: of('sessionMs'),
    firstRunMs: of('firstRunMs'),
  };
}

/** Times every cell in turn (after one untimed warm-up) and returns medians and 90th percentiles. */
export async function timeCells(
  cells: readonly Cell[],
  options: BuildTimingOptions,
  onCell: () => void = () => {},
): Promise<TimingSummary> {
  return timeEach(cells, (cell) => timeCell(cell, options), onCell);
}

/** The same for architectures of any space, through the space's own network builder. */
export async function timeArchitectures(
  space: SearchSpace,
  architectures: readonly Architecture[],
  request: NetworkRequest,
  threads: number,
  onArchitecture: () => void = () => {},
): Promise<TimingSummary> {
  return timeEach(
    architectures,
    (architecture) => timeGraph(() => space.networkGraph(architecture, request), threads),
    onArchitecture,
  );
}

async function timeEach<T>(
  items: readonly T[],
  time: (item: T) => Promise<BuildTiming>,
  onItem: () => void,
): Promise<TimingSummary> {
  if (items.length === 0) throw new RangeError('no cells to time');
  await time(items[0]!);
  const timings: BuildTiming[] = [];
  for (const item of items) {
    timings.push(await time(item));
    onItem();
  }
  return {
    samples: timings.length,
    median: summarize(timings, median),
    p90: summarize(timings, (values) => quantile(values, 0.9)),
  };
}
