// Latency budgets as users write them: "5ms", "5" (milliseconds), "0.005s", "500us".
import { invalidValue } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };

/** What a budget may be, as every refusal and the options' help state it. */
export const BUDGET_ACCEPTED = 'a positive latency such as 5ms, 5 (ms), 0.005s or 500us';

/** Parses a budget (decimal digits and a unit) into milliseconds; a UsageError otherwise. */
export function parseBudget(text: string): number {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|us|µs)?\s*$/i.exec(text);
  if (!match) throw invalidValue(text, 'is not a latency', BUDGET_ACCEPTED);
  const value = Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]!;
  if (!(value > 0)) throw invalidValue(text, 'is not positive', BUDGET_ACCEPTED);
  return value;
}
