// A/B latency of two models (the pull request's base and head) on this machine, measured in the
// same run so that both see the same load, clock and thermal state. The figure a review needs is
// not either latency but their ratio, with an interval that says how sure we are of it.
//
// Protocol (recorded in the result):
// - Untimed first: both models are loaded into onnxruntime-node sessions (the options of
//   src/hardware/measure.ts: graph optimisation 'all', sequential, one inter-op thread) and fed
//   inputs built from the session's own input metadata; then `warmupRuns` runs each.
// - Warm-up (models alternating) sets how many back-to-back runs make one visit, the same count
//   for every model, enough for the slowest to last `minVisitMs`; and, unless `rounds` is given,
//   how many rounds fill about `targetMs` (at least MIN_AB_ROUNDS).
// - Each round visits every model once, in a fresh seeded random order (so neither always runs
//   first, right after the other's cache footprint), and times each run on its own
//   (process.hrtime around `await session.run`), so one preemption spoils one run, not a batch.
// - Visits are short (1 ms by default: one run of any real network, a few runs of tiny ones) so
//   base and head runs sit close in time and contention hits both alike. Measured on a saturated
//   2-core box (load ~6), comparing a cell with itself for 300 ms: with 10 ms visits 7 of 16
//   intervals lay wholly beyond ±5%; with 1 ms visits, 0 of 16.
// - Statistic: median(head runs) / median(base runs), all rounds pooled. Interval: a seeded
//   percentile bootstrap over rounds: rounds are resampled whole, each carrying both models' runs,
//   which keeps the pairing that interleaving bought (a burst of load slows both within a round).
import os from 'node:os';

import * as ort from 'onnxruntime-node';

import { UsageError } from '../errors.js';
import { onnxruntimeVersion } from '../hardware/fingerprint.js';
import {
  resolveExecutionProvider,
  robustCv,
  runsPerVisitFor,
  timingSessionOptions,
} from '../hardware/measure.js';
import type { Architecture, SearchSpace } from '../spaces/index.js';
import { silentLogger, type Logger } from '../util/log.js';
import { Random } from '../util/random.js';
import { median, quantile } from '../util/stats.js';
import type { InputShapeOverrides } from './config.js';

export type Milliseconds = number;

/** What to measure: an architecture's network (built as measurement builds it) or ONNX bytes. */
export type ModelSource =
  | {
      readonly kind: 'architecture';
      readonly label: string;
      readonly space: SearchSpace;
      readonly architecture: Architecture;
      /** One of the space's datasets. */
      readonly dataset: string;
    }
  | {
      readonly kind: 'onnx';
      /** The file's path, used in messages. */
      readonly label: string;
      readonly bytes: Uint8Array;
      readonly inputShape: InputShapeOverrides;
    };

export interface AbTimingOptions {
  /** Execution provider as onnxruntime-node names it. */
  readonly provider: string;
  readonly threads: number;
  /** Seeds the architectures' networks' weights, the input values, the visiting order and the bootstrap. */
  readonly seed: number;
  /** Batch size of architectures' networks (ONNX files take theirs from the model or `inputShape`). */
  readonly batchSize: number;
  readonly warmupRuns: number;
  /** Rounds to time; undefined: as many as fill about `targetMs` (at least MIN_AB_ROUNDS). */
  readonly rounds: number | undefined;
  readonly targetMs: Milliseconds;
  /** One visit of a model repeats its run until it lasts at least this long. */
  readonly minVisitMs: Milliseconds;
  /** Two-sided confidence of the intervals, e.g. 0.95. */
  readonly confidence: number;
  readonly resamples: number;
}

export const DEFAULT_AB_OPTIONS: AbTimingOptions = {
  provider: 'cpu',
  threads: 1,
  seed: 0,
  batchSize: 1,
  warmupRuns: 5,
  rounds: undefined,
  targetMs: 2000,
  minVisitMs: 1,
  confidence: 0.95,
  resamples: 2000,
};

