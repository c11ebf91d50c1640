// Nominal params and FLOPs must equal NAS-Bench-201's published values for every cell and dataset;
// deployed counts must follow the live edges.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { describeCell, networkCost, networkCounts } from '../src/spaces/nb201/cost.js';
import { allCells, parseCell } from '../src/spaces/nb201/cell.js';
import { DATASETS } from '../src/spaces/nb201/datasets.js';

const GROUND_TRUTH = fileURLToPath(new URL('../../shared/data/nb201/', import.meta.url));
const COST_CSV = `${GROUND_TRUTH}nb201_cost.csv`;
const haveGroundTruth = existsSync(COST_CSV);
if (!haveGroundTruth) console.warn(`skipping published-cost checks: ${COST_CSV} not found`);

describe.skipIf(!haveGroundTruth)('nominal cost vs nb201_cost.csv', () => {
  it('matches published params (M, 1e-6) and FLOPs (M, 1e-6) for all 15,625 cells x 3 datasets', () => {
    const [header, ...rows] = readFileSync(COST_CSV, 'utf8').trim().split('\n');
    const columns = header!.split(',');
    const at = (name: string) => {
      const index = columns.indexOf(name);
      expect(index, `column ${name}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const archColumn = at('arch_str');
    expect(rows).toHaveLength(15625);
    const seen = new Set<string>();
    let checked = 0;
    for (const row of rows) {
      const fields = row.split(',');
      const arch = fields[archColumn]!;
      seen.add(arch);
      const cell = parseCell(arch);
      for (const dataset of DATASETS) {
        const { nominal } = networkCost(cell, dataset);
        const flops = Number(fields[at(`flops_M_${dataset}`)]);
        const params = Number(fields[at(`params_M_${dataset}`)]);
        if (Math.abs(nominal.flopsM - flops) > 1e-6 || Math.abs(nominal.paramsM - params) > 1e-6) {
          expect({ arch, dataset, flops: nominal.flopsM, params: nominal.paramsM }).toEqual({
            arch,
            dataset,
            flops,
            params,
          });
        }
        checked++;
      }
    }
    expect(seen.size).toBe(15625);
    expect(checked).toBe(15625 * 3);
  });
});

describe('deployed cost', () => {
  const RESNET = parseCell('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|');

  it('equals nominal when every edge is live', () => {
    const cell = parseCell(
      '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|',
    );
    const cost = networkCost(cell, 'cifar10');
    expect(cost.deployed).toEqual(cost.nominal);
  });

  it('drops exactly the dead edges', () => {
    // Edge 1<-0 conv3x3 feeds nothing once 2<-1 and 3<-1 are none: deployed = same cell without it.
    const dead = parseCell('|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|');
    const withoutDead = parseCell('|none~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|');
    for (const dataset of DATASETS) {
      expect(networkCounts(dead, dataset, true)).toEqual(networkCounts(withoutDead, dataset, false));
      expect(networkCounts(dead, dataset, false).params).toBeGreaterThan(
        networkCounts(dead, dataset, true).params,
      );
    }
  });

  it('never exceeds nominal, over the whole space', () => {
    for (const cell of allCells()) {
      const { nominal, deployed } = networkCost(cell, 'ImageNet16-120');
      expect(deployed.flopsM).toBeLessThanOrEqual(nominal.flopsM);
      expect(deployed.paramsM).toBeLessThanOrEqual(nominal.paramsM);
    }
  });

  it('describes live edges and connectivity', () => {
    const description = describeCell(RESNET, 'cifar100');
    expect(description.liveEdges).toEqual([
      { edge: '1<-0', op: 'nor_conv_3x3' },
      { edge: '2<-1', op: 'nor_conv_3x3' },
      { edge: '3<-0', op: 'skip_connect' },
      { edge: '3<-2', op: 'skip_connect' },
    ]);
    expect(description.connected).toBe(true);
    const disconnected = describeCell(
      parseCell('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|'),
      'cifar10',
    );
    expect(disconnected.connected).toBe(false);
    expect(disconnected.deployed.flopsM).toBeLessThan(disconnected.nominal.flopsM);
  });
});
