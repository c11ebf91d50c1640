// The action's inputs: defaults, parsing, and errors that name the input and what is accepted.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { INPUT_SPECS, readActionSettings } from '../src/action/inputs.js';
import { UsageError } from '../src/errors.js';

const reader =
  (inputs: Record<string, string>) =>
  (name: string): string =>
    inputs[name] ?? '';

describe('action inputs', () => {
  it('fills the defaults of action.yml', () => {
    const settings = readActionSettings(reader({}), '/repo');
    expect(settings).toMatchObject({
      dataset: 'cifar10',
      samples: 10,
      verify: 5,
      strategy: 'auto',
      seed: 0,
      cache: true,
      comment: 'auto',
      provider: 'cpu',
      threads: 1,
      hardwareTag: '',
      workingDirectory: path.resolve('/repo'),
      reportDir: path.resolve('/repo/simnas-report'),
    });
    expect(settings.budgetMs).toBeUndefined();
    // Without a dataset, the space's first; one of another space is refused, naming the input.
    expect(readActionSettings(reader({ space: 'fbnet' }), '/repo')).toMatchObject({
      space: 'fbnet',
      dataset: 'cifar100',
    });
    expect(readActionSettings(reader({ space: 'fbnet', dataset: 'ImageNet' }), '/repo').dataset).toBe(
      'imagenet',
    );
    expect(() => readActionSettings(reader({ space: 'fbnet', dataset: 'cifar10' }), '/repo')).toThrow(
      "Invalid input 'dataset': 'cifar10' is not a dataset of the fbnet space; expected one of cifar100, imagenet",
    );
  });

  it('parses given values', () => {
    const settings = readActionSettings(
      reader({
        'latency-budget': '0.005s',
        dataset: 'ImageNet16-120',
        samples: '12',
        strategy: 'exhaustive',
        cache: 'false',
        comment: 'never',
        'hardware-tag': 'jetson-orin',
        'working-directory': 'models',
        controller: 'ctl/controller.json',
        'comment-key': 'jetson/main-model',
        'check-run': 'true',
      }),
      '/repo',
    );
    expect(settings).toMatchObject({
      budgetMs: 5,
      dataset: 'ImageNet16-120',
      samples: 12,
      strategy: 'exhaustive',
      cache: false,
      comment: 'never',
      hardwareTag: 'jetson-orin',
      controllerPath: path.resolve('/repo/models/ctl/controller.json'),
      commentKey: 'jetson/main-model',
      checkRun: true,
    });
  });

  it.each([
    ['latency-budget', 'fast', /Invalid input 'latency-budget'.*such as 5ms/],
    [
      'dataset',
      'mnist',
      /Invalid input 'dataset': 'mnist' is not a dataset of the nb201 space; expected one of cifar10, cifar100, ImageNet16-120/,
    ],
    ['samples', '201', /Invalid input 'samples': '201' is out of range; expected an integer from 2 to 200/],
    ['verify', '1.5', /Invalid input 'verify'/],
    [
      'strategy',
      'greedy',
      /expected one of auto, controller, controller-untrained, evolution, local, random, exhaustive/,
    ],
    ['cache', 'yes', /Invalid input 'cache': 'yes' is not accepted; expected true or false/],
    ['comment', 'sometimes', /expected one of auto, always, on-change, never/],
    [
      'comment-key',
      'two words',
      /Invalid input 'comment-key': 'two words' is not a comment key; expected up to 200 letters/,
    ],
    ['check-run', 'maybe', /Invalid input 'check-run': 'maybe' is not accepted; expected true or false/],
    ['hardware-tag', 'my runner!', /Invalid input 'hardware-tag'/],
  ])('rejects %s=%s with a message naming it', (name, value, message) => {
    const read = () => readActionSettings(reader({ [name]: value }));
    expect(read).toThrow(UsageError);
    expect(read).toThrow(message);
  });
});

/** action.yml's inputs: name -> description and default, as the runner reads them. */
function actionYmlInputs(): Map<string, { description: string; default?: string }> {
  const text = readFileSync(new URL('../action.yml', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('\ninputs:\n'), text.indexOf('\noutputs:\n'));
  const inputs = new Map<string, { description: string; default?: string }>();
  const unquote = (value: string): string => value.trim().replace(/^(['"])(.*)\1$/, '$2');
  for (const match of section.matchAll(/^ {2}([\w-]+):\n((?: {4}.*\n?)+)/gm)) {
    const body = match[2]!;
    const description = /^ {4}description: (.*)$/m.exec(body)?.[1];
    const fallback = /^ {4}default: (.*)$/m.exec(body)?.[1];
    inputs.set(match[1]!, {
      description: unquote(description ?? ''),
      ...(fallback !== undefined ? { default: unquote(fallback) } : {}),
    });
  }
  return inputs;
}

describe('action.yml and the option specs', () => {
  const specs = INPUT_SPECS;
  const inputs = actionYmlInputs();

  it('declares every input the specs read, and nothing the specs do not know but the token', () => {
    expect([...inputs.keys()].sort()).toEqual(['github-token', ...specs.map((spec) => spec.input!)].sort());
  });

  it.each(specs.map((spec) => [spec.input!, spec] as const))(
    "'%s': its description states what the code accepts, and its default is the spec's",
    (name, spec) => {
      const declared = inputs.get(name)!;
      expect(declared.description).toContain(spec.value.accepted);
      expect(declared.default ?? '').toBe(spec.defaultText ?? '');
    },
  );
});