/** Fewer rounds leave the bootstrap too few distinct resamples to mean anything. */
export const MIN_AB_ROUNDS = 8;
const MAX_AB_ROUNDS = 20_000;

/** One input as fed: the shape after fixing dynamic dimensions and how its values were made. */
export interface FedInput {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly number[];
  readonly values: string;
}

/** A model loaded and ready to time (create with `prepareModel`, free with `releaseModel`). */
export interface PreparedModel {
  readonly label: string;
  readonly session: ort.InferenceSession;
  readonly feeds: Readonly<Record<string, ort.Tensor>>;
  readonly inputs: readonly FedInput[];
  readonly sessionMs: Milliseconds;
  /** inputShape keys that matched no dynamic dimension (likely stale or mistyped). */
  readonly unusedShapeKeys: readonly string[];
}

export interface Interval {
  readonly low: number;
  readonly high: number;
  readonly confidence: number;
}

export interface ModelTiming {
  readonly label: string;
  readonly medianMs: Milliseconds;
  /** Bootstrap interval of the median over rounds. */
  readonly medianInterval: Interval;
  readonly p90Ms: Milliseconds;
  readonly minMs: Milliseconds;
  /** Robust CV (1.4826 MAD / median) of the individual runs. */
  readonly cv: number;
  readonly runs: number;
  readonly runsPerVisit: number;
  readonly inputs: readonly FedInput[];
}

export interface AbProtocol {
  readonly onnxruntimeVersion: string;
  readonly provider: string;
  readonly threads: number;
  readonly seed: number;
  readonly warmupRuns: number;
  readonly rounds: number;
  readonly order: string;
  readonly statistic: string;
  readonly interval: string;
  readonly resamples: number;
  /** 1-minute load average before and after timing. */
  readonly loadAverage: readonly [number, number];
}

export interface AbTiming {
  readonly base: ModelTiming;
  readonly head: ModelTiming;
  /** median(head) / median(base): above 1 means the head is slower. */
  readonly ratio: number;
  readonly ratioInterval: Interval;
  readonly protocol: AbProtocol;
  readonly wallMs: Milliseconds;
}

export interface SingleTiming {
  readonly model: ModelTiming;
  readonly protocol: AbProtocol;
  readonly wallMs: Milliseconds;
}

const clockMs = (): Milliseconds => Number(process.hrtime.bigint()) / 1e6;

