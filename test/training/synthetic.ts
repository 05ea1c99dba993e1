import { Rng } from '../../src/data/random.js';
import { ArraySource } from '../../src/io/index.js';

/** A smooth image with edges (sinusoids and a checkerboard), values around 40–220. */
export function cleanImage(height: number, width: number): Float32Array {
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const checker = ((x >> 4) + (y >> 4)) & 1;
      out[y * width + x] = 110 + 50 * Math.sin(x / 7) * Math.cos(y / 11) + 60 * checker;
    }
  }
  return out;
}

/** Adds pixel-independent Gaussian noise, seeded. */
export function addNoise(image: Float32Array, sigma: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from(image, (v) => v + rng.normal(0, sigma));
}

export function source(data: Float32Array, shape: number[], name = 'synthetic.tif', axes = 'YX') {
  return new ArraySource({ data, shape }, { name, axes });
}
