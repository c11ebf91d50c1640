// Interface conformance of every registered search space: text round trips, codes and keys,
// seeded sampling, single-edit neighbours, counts and descriptions, and the registry's own errors.
import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { SPACE_IDS, spaceById } from '../src/spaces/index.js';
import { Random } from '../src/util/random.js';

describe('space registry', () => {
  it('registers nb201, fbnet and macro and resolves ids case-insensitively', () => {
    expect(SPACE_IDS).toEqual(['nb201', 'fbnet', 'macro']);
    expect(spaceById('NB201').id).toBe('nb201');
  });

  it('rejects an unknown id with a usage error listing the accepted ids', () => {
    expect(() => spaceById('darts')).toThrow(UsageError);
    expect(() => spaceById('darts')).toThrow(new RegExp(`'darts'.*${SPACE_IDS.join(', ')}`));
  });
});

describe.each(SPACE_IDS.map((id) => [id]))('search space %s', (id) => {
  const space = spaceById(id);
  const samples = Array.from({ length: 40 }, (_, i) => space.sample(new Random(7).child(`sample ${i}`)));

  it('describes its positions and choices consistently', () => {
    expect(space.choices).toHaveLength(space.positions);
    expect(space.datasets.length).toBeGreaterThan(0);
    const size = space.choices.reduce((product, names) => product * names.length, 1);
    expect(space.size / size).toBeCloseTo(1, 12);
    expect(space.enumerable).toBe(size <= 1e6);
    for (let p = 0; p < space.positions; p++) expect(space.positionLabel(p)).toMatch(/\d/);
  });

  it('samples valid architectures, deterministically under a seed', () => {
    const again = Array.from({ length: 40 }, (_, i) => space.sample(new Random(7).child(`sample ${i}`)));
    expect(again).toEqual(samples);
    for (const a of samples) {
      expect(a).toHaveLength(space.positions);
      a.forEach((choice, p) => expect(choice).toBeLessThan(space.choices[p]!.length));
    }
    // 40 draws from a space this large are not all the same architecture.
    expect(new Set(samples.map((a) => space.key(a))).size).toBeGreaterThan(30);
  });

  it('round-trips the text form, the key, and (when enumerable) the code', () => {
    for (const a of samples) {
      expect(space.parse(space.format(a))).toEqual([...a]);
      expect(space.parse(`  ${space.format(a)}\n`)).toEqual([...a]);
      if (space.enumerable) {
        const code = space.code(a);
        expect(Number.isInteger(code) && code >= 0 && code < space.size).toBe(true);
        expect(space.fromCode(code)).toEqual([...a]);
      }
    }
    const keys = new Set(samples.map((a) => space.key(a)));
    const formats = new Set(samples.map((a) => space.format(a)));
    expect(keys.size).toBe(formats.size);
  });

  it('lists every single-position edit as a neighbour, and nothing else', () => {
    const a = samples[0]!;
    const neighbours = space.neighbours(a);
    const expected = space.choices.reduce((sum, names) => sum + names.length - 1, 0);
    expect(neighbours).toHaveLength(expected);
    expect(new Set(neighbours.map((n) => space.key(n))).size).toBe(expected);
    for (const n of neighbours) expect(n.filter((choice, p) => choice !== a[p])).toHaveLength(1);
  });

  it('counts params and FLOPs and describes every architecture on every dataset', () => {
    for (const dataset of space.datasets) {
      const counts = space.counts(samples[0]!, dataset);
      expect(counts.paramsM).toBeGreaterThan(0);
      expect(counts.flopsM).toBeGreaterThan(0);
      expect(space.describe(samples[0]!, dataset).length).toBeGreaterThan(0);
    }
    expect(() => space.counts(samples[0]!, 'mnist')).toThrow(UsageError);
  });

  it('deploys to an architecture of the same space that is its own deployment', () => {
    for (const a of samples) {
      const deployed = space.deployed(a);
      expect(space.deployed(deployed)).toEqual(deployed);
      if (space.isUsable(a)) expect(space.isUsable(deployed)).toBe(true);
    }
  });

  it('lists well-known designs that parse, and gives every architecture its public model form', () => {
    expect(space.references.length).toBeGreaterThan(0);
    for (const reference of space.references) {
      const architecture = space.parse(reference.architecture);
      expect(space.format(architecture)).toBe(reference.architecture);
      expect(reference.source.length).toBeGreaterThan(10);
    }
    for (const a of samples.slice(0, 5)) {
      for (const dataset of space.datasets) {
        const form = space.publicForm(a, dataset);
        expect(form.definition).toMatch(/\w/);
        // The form names the architecture completely: the text form or the index list.
        const named = Object.values(form.config).some(
          (value) => value === space.format(a) || (Array.isArray(value) && value.join() === a.join()),
        );
        expect(named).toBe(true);
      }
    }
  });

  it('rejects garbage with a usage error', () => {
    expect(() => space.parse('')).toThrow(UsageError);
    expect(() => space.parse('not an architecture')).toThrow(UsageError);
  });
});

