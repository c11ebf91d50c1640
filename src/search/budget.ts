// Latency budgets as users write them: "5ms", "5" (milliseconds), "0.005s", "500us".
import { UsageError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };

/** Parses a budget into milliseconds; anything else is a UsageError that says what is accepted. */
export function parseBudget(text: string): number {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?\s*(ms|s|us|µs)?\s*$/i.exec(text);
  const value = match
    ? Number(`${match[1]}${match[2] ? `e${match[2]}` : ''}`) * UNITS[(match[3] ?? '').toLowerCase()]!
    : NaN;
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(
      `invalid latency budget '${text}'; expected a positive number of milliseconds, e.g. 5ms, 5, 0.005s or 500us`,
    );
  }
  return value;
}
