/**
 * CAREamics' patch augmentations (`dataset/augmentation/`): XYFlip and XYRandomRotate90. They act on the last two
 * axes (Y, X) only — also for 3D — and one random draw is applied identically to the input and its target.
 */
import type { z } from 'zod';
import { type AugmentationConfig, AugmentationConfigSchema } from '../config/data.js';
import type { NDArray } from '../io/types.js';
import { DataError, parseConfig } from './errors.js';
import type { Rng } from './random.js';

/** An augmentation as written by hand: fields with a default may be left out. */
export type AugmentationInput = z.input<typeof AugmentationConfigSchema>;

/** A drawn augmentation: flip of Y or X, or k quarter turns (numpy `rot90(k, axes=(-2, -1))`). */
export type Augmentation = { kind: 'flip'; axis: 'Y' | 'X' } | { kind: 'rot90'; k: 1 | 2 | 3 };

/** The augmentation with the schema's defaults, checked against its bounds. */
function resolve(config: AugmentationInput): AugmentationConfig {
  const resolved = parseConfig(AugmentationConfigSchema, config, 'augmentation');
  if (resolved.name === 'XYFlip' && !resolved.flip_x && !resolved.flip_y)
    throw new DataError('InvalidConfig', 'XYFlip needs at least one flippable axis');
  return resolved;
}

/** Draws what one augmentation does to one patch; `null` means it is skipped. */
export function drawAugmentation(config: AugmentationInput, rng: Rng): Augmentation | null {
  return draw(resolve(config), rng);
}

function draw(config: AugmentationConfig, rng: Rng): Augmentation | null {
  if (rng.random() >= config.p) return null;
  if (config.name === 'XYRandomRotate90') return { kind: 'rot90', k: rng.integer(1, 4) as 1 | 2 | 3 };
  const axes: Array<'Y' | 'X'> = [];
  if (config.flip_y) axes.push('Y');
  if (config.flip_x) axes.push('X');
  return { kind: 'flip', axis: axes[rng.integer(0, axes.length)] };
}

/** Applies `aug` to every (Y, X) plane of `data[offset, offset + planes·ny·nx)`, in place. */
export function applyAugmentation(
  aug: Augmentation,
  data: Float32Array,
  ny: number,
  nx: number,
  offset = 0,
  planes = (data.length - offset) / (ny * nx),
): void {
  if (aug.kind === 'rot90' && aug.k !== 2 && ny !== nx) {
    throw new DataError('NonSquarePatch', `XYRandomRotate90 needs square YX patches, got ${ny}×${nx}`);
  }
  const plane = ny * nx;
  const tmp = new Float32Array(plane);
  for (let p = 0; p < planes; p++) {
    const base = offset + p * plane;
    tmp.set(data.subarray(base, base + plane));
    for (let y = 0; y < ny; y++) {
      const row = base + y * nx;
      for (let x = 0; x < nx; x++) {
        let sy = y;
        let sx = x;
        if (aug.kind === 'flip') {
          if (aug.axis === 'Y') sy = ny - 1 - y;
          else sx = nx - 1 - x;
        } else if (aug.k === 1) {
          sy = x;
          sx = nx - 1 - y;
        } else if (aug.k === 2) {
          sy = ny - 1 - y;
          sx = nx - 1 - x;
        } else {
          sy = ny - 1 - x;
          sx = y;
        }
        data[row + x] = tmp[sy * nx + sx];
      }
    }
  }
}

/**
 * Augments a batch (B, C, [Z,] Y, X) in place, drawing each transform independently per patch (as CAREamics,
 * which augments patch by patch) and applying the same draw to `target` when given.
 */
export function augmentBatch(
  input: NDArray<Float32Array>,
  target: NDArray<Float32Array> | undefined,
  transforms: readonly AugmentationInput[],
  rng: Rng,
): void {
  const resolved = transforms.map(resolve);
  const shape = input.shape;
  const [batch, ny, nx] = [shape[0], shape[shape.length - 2], shape[shape.length - 1]];
  if (target && (target.shape[0] !== batch || target.shape.at(-2) !== ny || target.shape.at(-1) !== nx)) {
    throw new DataError('ShapeMismatch', `target shape [${target.shape}] does not match input [${shape}]`);
  }
  const per = input.data.length / batch;
  const targetPer = target ? target.data.length / batch : 0;
  for (let b = 0; b < batch; b++) {
    for (const config of resolved) {
      const aug = draw(config, rng);
      if (!aug) continue;
      applyAugmentation(aug, input.data, ny, nx, b * per, per / (ny * nx));
      if (target) applyAugmentation(aug, target.data, ny, nx, b * targetPer, targetPer / (ny * nx));
    }
  }
}
