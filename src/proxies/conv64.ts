// Float64 convolution kernels (forward, input gradient, weight gradient) and the pooling layers of
// the NB201 macro network, for one image in [channels, height, width] layout. Written for synflow:
// its values span 1e26..1e61, beyond float32, and no installed engine runs float64 convolutions.
// The shapes NB201 uses (3x3 stride 1, 1x1, 3x3 stride 2 on even sides) have specialised loops that
// V8 keeps tight. The 1x1 and stride-2 loops add the same terms in the same order as the general
// reference loops (which serve every other shape); the stride-1 3x3 loop adds each input channel's
// nine taps as one group, as every version of it has: speed-ups here must not change a bit.

/** A feature map of one image. */
export interface FeatureMap {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float64Array;
}

export function zeroMap(channels: number, height: number, width: number): FeatureMap {
  return { channels, height, width, data: new Float64Array(channels * height * width) };
}

export function filledMap(channels: number, height: number, width: number, value: number): FeatureMap {
  const map = zeroMap(channels, height, width);
  map.data.fill(value);
  return map;
}

/** Adds `source` into `target` element-wise (same shape). */
export function addInto(target: FeatureMap, source: FeatureMap): void {
  const t = target.data;
  const s = source.data;
  for (let i = 0; i < t.length; i++) t[i]! += s[i]!;
}

/** Output side of a square convolution with symmetric padding (k - 1) / 2. */
function outputSide(side: number, kernel: number, stride: number): number {
  const pad = (kernel - 1) >> 1;
  return Math.floor((side + 2 * pad - kernel) / stride) + 1;
}

/** For tap offset `tap` (0..k-1): the first and one-past-last output index reading inside the input. */
function validRange(
  tap: number,
  pad: number,
  stride: number,
  inSide: number,
  outSide: number,
): [number, number] {
  const shift = tap - pad;
  const first = Math.max(0, Math.ceil(-shift / stride));
  const last = Math.min(outSide - 1, Math.floor((inSide - 1 - shift) / stride));
  return [first, last + 1];
}

/**
 * The map copied into a zero border of `pad` pixels, row pitch width + 2 * pad. In this layout a
 * stride-1 convolution tap is one long contiguous loop over all rows (the few wrapped positions
 * land in the border columns of the output and are dropped), which V8 runs far faster than
 * per-row loops.
 */
function padded(map: FeatureMap, pad: number): Float64Array {
  const { channels, height, width, data } = map;
  const pitch = width + 2 * pad;
  const rows = height + 2 * pad;
  const out = new Float64Array(channels * rows * pitch);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const from = (c * height + y) * width;
      out.set(data.subarray(from, from + width), (c * rows + y + pad) * pitch + pad);
    }
  }
  return out;
}

/** Output positions of a stride-1 conv in padded-pitch layout: rows of `pitch`, `width` used. */
function spanOf(height: number, width: number, pitch: number): number {
  return (height - 1) * pitch + width;
}

/** out[o] = sum_i W[o, i] * in[i] (cross-correlation, no bias), weights [out, in, k, k]. */
export function conv2d(
  input: FeatureMap,
  weights: Float64Array,
  outChannels: number,
  kernel: number,
  stride: number,
): FeatureMap {
  if (kernel === 1 && stride === 1) {
    const out = zeroMap(outChannels, input.height, input.width);
    mixChannels(input.data, input.channels, out.data, outChannels, input.height * input.width, weights, {
      outStride: input.channels,
      inStride: 1,
    });
    return out;
  }
  if (kernel === 3 && stride === 2 && isEven(input.height, input.width)) {
    return conv3x3Stride2(input, weights, outChannels);
  }
  if (kernel !== 3 || stride !== 1) return conv2dStrided(input, weights, outChannels, kernel, stride);
  return convolve3x3(input, outChannels, weights);
}

