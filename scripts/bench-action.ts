// `npm run bench:action`: the built action's wall time on a cold run (nothing cached: measure the
// samples, fit, search, verify) and on the warm run after it (measurements and fit restored from
// the cache), on one pull request, against the loopback GitHub and cache fakes of the tests.
// Repeats the pair (default 3 times, each with an empty cache) and prints every run and the medians;
// then a third run with the cache service answering 500 (an outage), against the cold run, which
// measures as much: what an outage adds to a run.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runBuiltAction, writePullRequestEvent } from '../test/support/action-runner.js';
import { startCacheServer } from '../test/support/cache-server.js';
import { startGithubServer } from '../test/support/github-server.js';

const pairs = Number(process.argv[2] ?? 3);
const github = await startGithubServer();
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const colds: number[] = [];
const warms: number[] = [];
const outages: number[] = [];
try {
  for (let pair = 0; pair < pairs; pair++) {
    const cache = await startCacheServer();
    const workspace = mkdtempSync(path.join(os.tmpdir(), 'simnas-bench-action-'));
    const run = async (id: number): Promise<number> => {
      const result = await runBuiltAction({
        workspace,
        inputs: { 'github-token': github.token, 'hardware-tag': 'bench' },
        env: {
          ...cache.env('v2'),
          GITHUB_API_URL: github.url,
          GITHUB_REPOSITORY: 'octo/models',
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_EVENT_PATH: writePullRequestEvent(workspace, { repository: 'octo/models', number: 1 }),
          GITHUB_RUN_ID: String(id),
        },
      });
      if (result.exitCode !== 0) throw new Error(`the action failed:\n${result.stdout.slice(-3000)}`);
      return result.wallMs / 1000;
    };
    const cold = await run(1);
    const warm = await run(2);
    cache.state.failAll = 500;
    const outage = await run(3);
    colds.push(cold);
    warms.push(warm);
    outages.push(outage);
    console.log(
      `pair ${pair + 1}: cold ${cold.toFixed(1)} s, warm ${warm.toFixed(1)} s (${((100 * warm) / cold).toFixed(0)}%), ` +
        `cache outage ${outage.toFixed(1)} s (${outage >= cold ? '+' : ''}${(outage - cold).toFixed(1)} s)`,
    );
    await cache.close();
    rmSync(workspace, { recursive: true, force: true });
  }
} finally {
  await github.close();
}
const ratio = median(warms.map((warm, i) => warm / colds[i]!));
console.log(
  `median of ${pairs}: cold ${median(colds).toFixed(1)} s, warm ${median(warms).toFixed(1)} s, ` +
    `warm/cold ${(100 * ratio).toFixed(0)}% (target <= 50%); cache outage ${median(outages).toFixed(1)} s, ` +
    `${median(outages.map((outage, i) => outage - colds[i]!)).toFixed(1)} s more than cold (target: seconds)`,
);
