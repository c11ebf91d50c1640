// action.yml is the one list of the action's inputs and outputs: the README's tables are generated
// from it (`npm run docs`), the action reads exactly the inputs it declares, and sets exactly the
// outputs it declares (checked on a real run in action-run.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { readActionMetadata, renderReadme, ROOT } from '../scripts/action-docs.js';
import { readActionSettings } from '../src/action/inputs.js';

describe('action.yml and the README', () => {
  it('the README inputs and outputs tables are generated from action.yml (run npm run docs)', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(renderReadme(readme, readActionMetadata())).toBe(readme);
  });

  it('the action reads every input action.yml declares, and no other', () => {
    const read = new Set<string>();
    readActionSettings((name) => {
      read.add(name);
      return '';
    }, '/repo');
    expect([...read].sort()).toEqual(Object.keys(readActionMetadata().inputs).sort());
  });

  it('every input and output has a description', () => {
    const { inputs, outputs } = readActionMetadata();
    for (const [name, field] of Object.entries({ ...inputs, ...outputs })) {
      expect(field.description, name).toMatch(/\S/);
    }
  });
});