/** Gradient of a conv2d with respect to its input, given the gradient of its output. */
export function conv2dInputGradient(
  outputGradient: FeatureMap,
  weights: Float64Array,
  inChannels: number,
  inHeight: number,
  inWidth: number,
  kernel: number,
  stride: number,
): FeatureMap {
  if (kernel === 1 && stride === 1) {
    const { channels: cout, height, width } = outputGradient;
    const grad = zeroMap(inChannels, height, width);
    mixChannels(outputGradient.data, cout, grad.data, inChannels, height * width, weights, {
      outStride: 1,
      inStride: inChannels,
    });
    return grad;
  }
  if (kernel === 3 && stride === 2 && isEven(inHeight, inWidth)) {
    return conv3x3Stride2InputGradient(outputGradient, weights, inChannels, inHeight, inWidth);
  }
  if (kernel !== 3 || stride !== 1) {
    return conv2dInputGradientStrided(outputGradient, weights, inChannels, inHeight, inWidth, kernel, stride);
  }
  // A stride-1 'same' conv's input gradient is the conv of the output gradient with the kernel
  // rotated by 180 degrees and its channel axes swapped.
  const cout = outputGradient.channels;
  const rotated = new Float64Array(weights.length);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let t = 0; t < 9; t++)
        rotated[(i * cout + o) * 9 + t] = weights[(o * inChannels + i) * 9 + 8 - t]!;
    }
  }
  return convolve3x3(outputGradient, inChannels, rotated);
}

/** Gradient of a conv2d with respect to its weights, [out, in, k, k]. */
export function conv2dWeightGradient(
  input: FeatureMap,
  outputGradient: FeatureMap,
  kernel: number,
  stride: number,
): Float64Array {
  if (kernel === 1 && stride === 1) return pointwiseWeightGradient(input, outputGradient);
  if (kernel === 3 && stride === 2 && isEven(input.height, input.width)) {
    return conv3x3Stride2WeightGradient(input, outputGradient);
  }
  if (kernel !== 3 || stride !== 1) return conv2dWeightGradientStrided(input, outputGradient, kernel, stride);
  const { channels: cin, height: h, width: w } = input;
  const cout = outputGradient.channels;
  const pitch = w + 2;
  const plane = (h + 2) * pitch;
  const span = spanOf(h, w, pitch);
  const src = padded(input, 1);
  // The output gradient in the same pitch, zero in the border columns so wrapped taps add 0.
  const g = new Float64Array(cout * span);
  for (let o = 0; o < cout; o++) {
    for (let y = 0; y < h; y++) {
      const from = (o * h + y) * w;
      g.set(outputGradient.data.subarray(from, from + w), o * span + y * pitch);
    }
  }
  const grad = new Float64Array(cout * cin * 9);
  let o = 0;
  for (; o + 2 <= cout; o += 2) {
    for (let i = 0; i < cin; i++) {
      const first = (o * cin + i) * 9;
      correlate3x3Pair(grad, first, first + cin * 9, g, o * span, src, i * plane, pitch, span);
    }
  }
  for (; o < cout; o++) {
    for (let i = 0; i < cin; i++)
      correlate3x3(grad, (o * cin + i) * 9, g, o * span, src, i * plane, pitch, span);
  }
  return grad;
}

/** The stride-2 kernels below assume even sides (NB201's 32, 16 and 8); others take the reference loops. */
function isEven(height: number, width: number): boolean {
  return height % 2 === 0 && width % 2 === 0;
}

/**
 * A 1x1 convolution (or its input gradient): dst[d] += sum_s W[d * outStride + s * inStride] *
 * src[s] over whole planes, four source channels per pass. Terms are added left to right in
 * source-channel order, the order one pass per source channel would add them in.
 */
function mixChannels(
  src: Float64Array,
  srcChannels: number,
  dst: Float64Array,
  dstChannels: number,
  area: number,
  weights: Float64Array,
  { outStride, inStride }: { outStride: number; inStride: number },
): void {
  for (let d = 0; d < dstChannels; d++) {
    const at = d * area;
    let s = 0;
    for (; s + 4 <= srcChannels; s += 4) {
      const w0 = weights[d * outStride + s * inStride]!;
      const w1 = weights[d * outStride + (s + 1) * inStride]!;
      const w2 = weights[d * outStride + (s + 2) * inStride]!;
      const w3 = weights[d * outStride + (s + 3) * inStride]!;
      const x0 = s * area;
      const x1 = x0 + area;
      const x2 = x1 + area;
      const x3 = x2 + area;
      for (let q = 0; q < area; q++) {
        dst[at + q] =
          dst[at + q]! + w0 * src[x0 + q]! + w1 * src[x1 + q]! + w2 * src[x2 + q]! + w3 * src[x3 + q]!;
      }
    }
    for (; s < srcChannels; s++) {
      const weight = weights[d * outStride + s * inStride]!;
      const x = s * area;
      for (let q = 0; q < area; q++) dst[at + q]! += weight * src[x + q]!;
    }
  }
}

