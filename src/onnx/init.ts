// Seeded weight initialisation shared by every space's network builder.
import type { Random } from '../util/random.js';

/**
 * Kaiming (He) normal draw for one tensor from its own labelled stream: weights ~ N(0, 2 / fan),
 * fan_in = in_channels * k * k preserves activation variance on the forward pass (PyTorch's
 * default mode), fan_out = out_channels * k * k gradient variance on the backward pass.
 */
export function kaimingNormal(random: Random, count: number, fan: number): Float32Array {
  const std = Math.sqrt(2 / fan);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = random.normal() * std;
  return values;
}

/**
 * Kaiming (He) uniform draw, U(-sqrt(6 / fan), sqrt(6 / fan)): the same variance as the normal
 * draw above, from a 32-bit generator (mulberry32) seeded by `random`. About 20x faster than
 * Box-Muller over the 64-bit stream, which matters for networks of millions of weights that are
 * built only to be timed (FBNet, NAS-Bench-Macro); NB201 keeps its normal draw so its networks and
 * proxy scores stay as they were.
 */
export function kaimingUniform(random: Random, count: number, fan: number): Float32Array {
  const bound = Math.sqrt(6 / fan);
  const scale = (2 * bound) / 2 ** 32;
  let state = Math.floor(random.next() * 2 ** 32) >>> 0;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) * scale - bound;
  }
  return values;
}
