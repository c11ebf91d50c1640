// NAS-Bench-Macro: the counts of every network equal the published params and FLOPs (all 6,561
// rows of ../shared/data/macro/macro_accuracy.csv), keys are the published codes, bad strings
// fail clearly, and a sample of the networks runs in onnxruntime-node.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { spaceById } from '../src/spaces/index.js';
import { Random } from '../src/util/random.js';

const MACRO_CSV = fileURLToPath(new URL('../../shared/data/macro/macro_accuracy.csv', import.meta.url));
const havePublished = existsSync(MACRO_CSV);
if (!havePublished) console.warn(`skipping NAS-Bench-Macro count checks: ${MACRO_CSV} not found`);

const space = spaceById('macro');

describe.skipIf(!havePublished)('NAS-Bench-Macro counts vs the published table', () => {
  it('equals the published params and FLOPs exactly, and the published code, for all 6,561 rows', () => {
    const [header, ...rows] = readFileSync(MACRO_CSV, 'utf8').trim().split(/\r?\n/);
    const columns = header!.split(',');
    const at = (name: string) => columns.indexOf(name);
    expect(rows).toHaveLength(6561);
    const mismatches: string[] = [];
    const codes = new Set<number>();
    for (const row of rows) {
      const fields = row.split(',');
      const arch = space.parse(fields[at('arch')]!);
      codes.add(space.code(arch));
      const { paramsM, flopsM } = space.counts(arch, 'cifar10');
      const params = Math.round(paramsM * 1e6);
      const flops = Math.round(flopsM * 1e6);
      if (
        space.key(arch) !== fields[at('code')] ||
        params !== Number(fields[at('params')]) ||
        flops !== Number(fields[at('flops')])
      ) {
        mismatches.push(`${fields[at('arch')]}: ${space.key(arch)} ${params} ${flops}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(codes.size).toBe(space.size);
  });
});

describe('NAS-Bench-Macro space', () => {
  it('is enumerable: 6,561 networks, codes 0..6560', () => {
    expect(space.enumerable).toBe(true);
    expect(space.size).toBe(6561);
    expect(space.format(space.fromCode(6560))).toBe(Array(8).fill('ir_5x5_t6').join('-'));
  });

  it('rejects a wrong layer count or an unknown block, naming the layer and the accepted blocks', () => {
    const valid = Array(8).fill('id');
    expect(() => space.parse(valid.slice(0, 7).join('-'))).toThrow(UsageError);
    expect(() => space.parse(valid.slice(0, 7).join('-'))).toThrow(/found 7 layer\(s\), expected 8/);
    const bad = [...valid];
    bad[2] = 'ir_7x7_t6';
    expect(() => space.parse(bad.join('-'))).toThrow(/layer 3 is 'ir_7x7_t6'.*id, ir_3x3_t3, ir_5x5_t6/);
  });

  it('describes a network layer by layer: stage, channels, stride, block', () => {
    const rows = space.describe(space.parse('id-ir_3x3_t3-ir_5x5_t6-id-id-id-id-id'), 'cifar10');
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatchObject({ layer: 1, stage: 1, channels: '32->64', stride: 2, block: 'id' });
    expect(rows[2]).toMatchObject({ stage: 2, channels: '64->128', stride: 2, block: 'ir_5x5_t6' });
  });

  it('runs a sample of networks in onnxruntime-node to [batch, 10] logits', async () => {
    const random = new Random(8);
    for (let i = 0; i < 12; i++) {
      const arch = space.sample(random);
      const batchSize = 1 + (i % 2);
      const network = space.network(arch, { dataset: 'cifar10', batchSize, seed: i });
      expect(network.outputShape).toEqual([batchSize, 10]);
      const session = await ort.InferenceSession.create(network.bytes);
      const images = Float32Array.from({ length: batchSize * 3 * 32 * 32 }, () => random.normal());
      const result = await session.run({
        [network.inputName]: new ort.Tensor('float32', images, [...network.inputShape]),
      });
      await session.release();
      const logits = result[session.outputNames[0]!]!;
      expect(logits.dims).toEqual([batchSize, 10]);
      expect((logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    }
  });
});