/** grad[o, i] = sum over positions of g[o] * x[i], four input channels per pass over g[o]. */
function pointwiseWeightGradient(input: FeatureMap, outputGradient: FeatureMap): Float64Array {
  const cin = input.channels;
  const cout = outputGradient.channels;
  const area = input.height * input.width;
  const x = input.data;
  const g = outputGradient.data;
  const grad = new Float64Array(cout * cin);
  for (let o = 0; o < cout; o++) {
    const at = o * area;
    let i = 0;
    for (; i + 4 <= cin; i += 4) {
      const x0 = i * area;
      const x1 = x0 + area;
      const x2 = x1 + area;
      const x3 = x2 + area;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let q = 0; q < area; q++) {
        const v = g[at + q]!;
        s0 += v * x[x0 + q]!;
        s1 += v * x[x1 + q]!;
        s2 += v * x[x2 + q]!;
        s3 += v * x[x3 + q]!;
      }
      grad[o * cin + i] = s0;
      grad[o * cin + i + 1] = s1;
      grad[o * cin + i + 2] = s2;
      grad[o * cin + i + 3] = s3;
    }
    for (; i < cin; i++) {
      let sum = 0;
      for (let q = 0; q < area; q++) sum += g[at + q]! * x[i * area + q]!;
      grad[o * cin + i] = sum;
    }
  }
  return grad;
}

/**
 * 3x3 conv, stride 2, padding 1, on a zero-bordered copy: out[y, x] reads padded rows 2y..2y+2 and
 * columns 2x..2x+2. Terms are added in the reference order (input channel, tap row, tap column);
 * the border only adds zeros.
 */
function conv3x3Stride2(input: FeatureMap, weights: Float64Array, outChannels: number): FeatureMap {
  const { channels: cin, height: h, width: w } = input;
  const oh = h >> 1;
  const ow = w >> 1;
  const pitch = w + 2;
  const plane = (h + 2) * pitch;
  const src = padded(input, 1);
  const out = zeroMap(outChannels, oh, ow);
  const dst = out.data;
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < cin; i++) {
      const k = (o * cin + i) * 9;
      const w0 = weights[k]!;
      const w1 = weights[k + 1]!;
      const w2 = weights[k + 2]!;
      const w3 = weights[k + 3]!;
      const w4 = weights[k + 4]!;
      const w5 = weights[k + 5]!;
      const w6 = weights[k + 6]!;
      const w7 = weights[k + 7]!;
      const w8 = weights[k + 8]!;
      for (let y = 0; y < oh; y++) {
        const r0 = i * plane + 2 * y * pitch;
        const r1 = r0 + pitch;
        const r2 = r1 + pitch;
        const at = (o * oh + y) * ow;
        for (let x = 0; x < ow; x++) {
          const c = 2 * x;
          dst[at + x] =
            dst[at + x]! +
            w0 * src[r0 + c]! +
            w1 * src[r0 + c + 1]! +
            w2 * src[r0 + c + 2]! +
            w3 * src[r1 + c]! +
            w4 * src[r1 + c + 1]! +
            w5 * src[r1 + c + 2]! +
            w6 * src[r2 + c]! +
            w7 * src[r2 + c + 1]! +
            w8 * src[r2 + c + 2]!;
        }
      }
    }
  }
  return out;
}

