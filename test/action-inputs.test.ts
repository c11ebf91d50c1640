// The action's inputs: defaults, parsing, and errors that name the input and what is accepted.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { readActionSettings } from '../src/action/inputs.js';
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
    ['latency-budget', 'fast', /Invalid input 'latency-budget'.*e\.g\. 5ms/],
    [
      'dataset',
      'mnist',
      /Invalid input 'dataset': 'mnist'. Expected one of cifar10, cifar100, ImageNet16-120/,
    ],
    ['samples', '2', /Invalid input 'samples': '2'. Expected an integer >= 3/],
    ['verify', '1.5', /Invalid input 'verify'/],
    ['strategy', 'greedy', /Expected one of auto, controller, evolution, random, exhaustive/],
    ['cache', 'yes', /Invalid input 'cache': 'yes'. Expected true or false/],
    ['comment', 'sometimes', /Expected one of auto, always, on-change, never/],
    ['comment-key', 'two words', /Invalid input 'comment-key': 'two words'. Expected up to 200 letters/],
    ['check-run', 'maybe', /Invalid input 'check-run': 'maybe'. Expected true or false/],
    ['hardware-tag', 'my runner!', /Invalid input 'hardware-tag'/],
  ])('rejects %s=%s with a message naming it', (name, value, message) => {
    const read = () => readActionSettings(reader({ [name]: value }));
    expect(read).toThrow(UsageError);
    expect(read).toThrow(message);
  });
});