/** Checks options; throws a UsageError naming the bad one. */
export function validateAbOptions(options: AbTimingOptions): AbTimingOptions {
  const integer = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${value}`);
    }
  };
  integer('threads', options.threads, 1, 1024);
  integer('seed', options.seed, -(2 ** 31), 2 ** 31);
  integer('batch size', options.batchSize, 1, 4096);
  integer('warm-up runs', options.warmupRuns, 1, 10_000);
  if (options.rounds !== undefined) integer('rounds', options.rounds, MIN_AB_ROUNDS, MAX_AB_ROUNDS);
  integer('bootstrap resamples', options.resamples, 100, 1_000_000);
  if (!(options.targetMs > 0)) throw new UsageError(`target time must be > 0 ms, got ${options.targetMs}`);
  if (!(options.minVisitMs >= 0))
    throw new UsageError(`minimum visit must be >= 0 ms, got ${options.minVisitMs}`);
  if (!(options.confidence > 0 && options.confidence < 1)) {
    throw new UsageError(`confidence must be in (0, 1), e.g. 0.95, got ${options.confidence}`);
  }
  return { ...options, provider: resolveExecutionProvider(options.provider) };
}

/** Loads a model into a session, builds its inputs and runs it once to prove they fit; nothing is timed. */
export async function prepareModel(
  source: ModelSource,
  requested: Partial<AbTimingOptions> = {},
): Promise<PreparedModel> {
  const options = validateAbOptions({ ...DEFAULT_AB_OPTIONS, ...requested });
  const bytes =
    source.kind === 'architecture'
      ? source.space.network(source.architecture, {
          dataset: source.dataset,
          batchSize: options.batchSize,
          seed: options.seed,
        }).bytes
      : source.bytes;
  const started = clockMs();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(
      bytes,
      timingSessionOptions(options.provider, options.threads),
    );
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).trim();
    if (options.provider !== 'cpu') {
      throw new UsageError(
        `execution provider '${options.provider}' could not start a session for '${source.label}' (${reason}); ` +
          'use provider cpu or install its libraries',
      );
    }
    throw new UsageError(`'${source.label}' is not an ONNX model onnxruntime can load: ${reason}`);
  }
  const sessionMs = clockMs() - started;
  try {
    const overrides = source.kind === 'onnx' ? source.inputShape : {};
    const { shapes, unusedKeys } = resolveInputShapes(session.inputMetadata, overrides, source.label);
    const random = new Random(options.seed).child('ab-inputs');
    const feeds: Record<string, ort.Tensor> = {};
    const inputs: FedInput[] = [];
    for (const input of shapes) {
      const { tensor, values } = inputTensor(input, random.child(`${input.name}:${input.shape.join('x')}`));
      feeds[input.name] = tensor;
      inputs.push({ name: input.name, type: input.type, shape: input.shape, values });
    }
    try {
      await session.run(feeds);
    } catch (error) {
      const fed = inputs.map((input) => `${input.name} ${input.type}[${input.shape.join('x')}]`).join(', ');
      throw new UsageError(
        `'${source.label}' loads but does not run on inputs ${fed}: ` +
          `${(error instanceof Error ? error.message : String(error)).trim()}; check model.inputShape in the config`,
        { cause: error },
      );
    }
    return { label: source.label, session, feeds, inputs, sessionMs, unusedShapeKeys: unusedKeys };
  } catch (error) {
    await session.release();
    throw error;
  }
}

export async function releaseModel(model: PreparedModel): Promise<void> {
  await model.session.release();
}

export interface ResolvedInput {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly number[];
}

/**
 * Static shapes for every input: numbers are kept; a symbolic or unknown dimension takes its
 * size from `overrides` by name, else by position ("0", "1", ...), else 1 when it is the first
 * (batch-like) dimension. Anything still unknown is a UsageError listing every such dimension.
 */
export function resolveInputShapes(
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  overrides: InputShapeOverrides,
  label: string,
): { shapes: ResolvedInput[]; unusedKeys: string[] } {
  const used = new Set<string>();
  const unresolved: string[] = [];
  const shapes: ResolvedInput[] = [];
  for (const input of metadata) {
    if (!input.isTensor) {
      throw new UsageError(
        `'${label}': input '${input.name}' is not a tensor; only tensor inputs can be fed`,
      );
    }
    const shape = input.shape.map((dim, index) => {
      if (typeof dim === 'number' && dim >= 0) return dim;
      const name = typeof dim === 'string' && dim !== '' ? dim : undefined;
      if (name !== undefined && overrides[name] !== undefined) {
        used.add(name);
        return overrides[name];
      }
      if (overrides[String(index)] !== undefined) {
        used.add(String(index));
        return overrides[String(index)]!;
      }
      if (index === 0) return 1;
      unresolved.push(`input '${input.name}' dimension ${index}${name ? ` ('${name}')` : ' (unnamed)'}`);
      return 0;
    });
    shapes.push({ name: input.name, type: input.type, shape });
  }
  if (unresolved.length > 0) {
    throw new UsageError(
      `'${label}' has dynamic dimensions that need a size: ${unresolved.join(', ')}; ` +
        'set them in the config under model.inputShape, by dimension name or position, e.g. {"height": 224, "3": 224}',
    );
  }
  return { shapes, unusedKeys: Object.keys(overrides).filter((key) => !used.has(key)) };
}

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);
const INTEGER_TYPES = new Set(['int64', 'int32', 'int16', 'uint64', 'uint32', 'uint16']);
const BYTE_TYPES = new Set(['int8', 'uint8']);

/**
 * Input values by element type. Floats: seeded standard normal. int8/uint8 (quantised images):
 * seeded uniform bytes. Wider integers are ids or masks: 0 (every embedding table has row 0, and
 * a random id would need a vocabulary size the model does not state), and 1 for inputs named like
 * masks (all positions attended). Booleans: true.
 */
function inputTensor(input: ResolvedInput, random: Random): { tensor: ort.Tensor; values: string } {
  const size = input.shape.reduce((product, dim) => product * dim, 1);
  const dims = [...input.shape];
  if (FLOAT_TYPES.has(input.type)) {
    const normal = Float32Array.from({ length: size }, () => random.normal());
    if (input.type === 'float32')
      return { tensor: new ort.Tensor('float32', normal, dims), values: 'seeded N(0, 1)' };
    if (input.type === 'float64') {
      return { tensor: new ort.Tensor('float64', Float64Array.from(normal), dims), values: 'seeded N(0, 1)' };
    }
    return {
      tensor: new ort.Tensor('float16', Uint16Array.from(normal, toHalfBits), dims),
      values: 'seeded N(0, 1)',
    };
  }
  if (BYTE_TYPES.has(input.type)) {
    const bytes = Uint8Array.from({ length: size }, () => random.int(256));
    return input.type === 'uint8'
      ? { tensor: new ort.Tensor('uint8', bytes, dims), values: 'seeded uniform bytes' }
      : { tensor: new ort.Tensor('int8', new Int8Array(bytes.buffer), dims), values: 'seeded uniform bytes' };
  }
  if (INTEGER_TYPES.has(input.type)) {
    const fill = /mask/i.test(input.name) ? 1 : 0;
    const values = fill === 1 ? 'ones (a mask)' : 'zeros (ids)';
    switch (input.type) {
      case 'int64':
        return { tensor: new ort.Tensor('int64', new BigInt64Array(size).fill(BigInt(fill)), dims), values };
      case 'uint64':
        return {
          tensor: new ort.Tensor('uint64', new BigUint64Array(size).fill(BigInt(fill)), dims),
          values,
        };
      case 'int32':
        return { tensor: new ort.Tensor('int32', new Int32Array(size).fill(fill), dims), values };
      case 'uint32':
        return { tensor: new ort.Tensor('uint32', new Uint32Array(size).fill(fill), dims), values };
      case 'int16':
        return { tensor: new ort.Tensor('int16', new Int16Array(size).fill(fill), dims), values };
      default:
        return { tensor: new ort.Tensor('uint16', new Uint16Array(size).fill(fill), dims), values };
    }
  }
  if (input.type === 'bool') {
    return { tensor: new ort.Tensor('bool', new Uint8Array(size).fill(1), dims), values: 'true' };
  }
  throw new UsageError(
    `input '${input.name}' has element type ${input.type}, which the review cannot fill; ` +
      'supported: float32, float64, float16, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool',
  );
}

/** IEEE half-precision bits of a float (round to nearest, ties away; enough for test inputs). */
function toHalfBits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (Number.isNaN(value)) return 0x7e00;
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -24) return sign;
  if (magnitude < 2 ** -14) return sign | Math.round(magnitude / 2 ** -24);
  const exponent = Math.floor(Math.log2(magnitude));
  const mantissa = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  return mantissa === 1024 ? sign | ((exponent + 16) << 10) : sign | ((exponent + 15) << 10) | mantissa;
}

interface RoundTimes {
  /** times[model][round] = that round's individually timed runs (ms). */
  readonly times: number[][][];
  readonly runsPerVisit: number[];
  readonly rounds: number;
  readonly loadAverage: readonly [number, number];
}

/** Warm-up, then interleaved rounds over `models`. */
async function timeRounds(
  models: readonly PreparedModel[],
  options: AbTimingOptions,
  logger: Logger,
): Promise<RoundTimes> {
  const runOnce = async (model: PreparedModel): Promise<number> => {
    const start = clockMs();
    await model.session.run(model.feeds);
    return clockMs() - start;
  };
  const warm: number[][] = models.map(() => []);
  for (let run = 0; run < options.warmupRuns; run++) {
    for (const [index, model] of models.entries()) warm[index]!.push(await runOnce(model));
  }
  // The first run pays for arena growth and planning; calibrate on the rest when there are any.
  const typical = warm.map((runs) => median(runs.length > 1 ? runs.slice(1) : runs));
  // One visit length for every model, set by the slowest: the first run of a visit, right after
  // the other model ran, meets colder caches, so models visited for different run counts would
  // carry that cost in different proportions (measured: a cell against itself read 11-14% apart
  // when a noisy warm-up gave one of them 1 run per visit and the other 9).
  const common = runsPerVisitFor(Math.max(...typical), options.minVisitMs);
  const runsPerVisit = models.map(() => common);
  const visitMs = typical.map((ms) => common * ms);
  const roundMs = visitMs.reduce((sum, ms) => sum + ms, 0);
  const rounds =
    options.rounds ??
    Math.min(MAX_AB_ROUNDS, Math.max(MIN_AB_ROUNDS, Math.ceil(options.targetMs / Math.max(roundMs, 1e-3))));
  logger.debug(
    `A/B timing: ${rounds} rounds of ${runsPerVisit.join(' + ')} runs (~${(rounds * roundMs).toFixed(0)} ms)`,
  );
  const order = new Random(options.seed).child('ab-order');
  const times = models.map(() => [] as number[][]);
  const loadBefore = os.loadavg()[0] ?? 0;
  const indices = models.map((_, index) => index);
  for (let round = 0; round < rounds; round++) {
    for (const index of order.shuffled(indices)) {
      const runs: number[] = [];
      for (let run = 0; run < runsPerVisit[index]!; run++) runs.push(await runOnce(models[index]!));
      times[index]!.push(runs);
    }
  }
  return { times, runsPerVisit, rounds, loadAverage: [loadBefore, os.loadavg()[0] ?? 0] };
}

export interface BootstrapResult {
  /** Per model: the median's interval. */
  readonly medians: readonly Interval[];
  /** median(model 1) / median(model 0), when there are two models. */
  readonly ratio?: Interval;
}

/**
 * Percentile bootstrap over rounds: each resample draws rounds with replacement and pools each
 * model's runs from them. Pure and seeded; `times[model][round]` as recorded by the timing loop.
 */
export function bootstrapRounds(
  times: readonly (readonly (readonly number[])[])[],
  resamples: number,
  confidence: number,
  random: Random,
): BootstrapResult {
  const rounds = times[0]?.length ?? 0;
  if (rounds === 0) throw new RangeError('no rounds to resample');
  const medians = times.map(() => new Float64Array(resamples));
  const ratios = new Float64Array(times.length === 2 ? resamples : 0);
  const picked = new Int32Array(rounds);
  for (let sample = 0; sample < resamples; sample++) {
    for (let i = 0; i < rounds; i++) picked[i] = random.int(rounds);
    times.forEach((perRound, model) => {
      let count = 0;
      for (const round of picked) count += perRound[round]!.length;
      const pooled = new Float64Array(count);
      let offset = 0;
      for (const round of picked) {
        pooled.set(perRound[round]!, offset);
        offset += perRound[round]!.length;
      }
      medians[model]![sample] = medianInPlace(pooled);
    });
    if (times.length === 2) ratios[sample] = medians[1]![sample]! / medians[0]![sample]!;
  }
  const tail = (1 - confidence) / 2;
  const interval = (values: Float64Array): Interval => ({
    low: quantile(values, tail),
    high: quantile(values, 1 - tail),
    confidence,
  });
  return { medians: medians.map(interval), ...(times.length === 2 ? { ratio: interval(ratios) } : {}) };
}

/** Median by quickselect (O(n); the bootstrap takes thousands of medians of thousands of runs). */
export function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const upper = Math.floor(n / 2);
  const lowerValue = n % 2 === 1 ? selectInPlace(values, upper) : selectInPlace(values, upper - 1);
  if (n % 2 === 1) return lowerValue;
  // After selecting index upper - 1, everything right of it is >= it: the upper middle is their minimum.
  let upperValue = Number.POSITIVE_INFINITY;
  for (let i = upper; i < n; i++) if (values[i]! < upperValue) upperValue = values[i]!;
  return (lowerValue + upperValue) / 2;
}

/** Rearranges `values` so that index k holds the k-th smallest, smaller before, larger after. */
function selectInPlace(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const pivot = values[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return values[k]!;
  }
  return values[k]!;
}

function summarise(
  model: PreparedModel,
  perRound: readonly number[][],
  runsPerVisit: number,
  interval: Interval,
): ModelTiming {
  const runs = perRound.flat();
  return {
    label: model.label,
    medianMs: median(runs),
    medianInterval: interval,
    p90Ms: quantile(runs, 0.9),
    minMs: Math.min(...runs),
    cv: robustCv(runs),
    runs: runs.length,
    runsPerVisit,
    inputs: model.inputs,
  };
}

function protocolOf(options: AbTimingOptions, recorded: RoundTimes): AbProtocol {
  return {
    onnxruntimeVersion: onnxruntimeVersion(),
    provider: options.provider,
    threads: options.threads,
    seed: options.seed,
    warmupRuns: options.warmupRuns,
    rounds: recorded.rounds,
    order:
      'interleaved rounds, each visiting every model once in a seeded random order; runs timed one by one',
    statistic: 'median of all timed runs; ratio = median(head) / median(base)',
    interval: `seeded percentile bootstrap over whole rounds, ${Math.round(options.confidence * 100)}%`,
    resamples: options.resamples,
    loadAverage: recorded.loadAverage,
  };
}

/** Times base and head interleaved in one run; sessions stay owned by the caller. */
export async function timeAB(
  base: PreparedModel,
  head: PreparedModel,
  requested: Partial<AbTimingOptions> = {},
  logger: Logger = silentLogger,
): Promise<AbTiming> {
  const options = validateAbOptions({ ...DEFAULT_AB_OPTIONS, ...requested });
  const started = clockMs();
  const recorded = await timeRounds([base, head], options, logger);
  const bootstrap = bootstrapRounds(
    recorded.times,
    options.resamples,
    options.confidence,
    new Random(options.seed).child('ab-bootstrap'),
  );
  const baseTiming = summarise(base, recorded.times[0]!, recorded.runsPerVisit[0]!, bootstrap.medians[0]!);
  const headTiming = summarise(head, recorded.times[1]!, recorded.runsPerVisit[1]!, bootstrap.medians[1]!);
  return {
    base: baseTiming,
    head: headTiming,
    ratio: headTiming.medianMs / baseTiming.medianMs,
    ratioInterval: bootstrap.ratio!,
    protocol: protocolOf(options, recorded),
    wallMs: clockMs() - started,
  };
}

/** Times one model with the same protocol (a head without a base still gets a latency). */
export async function timeSingle(
  model: PreparedModel,
  requested: Partial<AbTimingOptions> = {},
  logger: Logger = silentLogger,
): Promise<SingleTiming> {
  const options = validateAbOptions({ ...DEFAULT_AB_OPTIONS, ...requested });
  const started = clockMs();
  const recorded = await timeRounds([model], options, logger);
  const bootstrap = bootstrapRounds(
    recorded.times,
    options.resamples,
    options.confidence,
    new Random(options.seed).child('ab-bootstrap'),
  );
  return {
    model: summarise(model, recorded.times[0]!, recorded.runsPerVisit[0]!, bootstrap.medians[0]!),
    protocol: protocolOf(options, recorded),
    wallMs: clockMs() - started,
  };
}