/** Weight gradient of conv3x3Stride2: nine sums per (out, in) pair over the output positions. */
function conv3x3Stride2WeightGradient(input: FeatureMap, outputGradient: FeatureMap): Float64Array {
  const { channels: cin, height: h, width: w } = input;
  const { channels: cout, height: oh, width: ow } = outputGradient;
  const pitch = w + 2;
  const plane = (h + 2) * pitch;
  const src = padded(input, 1);
  const g = outputGradient.data;
  const grad = new Float64Array(cout * cin * 9);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        s4 = 0,
        s5 = 0,
        s6 = 0,
        s7 = 0,
        s8 = 0;
      for (let y = 0; y < oh; y++) {
        const r0 = i * plane + 2 * y * pitch;
        const r1 = r0 + pitch;
        const r2 = r1 + pitch;
        const at = (o * oh + y) * ow;
        for (let x = 0; x < ow; x++) {
          const v = g[at + x]!;
          const c = 2 * x;
          s0 += v * src[r0 + c]!;
          s1 += v * src[r0 + c + 1]!;
          s2 += v * src[r0 + c + 2]!;
          s3 += v * src[r1 + c]!;
          s4 += v * src[r1 + c + 1]!;
          s5 += v * src[r1 + c + 2]!;
          s6 += v * src[r2 + c]!;
          s7 += v * src[r2 + c + 1]!;
          s8 += v * src[r2 + c + 2]!;
        }
      }
      const k = (o * cin + i) * 9;
      grad[k] = s0;
      grad[k + 1] = s1;
      grad[k + 2] = s2;
      grad[k + 3] = s3;
      grad[k + 4] = s4;
      grad[k + 5] = s5;
      grad[k + 6] = s6;
      grad[k + 7] = s7;
      grad[k + 8] = s8;
    }
  }
  return grad;
}

/**
 * Input gradient of conv3x3Stride2, gathered per input pixel. Input row y is padded row y + 1 =
 * 2 oy + ky: an even y = 2m is read by tap row 1 only (oy = m); an odd y = 2m + 1 by tap row 0
 * (oy = m + 1) and tap row 2 (oy = m); columns alike. The output gradient gets a zero last row and
 * column for taps past the edge. Terms are added in the reference order (output channel, tap row,
 * tap column).
 */
function conv3x3Stride2InputGradient(
  outputGradient: FeatureMap,
  weights: Float64Array,
  inChannels: number,
  inHeight: number,
  inWidth: number,
): FeatureMap {
  const { channels: cout, height: oh, width: ow } = outputGradient;
  const gPitch = ow + 1;
  const gPlane = (oh + 1) * gPitch;
  const g = new Float64Array(cout * gPlane);
  for (let o = 0; o < cout; o++) {
    for (let y = 0; y < oh; y++) {
      const from = (o * oh + y) * ow;
      g.set(outputGradient.data.subarray(from, from + ow), o * gPlane + y * gPitch);
    }
  }
  const grad = zeroMap(inChannels, inHeight, inWidth);
  const dst = grad.data;
  for (let i = 0; i < inChannels; i++) {
    for (let o = 0; o < cout; o++) {
      const k = (o * inChannels + i) * 9;
      const w0 = weights[k]!;
      const w1 = weights[k + 1]!;
      const w2 = weights[k + 2]!;
      const w3 = weights[k + 3]!;
      const w4 = weights[k + 4]!;
      const w5 = weights[k + 5]!;
      const w6 = weights[k + 6]!;
      const w7 = weights[k + 7]!;
      const w8 = weights[k + 8]!;
      for (let m = 0; m < oh; m++) {
        const here = o * gPlane + m * gPitch;
        const below = here + gPitch;
        const even = (i * inHeight + 2 * m) * inWidth;
        const odd = even + inWidth;
        for (let j = 0; j < ow; j++) {
          const x = 2 * j;
          dst[even + x] = dst[even + x]! + w4 * g[here + j]!;
          dst[even + x + 1] = dst[even + x + 1]! + w3 * g[here + j + 1]! + w5 * g[here + j]!;
          dst[odd + x] = dst[odd + x]! + w1 * g[below + j]! + w7 * g[here + j]!;
          dst[odd + x + 1] =
            dst[odd + x + 1]! +
            w0 * g[below + j + 1]! +
            w2 * g[below + j]! +
            w6 * g[here + j + 1]! +
            w8 * g[here + j]!;
        }
      }
    }
  }
  return grad;
}

/**
 * A stride-1, padding-1 3x3 convolution of `input` into `outChannels` planes, weights [out, in, 3,
 * 3]. Output planes go in pairs, so each loaded input value serves both.
 */