describe('FBNet architecture strings through the space', () => {
  const fbnet = spaceById('fbnet');
  const layers = Array.from({ length: 22 }, () => 'k3_e6');

  it('names the layer count found and expected for 21 layers', () => {
    expect(() => fbnet.parse(layers.slice(1).join('-'))).toThrow(UsageError);
    expect(() => fbnet.parse(layers.slice(1).join('-'))).toThrow(/found 21 layer\(s\), expected 22/);
  });

  it('names the layer, the block found and the accepted blocks for an unknown block', () => {
    const bad = [...layers];
    bad[21] = 'k3_e9';
    expect(() => fbnet.parse(bad.join('-'))).toThrow(
      /layer 22 is 'k3_e9'.*k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip/,
    );
  });

  it('keys an architecture by its op_idx digits and describes it by stage, channels and stride', () => {
    const arch = fbnet.parse(layers.join('-'));
    expect(fbnet.key(arch)).toBe('3'.repeat(22));
    expect(() => fbnet.code(arch)).toThrow(/too large/);
    const rows = fbnet.describe(arch, 'cifar100');
    expect(rows[5]).toMatchObject({ layer: 6, stage: 3, channels: '24->32', stride: 2, block: 'k3_e6' });
    expect(fbnet.describe(arch, 'imagenet')[1]).toMatchObject({ stride: 2, input: '112x112' });
  });
});

describe('well-known designs', () => {
  it("maps FBNet-A/B/C onto FBNet's layers with the published ImageNet cost (249 / 295 / 375 M MACs)", () => {
    const fbnet = spaceById('fbnet');
    const macs = (name: string) => {
      const reference = fbnet.references.find((r) => r.name === name)!;
      return fbnet.counts(fbnet.parse(reference.architecture), 'imagenet').flopsM;
    };
    // Within 5%: this space's head has 1,984 channels (FBNet-A's own has 1,504) and counts the
    // classifier; a block read onto the wrong stage moves a network by more.
    expect(Math.abs(macs('FBNet-A') / 249 - 1)).toBeLessThan(0.05);
    expect(Math.abs(macs('FBNet-B') / 295 - 1)).toBeLessThan(0.05);
    expect(Math.abs(macs('FBNet-C') / 375 - 1)).toBeLessThan(0.05);
  });

  it('gives the public forms the public definitions take', () => {
    const nb201 = spaceById('nb201');
    const resnet = nb201.parse(nb201.references[0]!.architecture);
    expect(nb201.publicForm(resnet, 'cifar100').config).toEqual({
      name: 'infer.tiny',
      C: 16,
      N: 5,
      arch_str: nb201.references[0]!.architecture,
      num_classes: 100,
    });
    const fbnet = spaceById('fbnet');
    expect(fbnet.publicForm(fbnet.parse(fbnet.references[0]!.architecture), 'cifar100').config).toEqual({
      op_idx_list: Array<number>(22).fill(3),
      num_classes: 100,
      dataset: 'cifar100',
    });
  });
});
