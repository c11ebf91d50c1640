// One CSV line split into fields, as the latency tables simnas reads and writes need it (quoted
// fields, "" for a quote, no field spanning lines); shared by the recorded-table reader
// (devices/recorded.ts), measure-table's resumable writer (hardware/record-table.ts) and the benchmarks.
import { UsageError } from '../errors.js';
import type { Architecture, SearchSpace } from '../spaces/space.js';
import { quote } from './quote.js';

/** Splits one CSV line into fields, honouring double quotes ("" inside quotes is a quote). */
export function splitCsvLine(line: string, where: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      wasQuoted = false;
    } else if (ch === '"' && field.length === 0 && !wasQuoted) {
      quoted = true;
      wasQuoted = true;
    } else if (wasQuoted) {
      throw new UsageError(
        `${where}: unexpected ${quote(ch)} after a closing quote; quote whole fields only`,
      );
    } else {
      field += ch;
    }
  }
  if (quoted) throw new UsageError(`${where}: unterminated quoted field (fields cannot span lines)`);
  fields.push(field);
  return fields;
}

/** The architecture in one CSV field; a bad one is a UsageError naming the row (`where`) and column. */
export function parseArchitectureField(
  space: SearchSpace,
  field: string | undefined,
  where: string,
  column: string,
): Architecture {
  try {
    return space.parse(field ?? '');
  } catch (error) {
    throw new UsageError(
      `${where}, column '${column}': ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