function convolve3x3(input: FeatureMap, outChannels: number, weights: Float64Array): FeatureMap {
  const { channels, height: h, width: w } = input;
  const pitch = w + 2;
  const plane = (h + 2) * pitch;
  const span = spanOf(h, w, pitch);
  const src = padded(input, 1);
  const out = zeroMap(outChannels, h, w);
  const acc = new Float64Array(span);
  const acc2 = new Float64Array(span);
  let d = 0;
  for (; d + 2 <= outChannels; d += 2) {
    acc.fill(0);
    acc2.fill(0);
    for (let s = 0; s < channels; s++) {
      const first = (d * channels + s) * 9;
      accumulate3x3Pair(acc, acc2, src, s * plane, pitch, span, weights, first, first + channels * 9);
    }
    unpitch(acc, out.data, d, h, w, pitch);
    unpitch(acc2, out.data, d + 1, h, w, pitch);
  }
  for (; d < outChannels; d++) {
    acc.fill(0);
    for (let s = 0; s < channels; s++)
      accumulate3x3(acc, src, s * plane, pitch, span, weights, (d * channels + s) * 9);
    unpitch(acc, out.data, d, h, w, pitch);
  }
  return out;
}

/** Copies a plane from the padded-pitch layout into channel `channel` of a dense map. */
function unpitch(
  from: Float64Array,
  to: Float64Array,
  channel: number,
  h: number,
  w: number,
  pitch: number,
): void {
  for (let y = 0; y < h; y++) to.set(from.subarray(y * pitch, y * pitch + w), (channel * h + y) * w);
}

/** accumulate3x3 into two output planes at once, from one pass over the input plane. */
function accumulate3x3Pair(
  acc: Float64Array,
  acc2: Float64Array,
  src: Float64Array,
  base: number,
  pitch: number,
  span: number,
  weights: Float64Array,
  first: number,
  second: number,
): void {
  const w0 = weights[first]!;
  const w1 = weights[first + 1]!;
  const w2 = weights[first + 2]!;
  const w3 = weights[first + 3]!;
  const w4 = weights[first + 4]!;
  const w5 = weights[first + 5]!;
  const w6 = weights[first + 6]!;
  const w7 = weights[first + 7]!;
  const w8 = weights[first + 8]!;
  const v0 = weights[second]!;
  const v1 = weights[second + 1]!;
  const v2 = weights[second + 2]!;
  const v3 = weights[second + 3]!;
  const v4 = weights[second + 4]!;
  const v5 = weights[second + 5]!;
  const v6 = weights[second + 6]!;
  const v7 = weights[second + 7]!;
  const v8 = weights[second + 8]!;
  const top = base + 2;
  const middle = top + pitch;
  const bottom = middle + pitch;
  let a0 = src[base]!;
  let a1 = src[base + 1]!;
  let b0 = src[base + pitch]!;
  let b1 = src[base + pitch + 1]!;
  let c0 = src[base + 2 * pitch]!;
  let c1 = src[base + 2 * pitch + 1]!;
  for (let q = 0; q < span; q++) {
    const a2 = src[top + q]!;
    const b2 = src[middle + q]!;
    const c2 = src[bottom + q]!;
    acc[q]! += w0 * a0 + w1 * a1 + w2 * a2 + w3 * b0 + w4 * b1 + w5 * b2 + w6 * c0 + w7 * c1 + w8 * c2;
    acc2[q]! += v0 * a0 + v1 * a1 + v2 * a2 + v3 * b0 + v4 * b1 + v5 * b2 + v6 * c0 + v7 * c1 + v8 * c2;
    a0 = a1;
    a1 = a2;
    b0 = b1;
    b1 = b2;
    c0 = c1;
    c1 = c2;
  }
}

/**
 * All nine taps of a 3x3 kernel in one pass (one read-modify-write of acc per nine products). Each
 * output position's 3x3 window slides one column per step, so only its new right column is loaded.
 */
function accumulate3x3(
  acc: Float64Array,
  src: Float64Array,
  base: number,
  pitch: number,
  span: number,
  weights: Float64Array,
  first: number,
): void {
  const w0 = weights[first]!;
  const w1 = weights[first + 1]!;
  const w2 = weights[first + 2]!;
  const w3 = weights[first + 3]!;
  const w4 = weights[first + 4]!;
  const w5 = weights[first + 5]!;
  const w6 = weights[first + 6]!;
  const w7 = weights[first + 7]!;
  const w8 = weights[first + 8]!;
  const top = base + 2;
  const middle = top + pitch;
  const bottom = middle + pitch;
  let a0 = src[base]!;
  let a1 = src[base + 1]!;
  let b0 = src[base + pitch]!;
  let b1 = src[base + pitch + 1]!;
  let c0 = src[base + 2 * pitch]!;
  let c1 = src[base + 2 * pitch + 1]!;
  for (let q = 0; q < span; q++) {
    const a2 = src[top + q]!;
    const b2 = src[middle + q]!;
    const c2 = src[bottom + q]!;
    acc[q]! += w0 * a0 + w1 * a1 + w2 * a2 + w3 * b0 + w4 * b1 + w5 * b2 + w6 * c0 + w7 * c1 + w8 * c2;
    a0 = a1;
    a1 = a2;
    b0 = b1;
    b1 = b2;
    c0 = c1;
    c1 = c2;
  }
}

