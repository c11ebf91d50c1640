// Inputs for running the real search in tests without ground truth or a proxy table: recorded-
// device tables of synthetic devices in the wide CSV shape, and a toy task score in [0, 1].
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { samplePrior, syntheticLatencies } from '../../src/devices/synthetic.js';
import { allCells, formatCell, opCounts } from '../../src/spaces/nb201/cell.js';
import { Random } from '../../src/util/random.js';

/** Writes `folder/name` with one column per device, each a synthetic device drawn from its seed. */
export function syntheticDeviceTable(
  folder: string,
  name: string,
  seeds: Readonly<Record<string, number>>,
): { file: string; latencies: Record<string, Float64Array> } {
  const latencies = Object.fromEntries(
    Object.entries(seeds).map(([column, seed]) => [
      column,
      syntheticLatencies(samplePrior(new Random(seed), 'cifar10')),
    ]),
  );
  const columns = Object.keys(seeds);
  const rows = allCells().map(
    (cell, code) => `${code},${formatCell(cell)},${columns.map((c) => latencies[c]![code]).join(',')}`,
  );
  const file = path.join(folder, name);
  writeFileSync(file, `index,arch_str,${columns.join(',')}\n${rows.join('\n')}\n`);
  return { file, latencies };
}

/** Convolutions raise the toy task score; it is in [0, 1] like the real one. */
export const toyTaskScores = (): Promise<{ scores: Float64Array; id: string }> => {
  const raw = allCells().map((c) => {
    const [, skip, c1, c3, pool] = opCounts(c);
    return 0.5 * c1! + c3! + 0.1 * pool! + 0.05 * skip!;
  });
  const max = Math.max(...raw);
  return Promise.resolve({ scores: Float64Array.from(raw, (r) => r / max), id: 'toy' });
};
