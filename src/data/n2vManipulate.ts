/**
 * Noise2Void pixel manipulation (CAREamics `lightning/modules/n2v_utils/pixel_manipulation.py`, `n2v_manipulate.py`)
 * on a float32 batch (B, C, [Z,] Y, X), each channel of each patch independently:
 * - selection: one pixel per cell of a grid of side (100/p)^(1/ndim) (≈22.4 px in 2D for p = 0.2 %), at a random
 *   position inside the cell;
 * - `uniform`: the value of a neighbour in the ROI (offset on every axis in ±[1, roi/2], never 0, with CAREamics'
 *   index-wrapping distribution), clamped at the border;
 * - `median`: the (lower) median of the ROI without the centre and the struct pixels;
 * - structN2V: the struct pixels around each centre (a YX pattern) get uniform values in [patch min, patch max];
 * - mask: 1 where a centre's value changed (CAREamics' `transformed != patch`), before the struct pixels are set.
 */
import type { z } from 'zod';
import {
  type N2VManipulateConfig,
  N2VManipulateConfigSchema,
  type StructMaskAxes,
  StructMaskConfigSchema,
} from '../config/n2vManipulate.js';
import type { NDArray } from '../io/types.js';
import { DataError, parseConfig } from './errors.js';
import type { Rng } from './random.js';

/** The masking settings as written by hand: fields with a default may be left out. */
export type N2VManipulateInput = z.input<typeof N2VManipulateConfigSchema>;

export interface N2VManipulateResult {
  /** The input with masked centres replaced and struct pixels randomised. */
  masked: NDArray<Float32Array>;
  /** 1 at masked centres, else 0; same shape as the input. */
  mask: NDArray<Float32Array>;
}

/** The (span × span) YX pattern, row-major: 1 at struct pixels, 0 elsewhere and at the centre. */
export function buildStructPattern(span: number, axes: StructMaskAxes): Uint8Array {
  parseConfig(StructMaskConfigSchema, { axes, span }, 'struct_mask');
  const c = span >> 1;
  const pattern = new Uint8Array(span * span);
  for (let y = 0; y < span; y++) {
    for (let x = 0; x < span; x++) {
      const hit =
        axes === 'square' ||
        ((axes === 'horizontal' || axes === 'cross') && y === c) ||
        ((axes === 'vertical' || axes === 'cross') && x === c);
      pattern[y * span + x] = hit ? 1 : 0;
    }
  }
  pattern[c * span + c] = 0;
  return pattern;
}

/**
 * Stratified centres in a volume of shape `spatial`: row-major grid cells of float side (100/p)^(1/ndim), one point
 * per cell at floor(cell corner + U·side), dropping points outside the volume. Returns ndim ints per point.
 */
export function getStratifiedCoords(
  maskPixelPercentage: number,
  spatial: readonly number[],
  rng: Rng,
): Int32Array {
  parseConfig(
    N2VManipulateConfigSchema.shape.masked_pixel_percentage,
    maskPixelPercentage,
    'masked_pixel_percentage',
  );
  const ndim = spatial.length;
  const side = (100 / maskPixelPercentage) ** (1 / ndim);
  const gridDims = spatial.map((s) => Math.ceil(s / side));
  const nCells = gridDims.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  const cell = new Array<number>(ndim).fill(0);
  const point = new Array<number>(ndim);
  for (let k = 0; k < nCells; k++) {
    let inside = true;
    for (let a = 0; a < ndim; a++) {
      point[a] = Math.floor(cell[a] * side + rng.random() * side);
      if (point[a] >= spatial[a]) inside = false;
    }
    if (inside) out.push(...point);
    for (let a = ndim - 1; a >= 0; a--) {
      if (++cell[a] < gridDims[a]) break;
      cell[a] = 0;
    }
  }
  return Int32Array.from(out);
}