/**
 * correlate3x3 for output channels o and o + 1 (their gradient rows follow each other in g, one
 * span apart), from one pass over the input plane.
 */
function correlate3x3Pair(
  grad: Float64Array,
  first: number,
  second: number,
  g: Float64Array,
  gBase: number,
  src: Float64Array,
  base: number,
  pitch: number,
  span: number,
): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    s4 = 0,
    s5 = 0,
    s6 = 0,
    s7 = 0,
    s8 = 0;
  let t0 = 0,
    t1 = 0,
    t2 = 0,
    t3 = 0,
    t4 = 0,
    t5 = 0,
    t6 = 0,
    t7 = 0,
    t8 = 0;
  const hBase = gBase + span;
  const top = base + 2;
  const middle = top + pitch;
  const bottom = middle + pitch;
  let a0 = src[base]!;
  let a1 = src[base + 1]!;
  let b0 = src[base + pitch]!;
  let b1 = src[base + pitch + 1]!;
  let c0 = src[base + 2 * pitch]!;
  let c1 = src[base + 2 * pitch + 1]!;
  for (let q = 0; q < span; q++) {
    const v = g[gBase + q]!;
    const u = g[hBase + q]!;
    const a2 = src[top + q]!;
    const b2 = src[middle + q]!;
    const c2 = src[bottom + q]!;
    s0 += v * a0;
    s1 += v * a1;
    s2 += v * a2;
    s3 += v * b0;
    s4 += v * b1;
    s5 += v * b2;
    s6 += v * c0;
    s7 += v * c1;
    s8 += v * c2;
    t0 += u * a0;
    t1 += u * a1;
    t2 += u * a2;
    t3 += u * b0;
    t4 += u * b1;
    t5 += u * b2;
    t6 += u * c0;
    t7 += u * c1;
    t8 += u * c2;
    a0 = a1;
    a1 = a2;
    b0 = b1;
    b1 = b2;
    c0 = c1;
    c1 = c2;
  }
  grad[first] = s0;
  grad[first + 1] = s1;
  grad[first + 2] = s2;
  grad[first + 3] = s3;
  grad[first + 4] = s4;
  grad[first + 5] = s5;
  grad[first + 6] = s6;
  grad[first + 7] = s7;
  grad[first + 8] = s8;
  grad[second] = t0;
  grad[second + 1] = t1;
  grad[second + 2] = t2;
  grad[second + 3] = t3;
  grad[second + 4] = t4;
  grad[second + 5] = t5;
  grad[second + 6] = t6;
  grad[second + 7] = t7;
  grad[second + 8] = t8;
}

/** grad[first + t] = sum_q g[q] * src[q + offset(t)] for the nine taps, in one sliding pass. */
function correlate3x3(
  grad: Float64Array,
  first: number,
  g: Float64Array,
  gBase: number,
  src: Float64Array,
  base: number,
  pitch: number,
  span: number,
): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    s4 = 0,
    s5 = 0,
    s6 = 0,
    s7 = 0,
    s8 = 0;
  const top = base + 2;
  const middle = top + pitch;
  const bottom = middle + pitch;
  let a0 = src[base]!;
  let a1 = src[base + 1]!;
  let b0 = src[base + pitch]!;
  let b1 = src[base + pitch + 1]!;
  let c0 = src[base + 2 * pitch]!;
  let c1 = src[base + 2 * pitch + 1]!;
  for (let q = 0; q < span; q++) {
    const v = g[gBase + q]!;
    const a2 = src[top + q]!;
    const b2 = src[middle + q]!;
    const c2 = src[bottom + q]!;
    s0 += v * a0;
    s1 += v * a1;
    s2 += v * a2;
    s3 += v * b0;
    s4 += v * b1;
    s5 += v * b2;
    s6 += v * c0;
    s7 += v * c1;
    s8 += v * c2;
    a0 = a1;
    a1 = a2;
    b0 = b1;
    b1 = b2;
    c0 = c1;
    c1 = c2;
  }
  grad[first] = s0;
  grad[first + 1] = s1;
  grad[first + 2] = s2;
  grad[first + 3] = s3;
  grad[first + 4] = s4;
  grad[first + 5] = s5;
  grad[first + 6] = s6;
  grad[first + 7] = s7;
  grad[first + 8] = s8;
}

