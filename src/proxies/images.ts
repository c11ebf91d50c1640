// The minibatch NASWOT looks at: deterministic synthetic images by default, or the user's own
// PNG/JPEG images resized to the network's input size. Either way the batch is normalised per
// channel (zero mean, unit variance over the batch), as datasets are normalised before training.
//
// Synthetic images follow the "dead leaves" model: opaque discs whose radii follow a power law
// (density ~ r^-3) dropped on top of each other, each with a colour and a gentle shading ramp.
// It is the classic generative model of natural-image statistics: scale invariant, a ~1/f^2
// power spectrum, sharp occlusion edges between smooth regions, correlated colour channels. Those
// properties matter for NASWOT, whose kernel measures how differently the network's ReLUs carve
// up distinct inputs: white noise would make all inputs look alike to every 3x3 filter.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

import { errnoCode, UsageError } from '../errors.js';
import { Random } from '../util/random.js';
import type { ImageBatch } from './naswot-kernel.js';
import { quotePath } from '../util/quote.js';

/** Identifies the synthetic generator in table metadata; bump when its output changes. */
export const SYNTHETIC_IMAGES_ID = 'dead-leaves-v1';
export const DEFAULT_BATCH_SIZE = 64;

/** An RGB image, channel-planar, values in [0, 1]. */
interface PlanarImage {
  readonly size: number;
  readonly data: Float32Array;
}

/** `count` synthetic images of `size` x `size`, normalised; the same for the same seed. */
export function syntheticImages(count: number, size: number, seed: number): ImageBatch {
  const random = new Random(seed).child(`${SYNTHETIC_IMAGES_ID}/${size}`);
  const images: PlanarImage[] = [];
  for (let n = 0; n < count; n++) images.push(deadLeaves(size, random.child(`image${n}`)));
  return normalise(images, size);
}

function deadLeaves(size: number, random: Random): PlanarImage {
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  const covered = new Uint8Array(plane);
  let uncovered = plane;
  const minRadius = 0.5;
  const maxRadius = size / 2;
  // Front-to-back: a pixel takes the colour of the first disc that covers it, so we can stop once
  // every pixel is covered (equivalent to painting back-to-front forever).
  for (let leaf = 0; leaf < 4000 && uncovered > 0; leaf++) {
    // Inverse CDF of p(r) ~ r^-3 on [minRadius, maxRadius].
    const u = random.next();
    const radius = 1 / Math.sqrt((1 - u) / minRadius ** 2 + u / maxRadius ** 2);
    const cx = random.next() * (size + 2 * radius) - radius;
    const cy = random.next() * (size + 2 * radius) - radius;
    // Colour: a luminance with smaller chroma offsets (RGB channels of natural images correlate).
    const luminance = random.next();
    const chroma = [random.normal() * 0.12, random.normal() * 0.12, random.normal() * 0.12];
    const slopeX = (random.normal() * 0.15) / maxRadius;
    const slopeY = (random.normal() * 0.15) / maxRadius;
    const y0 = Math.max(0, Math.floor(cy - radius));
    const y1 = Math.min(size - 1, Math.ceil(cy + radius));
    const x0 = Math.max(0, Math.floor(cx - radius));
    const x1 = Math.min(size - 1, Math.ceil(cx + radius));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const p = y * size + x;
        if (covered[p] || (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius * radius) continue;
        covered[p] = 1;
        uncovered--;
        const shade = luminance + slopeX * (x - cx) + slopeY * (y - cy);
        for (let c = 0; c < 3; c++) data[c * plane + p] = clamp01(shade + chroma[c]!);
      }
    }
  }
  // Mild sensor noise keeps flat regions from being exactly constant.
  for (let k = 0; k < data.length; k++) data[k] = clamp01(data[k]! + random.normal() * 0.01);
  return { size, data };
}

function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

/** Per-channel standardisation over the whole batch, into one NCHW tensor. */
function normalise(images: readonly PlanarImage[], size: number): ImageBatch {
  const plane = size * size;
  const data = new Float32Array(images.length * 3 * plane);
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    let squares = 0;
    for (const image of images) {
      for (let p = 0; p < plane; p++) {
        const v = image.data[c * plane + p]!;
        sum += v;
        squares += v * v;
      }
    }
    const count = images.length * plane;
    const mean = sum / count;
    const std = Math.sqrt(Math.max(squares / count - mean * mean, 0)) || 1;
    images.forEach((image, n) => {
      for (let p = 0; p < plane; p++)
        data[(n * 3 + c) * plane + p] = (image.data[c * plane + p]! - mean) / std;
    });
  }
  return { count: images.length, size, data };
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** A calibration batch read from a folder, plus a digest of what was read (for cache keys). */
export interface FolderImages {
  readonly batch: ImageBatch;
  readonly files: readonly string[];
  /** sha256 over the file names and bytes used, so cached values are tied to these images. */
  readonly digest: string;
}

