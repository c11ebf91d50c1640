// The PPO controller on a toy prior: deterministic, resumable pretraining, the artifact's file
// format and its refusal when trained for something else, and the bundled controllers.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  checkCompatible,
  parseArtifact,
  serializeArtifact,
  type ControllerArtifact,
} from '../src/controller/artifact.js';
import {
  policyShapeFor,
  pretrain,
  PretrainInterrupted,
  type CurvePoint,
  type PretrainInputs,
  type PretrainSettings,
} from '../src/controller/pretrain.js';
import { UsageError } from '../src/errors.js';
import { allCells, opCounts } from '../src/spaces/nb201/cell.js';
import { DATASETS } from '../src/spaces/nb201/datasets.js';
import { silentLogger, type Logger } from '../src/util/log.js';
import type { Random } from '../src/util/random.js';
import { runCliCaptured } from './support/cli.js';
import { nb201Space } from '../src/spaces/nb201/space.js';

/** A toy prior: per-op costs drawn at random; a toy task score that prefers convolutions. */
function toyInputs(): PretrainInputs {
  const counts = allCells().map(opCounts);
  const raw = counts.map(([, skip, c1, c3, pool]) => 0.6 * c1! + c3! + 0.2 * pool! + 0.1 * skip!);
  const max = Math.max(...raw);
  return {
    space: nb201Space,
    taskScore: Float64Array.from(raw, (r) => r / max),
    taskScoreId: 'toy',
    priorHash: 'toy-prior',
    sampleDeviceLatencies: (random: Random) => {
      const cost = [0.01, 0.05, 0.2 + random.next(), 0.5 + 3 * random.next(), 0.1 + random.next()];
      return Float64Array.from(counts, (c) => 1 + c.reduce((sum, n, op) => sum + n * cost[op]!, 0));
    },
  };
}

/** Environment steps in one PPO iteration of SMALL: one 512-step minibatch, 4 Adam updates. */
const ITERATION = 64 * 12;

const SMALL: PretrainSettings = {
  dataset: 'cifar10',
  timesteps: 8 * ITERATION,
  seed: 3,
  episodes: 64,
  stepsPerEpisode: 12,
  hidden: [32, 32],
  learningRate: 3e-3,
  budgetQuantiles: [0.05, 0.95],
  checkpointEvery: 2,
  evaluateEvery: 4,
};

/** A logger that keeps its info lines. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: { ...silentLogger, info: (message) => lines.push(message) }, lines };
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'simnas-controller-'));
}

const weightsOf = (artifact: ControllerArtifact): number[][] =>
  artifact.weights.map((w) => Array.from(w.values));

/** A curve point without its wall-clock time, the one column a resumed run may not share. */
const withoutTime = ({ seconds: _seconds, ...rest }: CurvePoint): Omit<CurvePoint, 'seconds'> => rest;

