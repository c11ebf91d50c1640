// A device that answers from earlier measurements of the same hardware where it has them and
// measures only the rest. The action restores those measurements from its cache (only when the
// fingerprint and runtime versions match), so a warm run spends no real measurement twice.
import type { Architecture, SearchSpace } from '../spaces/space.js';
import type { Device, Measurement } from './device.js';

export class ReusingDevice implements Device {
  readonly kind;
  readonly name;
  /** Cells answered from earlier measurements so far. */
  reusedCount = 0;
  private readonly known: Map<number, number>;

  private readonly answered = new Map<number, number>();

  /**
   * `knownNoise`: the relative sd of each earlier measurement where it was recorded, so that what
   * depends on it (certifying a cell against the budget) is decided as it was when measured.
   */
  constructor(
    /** The space of the architectures (an enumerable one: earlier measurements are keyed by code). */
    private readonly space: SearchSpace,
    readonly inner: Device,
    known: ReadonlyMap<number, number>,
    private readonly knownNoise: ReadonlyMap<number, number> = new Map(),
  ) {
    this.kind = inner.kind;
    this.name = inner.name;
    this.known = new Map(known);
  }

  /** The recorded noise of the cells answered from earlier measurements so far in this run. */
  get noise(): ReadonlyMap<number, number> {
    return this.answered;
  }

  /** The recorded noise of reused cells, then whatever the inner device knows of its own. */
  measurementNoise(): Map<number, number> {
    const own = this.inner.measurementNoise?.();
    return new Map([...this.answered, ...(own instanceof Map ? own : [])]);
  }

  get conditions(): Device['conditions'] {
    return this.inner.conditions;
  }

  get protocol(): Device['protocol'] {
    return this.inner.protocol;
  }

  /** Every latency known now, earlier and new, by cell code. */
  get latencies(): ReadonlyMap<number, number> {
    return this.known;
  }

  async measure(cells: readonly Architecture[]): Promise<Measurement> {
    const codes = cells.map((cell) => this.space.code(cell));
    const unknown = [...new Set(codes.filter((code) => !this.known.has(code)))];
    const fresh =
      unknown.length > 0
        ? await this.inner.measure(unknown.map((code) => cells[codes.indexOf(code)]!))
        : { latenciesMs: new Float64Array(0), measurementsSpent: 0 };
    unknown.forEach((code, i) => this.known.set(code, fresh.latenciesMs[i]!));
    for (const code of codes) {
      if (unknown.includes(code)) continue;
      this.reusedCount++;
      const noise = this.knownNoise.get(code);
      if (noise !== undefined) this.answered.set(code, noise);
    }
    return {
      latenciesMs: Float64Array.from(codes, (code) => this.known.get(code)!),
      measurementsSpent: fresh.measurementsSpent,
    };
  }
}