/** CAREamics draws `roi_span[randint(-h, h + 1)]` from the 2h non-zero offsets, so negative indices wrap. */
function uniformOffsetTable(roiSize: number): Int32Array {
  const h = roiSize >> 1;
  const span: number[] = [];
  for (let v = -h; v <= h; v++) if (v !== 0) span.push(v);
  return Int32Array.from({ length: 2 * h + 1 }, (_, i) => span[(i - h + 2 * h) % (2 * h)]);
}

/** Lower median (torch.median) of values[0, n) by quickselect; reorders `values`. */
function lowerMedian(values: Float32Array, n: number): number {
  let lo = 0;
  let hi = n - 1;
  const k = (n - 1) >> 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k];
}

interface Settings {
  roiSize: number;
  percentage: number;
  median: boolean;
  pattern: Uint8Array | null;
  span: number;
  offsets: Int32Array;
  /** Flat index deltas of the ROI pixels the median uses, for centres whose ROI lies inside the volume. */
  medianDeltas: Int32Array;
}

/** True when the in-volume offset (dz, dy, dx) from a centre is the centre itself or one of its struct pixels. */
function hidden(s: Settings, dz: number, dy: number, dx: number): boolean {
  if (dz === 0 && dy === 0 && dx === 0) return true;
  if (!s.pattern || dz !== 0) return false;
  const h = s.span >> 1;
  return Math.abs(dy) <= h && Math.abs(dx) <= h && s.pattern[(dy + h) * s.span + dx + h] === 1;
}

const clamp = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);

/** Manipulates one (Z)YX volume at `base` of `src` into `dst`, marking changed centres in `mask`. */
function manipulateVolume(
  s: Settings,
  src: Float32Array,
  dst: Float32Array,
  mask: Float32Array,
  base: number,
  dims: readonly [number, number, number],
  is3d: boolean,
  rng: Rng,
  scratch: Float32Array,
): void {
  const [nz, ny, nx] = dims;
  const coords = getStratifiedCoords(s.percentage, is3d ? [nz, ny, nx] : [ny, nx], rng);
  const d = is3d ? 3 : 2;
  const nPoints = coords.length / d;
  const h = s.roiSize >> 1;
  const at = (z: number, y: number, x: number) => base + (z * ny + y) * nx + x;
  for (let p = 0; p < nPoints; p++) {
    const z = is3d ? coords[p * d] : 0;
    const y = coords[p * d + d - 2];
    const x = coords[p * d + d - 1];
    let value: number;
    const i = at(z, y, x);
    const interior = y >= h && y < ny - h && x >= h && x < nx - h && (!is3d || (z >= h && z < nz - h));
    if (s.median && interior) {
      const deltas = s.medianDeltas;
      for (let k = 0; k < deltas.length; k++) scratch[k] = src[i + deltas[k]];
      value = lowerMedian(scratch, deltas.length);
    } else if (s.median) {
      let n = 0;
      for (let dz = is3d ? -h : 0; dz <= (is3d ? h : 0); dz++) {
        const cz = clamp(z + dz, nz);
        for (let dy = -h; dy <= h; dy++) {
          const cy = clamp(y + dy, ny);
          for (let dx = -h; dx <= h; dx++) {
            const cx = clamp(x + dx, nx);
            if (!hidden(s, cz - z, cy - y, cx - x)) scratch[n++] = src[at(cz, cy, cx)];
          }
        }
      }
      if (n === 0) throw new DataError('InvalidConfig', 'the ROI has no pixel left for the median');
      value = lowerMedian(scratch, n);
    } else {
      let tries = 0;
      let cz: number;
      let cy: number;
      let cx: number;
      const table = s.offsets;
      do {
        if (++tries > 1000) throw new DataError('InvalidConfig', 'no valid N2V replacement pixel in the ROI');
        cz = is3d ? clamp(z + table[rng.integer(0, table.length)], nz) : 0;
        cy = clamp(y + table[rng.integer(0, table.length)], ny);
        cx = clamp(x + table[rng.integer(0, table.length)], nx);
      } while (hidden(s, cz - z, cy - y, cx - x));
      value = src[at(cz, cy, cx)];
    }
    dst[i] = value;
    if (value !== src[i]) mask[i] = 1;
  }
  if (!s.pattern || nPoints === 0) return;
  const volume = nz * ny * nx;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = base; i < base + volume; i++) {
    if (src[i] < lo) lo = src[i];
    if (src[i] > hi) hi = src[i];
  }
  const hs = s.span >> 1;
  for (let p = 0; p < nPoints; p++) {
    const z = is3d ? coords[p * d] : 0;
    const y = coords[p * d + d - 2];
    const x = coords[p * d + d - 1];
    for (let py = 0; py < s.span; py++) {
      const yy = y + py - hs;
      if (yy < 0 || yy >= ny) continue;
      for (let px = 0; px < s.span; px++) {
        const xx = x + px - hs;
        if (xx < 0 || xx >= nx || s.pattern[py * s.span + px] === 0) continue;
        dst[at(z, yy, xx)] = rng.uniform(lo, hi);
      }
    }
  }
}

