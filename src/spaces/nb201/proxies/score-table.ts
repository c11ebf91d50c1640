// NB201's proxy table behind the SearchSpace interface's ScoreTable: what the core asks of a space
// whose every architecture has a committed task score (ProxyProvider does the work).
import type { Architecture, ScoreTable, ScoreTableOptions } from '../../space.js';
import type { Cell } from '../cell.js';
import { ProxyProvider } from './provider.js';
import { TASK_SCORE_FORMULA } from './score.js';
import { PROXY_ALGORITHM, effectiveCodes } from './table.js';

/** Distinct NB201 networks (effective cells), counted once. */
let networkCount: number | undefined;

export function openProxyTable(options: ScoreTableOptions): Promise<ScoreTable> {
  const provider = ProxyProvider.create({
    ...(options.calibrationImages ? { calibrationImages: options.calibrationImages } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return Promise.resolve({
    formula: TASK_SCORE_FORMULA,
    version: PROXY_ALGORITHM,
    get networks() {
      networkCount ??= effectiveCodes().length;
      return networkCount;
    },
    async lookup(architecture: Architecture, dataset: string) {
      const found = await provider.proxies(architecture as Cell, dataset);
      return { values: found.values, taskScore: found.taskScore, fromTable: found.source === 'table' };
    },
    allScores: (dataset, { computeMissing }) => provider.allTaskScores(dataset, { computeMissing }),
  });
}