describe('pretraining', () => {
  it('is deterministic for a seed, writes a curve, and learns on a toy prior', async () => {
    const a = await pretrain(SMALL, toyInputs(), { outDir: tempDir(), logger: silentLogger });
    const b = await pretrain(SMALL, toyInputs(), { outDir: tempDir(), logger: silentLogger });
    expect(weightsOf(a.artifact)).toEqual(weightsOf(b.artifact));
    const regrets = a.curve.flatMap((p) => (p.evaluationRegret === undefined ? [] : [p.evaluationRegret]));
    // The curve starts with the untrained policy's evaluation (iteration 0, before any update).
    expect(regrets).toHaveLength(3);
    expect(a.curve[0]).toMatchObject({ iteration: 0, timesteps: 0 });
    expect(a.curve[0]!.meanReward).toBeUndefined();
    const csv = readFileSync(a.curvePath, 'utf8').trim().split('\n');
    expect(csv[0]).toContain('evaluationRegret');
    expect(csv).toHaveLength(1 + 1 + 8);
    expect(csv[1]).toMatch(/^0,0,0,,,,,,\d/);
    // An untrained policy wanders (mean reward near 0); a learning one climbs toward better cells.
    const trained = a.curve.slice(1);
    const meanReward = (points: typeof a.curve): number =>
      points.reduce((sum, p) => sum + p.meanReward!, 0) / points.length;
    expect(meanReward(trained.slice(0, 2))).toBeLessThan(0.2);
    expect(meanReward(trained.slice(4))).toBeGreaterThan(meanReward(trained.slice(0, 4)) + 0.3);
  });

  it('resumes an interrupted or extended run bit for bit: same weights and curve as an uninterrupted one', async () => {
    // 6 iterations, evaluated at 5 and 6: every run below ends on an evaluation, as a finished one does.
    const settings = { ...SMALL, timesteps: 6 * ITERATION, evaluateEvery: 5 };
    const straight = await pretrain(settings, toyInputs(), { outDir: tempDir(), logger: silentLogger });
    const dir = tempDir();
    const stop = new AbortController();
    stop.abort();
    await expect(
      pretrain({ ...settings, timesteps: 5 * ITERATION }, toyInputs(), {
        outDir: dir,
        logger: silentLogger,
        signal: stop.signal,
      }),
    ).rejects.toThrow(PretrainInterrupted);
    const checkpoint = path.join(dir, 'checkpoint.json');
    expect(existsSync(checkpoint)).toBe(true);
    const first = await pretrain({ ...settings, timesteps: 5 * ITERATION }, toyInputs(), {
      outDir: dir,
      logger: silentLogger,
    });
    expect(first.resumedFrom).toBe(1);
    // Extended from iteration 5 (20 Adam updates): tfjs's own restore of Adam's beta powers
    // (pow(0.999, 21)) rounds differently from the running product it keeps, which showed here.
    const older = tempDir();
    cpSync(dir, older, { recursive: true });
    const resumed = await pretrain(settings, toyInputs(), { outDir: dir, logger: silentLogger });
    expect(resumed.resumedFrom).toBe(5);
    expect(weightsOf(resumed.artifact)).toEqual(weightsOf(straight.artifact));
    expect(resumed.curve.map(withoutTime)).toEqual(straight.curve.map(withoutTime));

    // A checkpoint from before the beta powers were recorded: they are recomputed, exactly.
    const state = JSON.parse(readFileSync(path.join(older, 'checkpoint.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(state['adamPowers']).toBeDefined();
    delete state['adamPowers'];
    writeFileSync(path.join(older, 'checkpoint.json'), JSON.stringify(state));
    const fromOlder = await pretrain(settings, toyInputs(), { outDir: older, logger: silentLogger });
    expect(weightsOf(fromOlder.artifact)).toEqual(weightsOf(straight.artifact));
  });

  it('refuses a checkpoint written with other settings, naming them and what to do', async () => {
    const dir = tempDir();
    await pretrain({ ...SMALL, timesteps: ITERATION }, toyInputs(), { outDir: dir, logger: silentLogger });
    const refusal = pretrain({ ...SMALL, seed: 4, hidden: [16] }, toyInputs(), {
      outDir: dir,
      logger: silentLogger,
    });
    await expect(refusal).rejects.toThrow(UsageError);
    await expect(refusal).rejects.toThrow(
      'other settings: seed 3 in the checkpoint, 4 now; hidden [32,32] in the checkpoint, [16] now; ' +
        'to resume it, run with the settings it was written with; to start a new pretraining, pass another --out',
    );
  });

  it('rounds steps up to whole iterations, and refuses fewer iterations than its checkpoint holds', async () => {
    const dir = tempDir();
    const two = await pretrain({ ...SMALL, timesteps: 2 * ITERATION }, toyInputs(), {
      outDir: dir,
      logger: silentLogger,
    });
    const { logger, lines } = recordingLogger();
    // A controller of 1 iteration cannot come from a checkpoint of 2: refused, saying what to pass.
    await expect(pretrain({ ...SMALL, timesteps: 10 }, toyInputs(), { outDir: dir, logger })).rejects.toThrow(
      new UsageError(
        `${path.join(dir, 'checkpoint.json')} already holds 2 PPO iterations (1536 steps), more than the 1 ` +
          'requested (10 steps); pass --steps 1536 or more to continue that pretraining, or another --out for a shorter one',
      ),
    );
    expect(lines).toContain('10 steps rounded up to 1 whole PPO iteration of 768 (768 steps)');
    // Exactly as many as it holds: the controller is written from the checkpoint, saying so.
    const again = await pretrain({ ...SMALL, timesteps: 2 * ITERATION - 5 }, toyInputs(), {
      outDir: dir,
      logger,
    });
    expect(lines).toContain('1531 steps rounded up to 2 whole PPO iterations of 768 (1536 steps)');
    expect(lines).toContain(
      `${path.join(dir, 'checkpoint.json')} already holds all 2 PPO iterations; writing the controller from it`,
    );
    expect(again.resumedFrom).toBe(2);
    expect(weightsOf(again.artifact)).toEqual(weightsOf(two.artifact));
    await expect(pretrain({ ...SMALL, timesteps: 0 }, toyInputs(), { outDir: dir, logger })).rejects.toThrow(
      'cannot pretrain for 0 steps; expected a positive integer number of environment steps',
    );
  });
});

describe('simnas pretrain command line', () => {
  const cli = runCliCaptured;

  it.each(['0', '-3072', '1.5', 'many'])('--steps %s: exit 2 saying what is accepted', async (steps) => {
    const run = await cli('pretrain', '--steps', steps, '--out', tempDir());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--steps: '${steps}' is ${/^-?\d+$/.test(steps) ? 'out of range' : 'not a decimal integer'}; expected a positive integer (rounded up to whole PPO iterations of 3072 steps`,
    );
  });

  it('takes --steps below one iteration, and refuses an --out that is a file before any work', async () => {
    const file = path.join(tempDir(), 'controller.json');
    writeFileSync(file, '{}');
    const run = await cli('pretrain', '--steps', '10', '--out', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--out '${file}'`);
    expect(run.stderr).toContain('is a file, not a folder');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('controller artifact', () => {
  async function smallArtifact(): Promise<ControllerArtifact> {
    const result = await pretrain({ ...SMALL, timesteps: 64 * 12 }, toyInputs(), {
      outDir: tempDir(),
      logger: silentLogger,
    });
    return result.artifact;
  }

  it('round-trips through its file format', async () => {
    const artifact = await smallArtifact();
    const parsed = parseArtifact(serializeArtifact(artifact), 'test.json');
    expect(parsed.metadata).toEqual(artifact.metadata);
    expect(weightsOf(parsed)).toEqual(weightsOf(artifact));
  });

  it('is refused when trained for another prior, dataset or policy shape', async () => {
    const { metadata } = await smallArtifact();
    const expected = {
      space: 'nb201',
      dataset: 'cifar10' as const,
      priorHash: 'toy-prior',
      policy: policyShapeFor(nb201Space, [32, 32]),
    };
    expect(() => checkCompatible(metadata, expected, 'x')).not.toThrow();
    expect(() => checkCompatible(metadata, { ...expected, priorHash: 'other' }, 'x')).toThrow(
      /prior toy-prior/,
    );
    expect(() => checkCompatible(metadata, { ...expected, dataset: 'cifar100' }, 'x')).toThrow(UsageError);
    expect(() =>
      checkCompatible(metadata, { ...expected, policy: policyShapeFor(nb201Space, [64, 64]) }, 'x'),
    ).toThrow(/policy/);
  });

  it('rejects files that are not controllers with a clear message', () => {
    expect(() => parseArtifact('nope', 'a.json')).toThrow(/a.json is not a simnas controller \(not JSON/);
    expect(() => parseArtifact('{"format":"other"}', 'b.json')).toThrow(
      /b.json is not a valid simnas controller: format/,
    );
  });
});

describe('the bundled controllers', () => {
  it.each(DATASETS)(
    '%s: loads, pretrained on the prior, proxy table and task score rule committed now',
    async (dataset) => {
      const { loadController } = await import('../src/pipeline/index.js');
      const { ProxyProvider } = await import('../src/spaces/nb201/proxies/provider.js');
      const controller = loadController(undefined, nb201Space, dataset);
      try {
        // A change of the prior is refused by loadController itself; a change of the task score
        // rule or table only shows here: pretrain again (`simnas pretrain --dataset <dataset>`).
        const { id } = await ProxyProvider.create({ logger: silentLogger }).allTaskScores(dataset, {
          computeMissing: false,
        });
        expect(controller.artifact.metadata.taskScoreId).toBe(id);
      } finally {
        controller.policy.dispose();
      }
    },
  );
});
