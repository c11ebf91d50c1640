// The FBNet definition's operator list must reproduce the shared cost table (computed from the public
// definition) for all 5,000 rows, and architecture strings must round-trip or fail clearly.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import {
  bodyOperators,
  FBNET_SETTINGS,
  FbnetParseError,
  formatFbnetArch,
  layerShapes,
  parseFbnetArch,
} from '../src/spaces/fbnet/definition.js';
import { operatorMacs, operatorParams } from '../src/spaces/operators.js';

const COST_CSV = fileURLToPath(new URL('../../shared/data/fbnet/fbnet_cost.csv', import.meta.url));
const haveCosts = existsSync(COST_CSV);
if (!haveCosts) console.warn(`skipping FBNet cost checks: ${COST_CSV} not found`);

describe.skipIf(!haveCosts)('FBNet body cost vs fbnet_cost.csv', () => {
  it('matches MACs and params of the 22 layers for all 5,000 rows (1e-6 M)', () => {
    const [header, ...rows] = readFileSync(COST_CSV, 'utf8').trim().split('\n');
    const columns = header!.split(',');
    const [archAt, macsAt, paramsAt] = ['arch', 'macs_M_body', 'params_M_body'].map((c) =>
      columns.indexOf(c),
    );
    expect(rows).toHaveLength(5000);
    const mismatches: string[] = [];
    for (const row of rows) {
      const fields = row.split(',');
      const arch = parseFbnetArch(fields[archAt!]!);
      if (formatFbnetArch(arch) !== fields[archAt!])
        mismatches.push(`${fields[archAt!]} does not round-trip`);
      const ops = bodyOperators(arch, FBNET_SETTINGS.cifar100);
      const macsM = ops.reduce((sum, op) => sum + operatorMacs(op), 0) / 1e6;
      const paramsM = ops.reduce((sum, op) => sum + operatorParams(op), 0) / 1e6;
      if (
        Math.abs(macsM - Number(fields[macsAt!])) > 1e-6 ||
        Math.abs(paramsM - Number(fields[paramsAt!])) > 1e-6
      ) {
        mismatches.push(`${fields[archAt!]}: ${macsM} / ${paramsM}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('FBNet architecture strings and shapes', () => {
  it('rejects a wrong layer count or an unknown block, naming the layer and the accepted blocks', () => {
    const valid = Array.from({ length: 22 }, () => 'k3_e6');
    expect(() => parseFbnetArch(valid.slice(0, 21).join('-'))).toThrow(/found 21 layer\(s\), expected 22/);
    const bad = [...valid];
    bad[4] = 'k7_e6';
    expect(() => parseFbnetArch(bad.join('-'))).toThrow(FbnetParseError);
    expect(() => parseFbnetArch(bad.join('-'))).toThrow(/layer 5 is 'k7_e6'.*k3_e1, k3_e1_g2/);
  });

  it('halves the side at each stride-2 stage, ending at 4x4 on CIFAR and 7x7 on ImageNet', () => {
    const last = (name: 'cifar100' | 'imagenet') => layerShapes(FBNET_SETTINGS[name]).at(-1)!;
    expect(last('cifar100')).toMatchObject({ inSize: 4, inChannels: 184, outChannels: 352 });
    expect(last('imagenet')).toMatchObject({ inSize: 7, inChannels: 184, outChannels: 352 });
  });
});
