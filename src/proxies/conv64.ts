// Float64 convolution kernels (forward, input gradient, weight gradient) and the pooling layers of
// the NB201 macro network, for one image in [channels, height, width] layout. Written for synflow:
// its values span 1e26..1e61, beyond float32, and no installed engine runs float64 convolutions.
// Loops run over whole rows per kernel tap so V8 keeps the inner loop tight.

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
  if (stride !== 1) return conv2dStrided(input, weights, outChannels, kernel, stride);
  const { channels: cin, height: h, width: w } = input;
  const pad = (kernel - 1) >> 1;
  const pitch = w + 2 * pad;
  const plane = (h + 2 * pad) * pitch;
  const span = spanOf(h, w, pitch);
  const src = padded(input, pad);
  const out = zeroMap(outChannels, h, w);
  const acc = new Float64Array(span);
  const taps = kernel * kernel;
  for (let o = 0; o < outChannels; o++) {
    acc.fill(0);
    for (let i = 0; i < cin; i++) {
      const first = (o * cin + i) * taps;
      if (kernel === 3) accumulate3x3(acc, src, i * plane, pitch, span, weights, first, false);
      else accumulateTap(acc, src, i * plane, span, weights[first]!);
    }
    for (let y = 0; y < h; y++) out.data.set(acc.subarray(y * pitch, y * pitch + w), (o * h + y) * w);
  }
  return out;
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
  if (stride !== 1) {
    return conv2dInputGradientStrided(outputGradient, weights, inChannels, inHeight, inWidth, kernel, stride);
  }
  // A stride-1 'same' conv's input gradient is the conv of the output gradient with the kernel
  // flipped and its channel axes swapped.
  const { channels: cout, height: h, width: w } = outputGradient;
  const pad = (kernel - 1) >> 1;
  const pitch = w + 2 * pad;
  const plane = (h + 2 * pad) * pitch;
  const span = spanOf(h, w, pitch);
  const src = padded(outputGradient, pad);
  const grad = zeroMap(inChannels, h, w);
  const acc = new Float64Array(span);
  const taps = kernel * kernel;
  for (let i = 0; i < inChannels; i++) {
    acc.fill(0);
    for (let o = 0; o < cout; o++) {
      const first = (o * inChannels + i) * taps;
      if (kernel === 3) accumulate3x3(acc, src, o * plane, pitch, span, weights, first, true);
      else accumulateTap(acc, src, o * plane, span, weights[first]!);
    }
    for (let y = 0; y < h; y++) grad.data.set(acc.subarray(y * pitch, y * pitch + w), (i * h + y) * w);
  }
  return grad;
}

/** Gradient of a conv2d with respect to its weights, [out, in, k, k]. */
export function conv2dWeightGradient(
  input: FeatureMap,
  outputGradient: FeatureMap,
  kernel: number,
  stride: number,
): Float64Array {
  if (stride !== 1) return conv2dWeightGradientStrided(input, outputGradient, kernel, stride);
  const { channels: cin, height: h, width: w } = input;
  const cout = outputGradient.channels;
  const pad = (kernel - 1) >> 1;
  const pitch = w + 2 * pad;
  const plane = (h + 2 * pad) * pitch;
  const span = spanOf(h, w, pitch);
  const src = padded(input, pad);
  // The output gradient in the same pitch, zero in the border columns so wrapped taps add 0.
  const g = new Float64Array(cout * span);
  for (let o = 0; o < cout; o++) {
    for (let y = 0; y < h; y++) {
      const from = (o * h + y) * w;
      g.set(outputGradient.data.subarray(from, from + w), o * span + y * pitch);
    }
  }
  const taps = kernel * kernel;
  const grad = new Float64Array(cout * cin * taps);
  for (let o = 0; o < cout; o++) {
    const gBase = o * span;
    for (let i = 0; i < cin; i++) {
      const first = (o * cin + i) * taps;
      if (kernel === 3) correlate3x3(grad, first, g, gBase, src, i * plane, pitch, span);
      else {
        let sum = 0;
        for (let q = 0; q < span; q++) sum += g[gBase + q]! * src[i * plane + q]!;
        grad[first] = sum;
      }
    }
  }
  return grad;
}

/** acc[q] += w * src[base + q] for every output position (a 1x1 tap). */
function accumulateTap(
  acc: Float64Array,
  src: Float64Array,
  base: number,
  span: number,
  weight: number,
): void {
  for (let q = 0; q < span; q++) acc[q]! += weight * src[base + q]!;
}

/**
 * All nine taps of a 3x3 kernel in one pass (one read-modify-write of acc per nine products);
 * `flipped` reads the kernel rotated by 180 degrees, as the input gradient needs.
 */
function accumulate3x3(
  acc: Float64Array,
  src: Float64Array,
  base: number,
  pitch: number,
  span: number,
  weights: Float64Array,
  first: number,
  flipped: boolean,
): void {
  // Tap t reads weight t, or 8 - t when flipped; no per-call closure in this hot path.
  const step = flipped ? -1 : 1;
  const at = flipped ? first + 8 : first;
  const w0 = weights[at]!;
  const w1 = weights[at + step]!;
  const w2 = weights[at + 2 * step]!;
  const w3 = weights[at + 3 * step]!;
  const w4 = weights[at + 4 * step]!;
  const w5 = weights[at + 5 * step]!;
  const w6 = weights[at + 6 * step]!;
  const w7 = weights[at + 7 * step]!;
  const w8 = weights[at + 8 * step]!;
  for (let q = 0; q < span; q++) {
    const r0 = base + q;
    const r1 = r0 + pitch;
    const r2 = r1 + pitch;
    acc[q]! +=
      w0 * src[r0]! +
      w1 * src[r0 + 1]! +
      w2 * src[r0 + 2]! +
      w3 * src[r1]! +
      w4 * src[r1 + 1]! +
      w5 * src[r1 + 2]! +
      w6 * src[r2]! +
      w7 * src[r2 + 1]! +
      w8 * src[r2 + 2]!;
  }
}

/** grad[first + t] = sum_q g[q] * src[q + offset(t)] for the nine taps, in one pass. */
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
  for (let q = 0; q < span; q++) {
    const v = g[gBase + q]!;
    const r0 = base + q;
    const r1 = r0 + pitch;
    const r2 = r1 + pitch;
    s0 += v * src[r0]!;
    s1 += v * src[r0 + 1]!;
    s2 += v * src[r0 + 2]!;
    s3 += v * src[r1]!;
    s4 += v * src[r1 + 1]!;
    s5 += v * src[r1 + 2]!;
    s6 += v * src[r2]!;
    s7 += v * src[r2 + 1]!;
    s8 += v * src[r2 + 2]!;
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

/** Any-stride reference loops, used for the two stride-2 convs of each reduction block. */
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
  const out = zeroMap(channels, height, width);
  const src = input.data;
  const dst = out.data;
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= height) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < width) sum += src[base + yy * width + xx]!;
          }
        }
        dst[base + y * width + x] = sum / counts[y * width + x]!;
      }
    }
  }
  return out;
}

export function avgPool3x3Gradient(outputGradient: FeatureMap): FeatureMap {
  const { channels, height, width } = outputGradient;
  const counts = windowCounts(height, width);
  const grad = zeroMap(channels, height, width);
  const g = outputGradient.data;
  const dst = grad.data;
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const share = g[base + y * width + x]! / counts[y * width + x]!;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= height) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < width) dst[base + yy * width + xx]! += share;
          }
        }
      }
    }
  }
  return grad;
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