/** Any-kernel, any-stride reference loops, for the shapes without a specialised loop. */
function conv2dStrided(
  input: FeatureMap,
  weights: Float64Array,
  outChannels: number,
  kernel: number,
  stride: number,
): FeatureMap {
  const { channels: cin, height: h, width: w } = input;
  const pad = (kernel - 1) >> 1;
  const oh = outputSide(h, kernel, stride);
  const ow = outputSide(w, kernel, stride);
  const out = zeroMap(outChannels, oh, ow);
  const src = input.data;
  const dst = out.data;
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < cin; i++) {
      for (let ky = 0; ky < kernel; ky++) {
        const [y0, y1] = validRange(ky, pad, stride, h, oh);
        for (let kx = 0; kx < kernel; kx++) {
          const weight = weights[((o * cin + i) * kernel + ky) * kernel + kx]!;
          const [x0, x1] = validRange(kx, pad, stride, w, ow);
          for (let oy = y0; oy < y1; oy++) {
            const outRow = (o * oh + oy) * ow;
            const inRow = (i * h + oy * stride + ky - pad) * w + kx - pad;
            for (let ox = x0; ox < x1; ox++) dst[outRow + ox]! += weight * src[inRow + ox * stride]!;
          }
        }
      }
    }
  }
  return out;
}

/** Gradient of a conv2d with respect to its input, given the gradient of its output. */
function conv2dInputGradientStrided(
  outputGradient: FeatureMap,
  weights: Float64Array,
  inChannels: number,
  inHeight: number,
  inWidth: number,
  kernel: number,
  stride: number,
): FeatureMap {
  const { channels: cout, height: oh, width: ow } = outputGradient;
  const pad = (kernel - 1) >> 1;
  const grad = zeroMap(inChannels, inHeight, inWidth);
  const g = outputGradient.data;
  const dst = grad.data;
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let ky = 0; ky < kernel; ky++) {
        const [y0, y1] = validRange(ky, pad, stride, inHeight, oh);
        for (let kx = 0; kx < kernel; kx++) {
          const weight = weights[((o * inChannels + i) * kernel + ky) * kernel + kx]!;
          const [x0, x1] = validRange(kx, pad, stride, inWidth, ow);
          for (let oy = y0; oy < y1; oy++) {
            const outRow = (o * oh + oy) * ow;
            const inRow = (i * inHeight + oy * stride + ky - pad) * inWidth + kx - pad;
            for (let ox = x0; ox < x1; ox++) dst[inRow + ox * stride]! += weight * g[outRow + ox]!;
          }
        }
      }
    }
  }
  return grad;
}

/** Gradient of a conv2d with respect to its weights, [out, in, k, k]. */
function conv2dWeightGradientStrided(
  input: FeatureMap,
  outputGradient: FeatureMap,
  kernel: number,
  stride: number,
): Float64Array {
  const { channels: cin, height: h, width: w } = input;
  const { channels: cout, height: oh, width: ow } = outputGradient;
  const pad = (kernel - 1) >> 1;
  const grad = new Float64Array(cout * cin * kernel * kernel);
  const src = input.data;
  const g = outputGradient.data;
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let ky = 0; ky < kernel; ky++) {
        const [y0, y1] = validRange(ky, pad, stride, h, oh);
        for (let kx = 0; kx < kernel; kx++) {
          const [x0, x1] = validRange(kx, pad, stride, w, ow);
          let sum = 0;
          for (let oy = y0; oy < y1; oy++) {
            const outRow = (o * oh + oy) * ow;
            const inRow = (i * h + oy * stride + ky - pad) * w + kx - pad;
            for (let ox = x0; ox < x1; ox++) sum += g[outRow + ox]! * src[inRow + ox * stride]!;
          }
          grad[((o * cin + i) * kernel + ky) * kernel + kx] = sum;
        }
      }
    }
  }
  return grad;
}

