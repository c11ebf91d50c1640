// How long it takes to turn an architecture into a runnable ONNX network: build the graph (through
// its space's own builder), serialize it, create an onnxruntime-node session and run it once. Feeds
// `simnas bench onnx`; every figure is measured in the run that prints it.
import { performance } from 'node:perf_hooks';

import * as ort from 'onnxruntime-node';

import type { Architecture, NetworkRequest, SearchSpace, SpaceGraph } from '../spaces/space.js';
import { median, quantile } from '../util/stats.js';
import { serializeModel } from './graph.js';

/** Milliseconds of each stage for one network. */
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

/**
 * Times every architecture in turn (after one untimed warm-up), each built by its space, and returns
 * medians and 90th percentiles. `threads`: ORT intra-op threads (1 keeps the figures comparable on
 * a shared machine).
 */
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
  if (items.length === 0) throw new RangeError('no architectures to time');
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