function settings(
  config: N2VManipulateConfig,
  dims: readonly [number, number, number],
  is3d: boolean,
): Settings {
  const roiSize = config.roi_size;
  const struct = config.struct_mask;
  const pattern = struct ? buildStructPattern(struct.span, struct.axes) : null;
  if (struct?.axes === 'square' && !is3d && roiSize <= struct.span) {
    throw new DataError(
      'InvalidConfig',
      `a square struct mask of span ${struct.span} hides the whole ROI of ${roiSize}: use roi_size > span`,
    );
  }
  const s: Settings = {
    roiSize,
    percentage: config.masked_pixel_percentage,
    median: config.strategy === 'median',
    pattern,
    span: struct?.span ?? 0,
    offsets: uniformOffsetTable(roiSize),
    medianDeltas: new Int32Array(0),
  };
  const h = roiSize >> 1;
  const deltas: number[] = [];
  for (let dz = is3d ? -h : 0; dz <= (is3d ? h : 0); dz++) {
    for (let dy = -h; dy <= h; dy++) {
      for (let dx = -h; dx <= h; dx++) {
        if (!hidden(s, dz, dy, dx)) deltas.push((dz * dims[1] + dy) * dims[2] + dx);
      }
    }
  }
  s.medianDeltas = Int32Array.from(deltas);
  return s;
}

/** N2V masking of a batch (B, C, [Z,] Y, X); the input is not modified. */
export function n2vManipulate(
  batch: NDArray<Float32Array>,
  config: N2VManipulateInput,
  rng: Rng,
): N2VManipulateResult {
  const shape = batch.shape;
  if (shape.length !== 4 && shape.length !== 5) {
    throw new DataError(
      'ShapeMismatch',
      `N2V expects a batch (B, C, [Z,] Y, X), got shape [${shape.join(', ')}]`,
    );
  }
  const is3d = shape.length === 5;
  const dims: [number, number, number] = is3d ? [shape[2], shape[3], shape[4]] : [1, shape[2], shape[3]];
  const s = settings(parseConfig(N2VManipulateConfigSchema, config, 'n2v_config'), dims, is3d);
  const volume = dims[0] * dims[1] * dims[2];
  const masked = batch.data.slice();
  const mask = new Float32Array(batch.data.length);
  const scratch = new Float32Array(s.roiSize ** (is3d ? 3 : 2));
  // Channel-major order, as CAREamics loops over channels and masks the whole batch per channel.
  for (let c = 0; c < shape[1]; c++) {
    for (let b = 0; b < shape[0]; b++) {
      const base = (b * shape[1] + c) * volume;
      manipulateVolume(s, batch.data, masked, mask, base, dims, is3d, rng, scratch);
    }
  }
  return { masked: { data: masked, shape: [...shape] }, mask: { data: mask, shape: [...shape] } };
}
