// The controller's networks: an actor MLP (observation -> logits over the 30 edge edits) and a
// critic MLP (observation -> value), as plain TensorFlow.js variables so that weights serialize to
// a flat list and load into any backend. Initialization draws from our seeded Random rather than
// tfjs initializers, so the same seed gives the same controller on every backend.
import type { Random } from '../util/random.js';
import { tf } from './tf.js';

export interface PolicyShape {
  readonly inputSize: number;
  readonly hidden: readonly number[];
  readonly actions: number;
}

export interface NamedWeights {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

interface Dense {
  readonly name: string;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
}

export class ActorCritic {
  private readonly actor: Dense[];
  private readonly critic: Dense[];

  constructor(
    readonly shape: PolicyShape,
    random: Random,
  ) {
    const sizes = [shape.inputSize, ...shape.hidden];
    const build = (prefix: string, outputs: number, lastScale: number): Dense[] => {
      const layers: Dense[] = [];
      const all = [...sizes, outputs];
      for (let i = 0; i + 1 < all.length; i++) {
        const last = i + 2 === all.length;
        layers.push(denseLayer(`${prefix}${i}`, all[i]!, all[i + 1]!, last ? lastScale : 1, random));
      }
      return layers;
    };
    // A near-zero last actor layer starts from a uniform policy, the usual PPO practice.
    this.actor = build('actor', shape.actions, 0.01);
    this.critic = build('critic', 1, 1);
  }

  get variables(): tf.Variable[] {
    return this.namedVariables().map(([, v]) => v);
  }

  /** Variables under stable role names (tfjs's own names must be unique per process). */
  private namedVariables(): [string, tf.Variable][] {
    return [...this.actor, ...this.critic].flatMap((d): [string, tf.Variable][] => [
      [`${d.name}/weight`, d.weight],
      [`${d.name}/bias`, d.bias],
    ]);
  }

  logits(observations: tf.Tensor2D): tf.Tensor2D {
    return forward(this.actor, observations);
  }

  values(observations: tf.Tensor2D): tf.Tensor1D {
    return forward(this.critic, observations).squeeze([1]);
  }

  getWeights(): NamedWeights[] {
    return this.namedVariables().map(([name, v]) => ({
      name,
      shape: v.shape,
      values: Float32Array.from(v.dataSync()),
    }));
  }

  setWeights(weights: readonly NamedWeights[]): void {
    const byName = new Map(weights.map((w) => [w.name, w]));
    for (const [name, variable] of this.namedVariables()) {
      const w = byName.get(name);
      if (!w || w.shape.join('x') !== variable.shape.join('x')) {
        throw new Error(`controller weights lack '${name}' of shape [${variable.shape.join(', ')}]`);
      }
      variable.assign(tf.tensor(w.values, [...w.shape]));
    }
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

function denseLayer(name: string, inputs: number, outputs: number, scale: number, random: Random): Dense {
  const std = scale * Math.sqrt(1 / inputs);
  const stream = random.child(name);
  const values = Float32Array.from({ length: inputs * outputs }, () => stream.normal() * std);
  return {
    name,
    weight: tf.variable(tf.tensor2d(values, [inputs, outputs])),
    bias: tf.variable(tf.zeros([outputs])),
  };
}

function forward(layers: readonly Dense[], input: tf.Tensor2D): tf.Tensor2D {
  let x = input;
  layers.forEach((layer, i) => {
    const z = x.matMul(layer.weight).add(layer.bias) as tf.Tensor2D;
    x = i + 1 < layers.length ? z.tanh() : z;
  });
  return x;
}
