/**
 * The real noisy images with ground truth that the PN2V benches use (../shared/data/microscopy): FMD's three
 * noisy 512² frames with their averages, and the bacteria frame with its average; and how they are scored.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { psnr, ssim } from '../src/metrics/index.js';
import { type AxesArray, openImage } from '../src/node.js';
import { round } from './lib.js';

export const MICROSCOPY_DATA = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'microscopy');

export const IMAGE_PAIRS = {
  fmd: { noisy: 'fmd_3page_raw_float32.tif', average: 'fmd_3page_gt_float32.tif', axes: 'SYX' },
  bacteria: { noisy: 'bacteria_noisy_16bit.png', average: 'bacteria_target_16bit.png', axes: 'YX' },
} as const;
export type ImagePairName = keyof typeof IMAGE_PAIRS;

/** Exits with one line when the shared data is absent or a name is not one of IMAGE_PAIRS. */
export function checkImagePairs(names: readonly string[]): asserts names is ImagePairName[] {
  if (!existsSync(MICROSCOPY_DATA)) {
    console.error(`no data at ${MICROSCOPY_DATA}: this benchmark needs the shared research data`);
    process.exit(1);
  }
  for (const name of names) {
    if (!(name in IMAGE_PAIRS)) {
      console.error(`--image: expected ${Object.keys(IMAGE_PAIRS).join(' or ')}, got ${name}`);
      process.exit(1);
    }
  }
}

export async function readPairImage(file: string, axes: string): Promise<AxesArray> {
  const { data: pixels, shape } = await (await openImage(join(MICROSCOPY_DATA, file), { axes })).read();
  return { data: Float32Array.from(pixels as ArrayLike<number>), shape, axes };
}

/** A pair's noisy image and its average, as arrays in the pair's axes. */
export async function readImagePair(name: ImagePairName): Promise<{ noisy: AxesArray; average: AxesArray }> {
  const pair = IMAGE_PAIRS[name];
  return {
    noisy: await readPairImage(pair.noisy, pair.axes),
    average: await readPairImage(pair.average, pair.axes),
  };
}

export interface Score {
  psnr: number;
  ssim: number;
}

/** The average's data range (max − min): the peak both scores use. */
export function dataRange(average: AxesArray): number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of average.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return max - min;
}

/** PSNR over the whole image; SSIM per YX plane, averaged; both with the average's data range. */
export function score(average: AxesArray, output: ArrayLike<number>): Score {
  const range = dataRange(average);
  const [h, w] = average.shape.slice(-2) as [number, number];
  const planes = average.data.length / (h * w);
  let s = 0;
  for (let p = 0; p < planes; p++) {
    const at = (a: ArrayLike<number>) => Array.prototype.slice.call(a, p * h * w, (p + 1) * h * w);
    s += ssim(at(average.data), at(output), [h, w], { dataRange: range });
  }
  return { psnr: round(psnr(average.data, output, range), 2), ssim: round(s / planes, 4) };
}
