import { ArraySource } from '../../src/io/index.js';
import { mulberry32 } from '../helpers/gradcheck.js';

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

/** Adds pixel-independent Gaussian noise (Box–Muller), seeded. */
export function addNoise(image: Float32Array, sigma: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from(image, (v) => {
    const r = Math.sqrt(-2 * Math.log(rand() + 1e-12));
    return v + sigma * r * Math.cos(2 * Math.PI * rand());
  });
}

export function source(data: Float32Array, shape: number[], name = 'synthetic.tif', axes = 'YX') {
  return new ArraySource({ data, shape }, { name, axes });
}