/** How many in-image pixels a 3x3 window centred at each position covers (avg_pool_3x3 divisor). */
function windowCounts(height: number, width: number): Float64Array {
  const counts = new Float64Array(height * width);
  for (let y = 0; y < height; y++) {
    const rows = 3 - (y === 0 ? 1 : 0) - (y === height - 1 ? 1 : 0);
    for (let x = 0; x < width; x++) {
      const cols = 3 - (x === 0 ? 1 : 0) - (x === width - 1 ? 1 : 0);
      counts[y * width + x] = rows * cols;
    }
  }
  return counts;
}

/** NB201 avg_pool_3x3: stride 1, padding 1, padding not counted in the average. */
export function avgPool3x3(input: FeatureMap): FeatureMap {
  const { channels, height, width } = input;
  const counts = windowCounts(height, width);
  const pitch = width + 2;
  const plane = (height + 2) * pitch;
  const src = padded(input, 1);
  const out = zeroMap(channels, height, width);
  for (let c = 0; c < channels; c++) {
    windowSums(src, c * plane, pitch, out.data, c * height * width, height, width);
    for (let p = 0; p < height * width; p++) out.data[c * height * width + p]! /= counts[p]!;
  }
  return out;
}

/**
 * Each input pixel hands g / count to the outputs of its window; gathered, output p sums the
 * shares of its 3x3 neighbourhood in raster order (the order a scatter over inputs adds them in).
 */
export function avgPool3x3Gradient(outputGradient: FeatureMap): FeatureMap {
  const { channels, height, width } = outputGradient;
  const counts = windowCounts(height, width);
  const area = height * width;
  const shares = zeroMap(channels, height, width);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < area; p++)
      shares.data[c * area + p] = outputGradient.data[c * area + p]! / counts[p]!;
  }
  const pitch = width + 2;
  const plane = (height + 2) * pitch;
  const src = padded(shares, 1);
  const grad = zeroMap(channels, height, width);
  for (let c = 0; c < channels; c++) windowSums(src, c * plane, pitch, grad.data, c * area, height, width);
  return grad;
}

/** dst[y, x] = the nine values of the zero-bordered 3x3 window at (y, x), added in raster order. */
function windowSums(
  src: Float64Array,
  base: number,
  pitch: number,
  dst: Float64Array,
  at: number,
  height: number,
  width: number,
): void {
  for (let y = 0; y < height; y++) {
    const r0 = base + y * pitch;
    const r1 = r0 + pitch;
    const r2 = r1 + pitch;
    const row = at + y * width;
    for (let x = 0; x < width; x++) {
      dst[row + x] =
        src[r0 + x]! +
        src[r0 + x + 1]! +
        src[r0 + x + 2]! +
        src[r1 + x]! +
        src[r1 + x + 1]! +
        src[r1 + x + 2]! +
        src[r2 + x]! +
        src[r2 + x + 1]! +
        src[r2 + x + 2]!;
    }
  }
}

/** 2x2 average pooling with stride 2 (the reduction block's shortcut). */
export function avgPool2x2(input: FeatureMap): FeatureMap {
  const { channels, height, width } = input;
  const oh = height >> 1;
  const ow = width >> 1;
  const out = zeroMap(channels, oh, ow);
  const src = input.data;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const top = (c * height + 2 * y) * width + 2 * x;
        out.data[(c * oh + y) * ow + x] =
          (src[top]! + src[top + 1]! + src[top + width]! + src[top + width + 1]!) / 4;
      }
    }
  }
  return out;
}

export function avgPool2x2Gradient(outputGradient: FeatureMap, height: number, width: number): FeatureMap {
  const { channels, height: oh, width: ow } = outputGradient;
  const grad = zeroMap(channels, height, width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const share = outputGradient.data[(c * oh + y) * ow + x]! / 4;
        const top = (c * height + 2 * y) * width + 2 * x;
        grad.data[top] = share;
        grad.data[top + 1] = share;
        grad.data[top + width] = share;
        grad.data[top + width + 1] = share;
      }
    }
  }
  return grad;
}