/** What --calibration-images takes, for messages that refuse a file. */
const ACCEPTED = 'expected readable PNG/JPEG files (.png, .jpg, .jpeg)';

/**
 * The first `count` PNG/JPEG files of `folder` (sorted by name), decoded, resized to `size` by
 * area averaging (nearest pixel when enlarging) and normalised. Throws UsageError for a missing folder,
 * too few images, or a file that cannot be read or decoded (naming it).
 */
export async function folderImages(folder: string, size: number, count: number): Promise<FolderImages> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    throw new UsageError(
      `--calibration-images ${quotePath(folder)}: cannot read the folder (${reason(error)})`,
    );
  }
  const candidates = names.filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase())).sort();
  if (candidates.length < count) {
    throw new UsageError(
      `--calibration-images ${quotePath(folder)}: found ${candidates.length} PNG/JPEG image(s), need at least ${count} ` +
        `(the NASWOT minibatch size); accepted extensions: .png, .jpg, .jpeg`,
    );
  }
  const files = candidates.slice(0, count);
  const hash = createHash('sha256');
  const images: PlanarImage[] = [];
  for (const name of files) {
    const path = join(folder, name);
    const bytes = await readImageFile(folder, path);
    hash.update(name).update(bytes);
    images.push(resize(decode(path, bytes), size, path));
  }
  return { batch: normalise(images, size), files, digest: hash.digest('hex') };
}

interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** RGBA, 8 bits per channel. */
  readonly rgba: Uint8Array;
}

/** A file's bytes; a folder, broken link or unreadable file named .png/.jpg is refused by name. */
async function readImageFile(folder: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = errnoCode(error);
    const why =
      code === 'EISDIR'
        ? 'it is a folder'
        : code === 'ENOENT'
          ? 'it does not exist: a broken link?'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (code ?? reason(error));
    throw new UsageError(
      `--calibration-images ${quotePath(folder)}: cannot read ${quotePath(path)} (${why}); ${ACCEPTED}`,
    );
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes by content, not by name: a JPEG saved as .png is still an image. */
function decode(path: string, bytes: Buffer): DecodedImage {
  const refuse = (why: string): UsageError =>
    new UsageError(
      `--calibration-images ${quotePath(path)}: not a readable PNG/JPEG image (${why}); ${ACCEPTED}`,
    );
  const isPng = bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);
  const isJpeg = bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) {
    throw refuse(
      bytes.length === 0 ? 'the file is empty' : 'it starts with neither a PNG nor a JPEG signature',
    );
  }
  try {
    if (isPng) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (error) {
    throw refuse(decoderReason(isPng ? 'PNG' : 'JPEG', error));
  }
}

/**
 * The decoder's complaint, short and in our words where we know it: pngjs reports a truncated
 * file as "There are some read requests waitng on finished stream" (sic).
 */
function decoderReason(format: string, error: unknown): string {
  const message = reason(error).split('\n')[0]!.trim();
  if (/read requests wait/i.test(message)) return `truncated ${format} data`;
  const short = message.length > 100 ? `${message.slice(0, 97)}...` : message;
  return `corrupt ${format} data: ${short}`;
}

/** Resamples to size x size RGB in [0, 1]: each output pixel averages its source footprint. */
function resize(image: DecodedImage, size: number, path: string): PlanarImage {
  const { width, height, rgba } = image;
  if (width < 1 || height < 1) {
    throw new UsageError(
      `--calibration-images ${quotePath(path)}: not a readable PNG/JPEG image (it has no pixels)`,
    );
  }
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  const scaleX = width / size;
  const scaleY = height / size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Footprint [sx0, sx1) x [sy0, sy1) in source pixels; at least one pixel when enlarging.
      const sx0 = Math.min(width - 1, Math.floor(x * scaleX));
      const sx1 = Math.max(sx0 + 1, Math.min(width, Math.ceil((x + 1) * scaleX)));
      const sy0 = Math.min(height - 1, Math.floor(y * scaleY));
      const sy1 = Math.max(sy0 + 1, Math.min(height, Math.ceil((y + 1) * scaleY)));
      const sums = [0, 0, 0];
      for (let sy = sy0; sy < sy1; sy++) {
        for (let sx = sx0; sx < sx1; sx++) {
          const p = (sy * width + sx) * 4;
          sums[0]! += rgba[p]!;
          sums[1]! += rgba[p + 1]!;
          sums[2]! += rgba[p + 2]!;
        }
      }
      const pixels = (sx1 - sx0) * (sy1 - sy0) * 255;
      for (let c = 0; c < 3; c++) data[c * plane + y * size + x] = sums[c]! / pixels;
    }
  }
  return { size, data };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
