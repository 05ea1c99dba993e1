/**
 * Patch geometry, random patching and patch extraction (CAREamics `dataset/patching/`). Patches are addressed by
 * `PatchSpec`s (image, sample, top-left corner) and read into float32 batches of shape (B, C, [Z,] Y, X).
 */
import type { ImageSource, NDArray, Region } from '../io/types.js';
import { DataError } from './errors.js';
import { checkAxes } from './layout.js';
import type { Rng } from './random.js';

/** What patching needs to know about an image: an `ImageSource` or an in-memory array with its axes. */
export interface ImageInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly axes: string;
}

/** An in-memory image: the data in C order with its axes. */
export interface ImageArray extends ImageInfo {
  readonly data: NDArray['data'];
}

/** One patch: `coords` is the top-left (first Z) corner in (Z)YX, `patchSize` its extent. */
export interface PatchSpec {
  dataIdx: number;
  sampleIdx: number;
  coords: number[];
  patchSize: number[];
}

/** A source of patch specs for one epoch (CAREamics' `Patching` protocol). */
export interface Patching {
  readonly nPatches: number;
  getPatchSpec(index: number): PatchSpec;
}

/** Samples are the product of the S and T axes; spatial dims are (Z,) Y, X in that order. */
export interface ImageGeometry {
  nSamples: number;
  nChannels: number;
  spatial: number[];
}

export function imageGeometry(image: ImageInfo): ImageGeometry {
  checkAxes(image.shape, image.axes);
  const size = (axis: string) => {
    const i = image.axes.indexOf(axis);
    return i < 0 ? 1 : image.shape[i];
  };
  const spatial = (image.axes.includes('Z') ? ['Z', 'Y', 'X'] : ['Y', 'X']).map(size);
  return { nSamples: size('S') * size('T'), nChannels: size('C'), spatial };
}

/** Throws a `PatchTooLarge` error naming the image, its shape and the patch size if the patch does not fit. */
export function checkPatchFits(image: ImageInfo, patchSize: readonly number[]): ImageGeometry {
  const geometry = imageGeometry(image);
  if (patchSize.length !== geometry.spatial.length) {
    throw new DataError(
      'PatchDimsMismatch',
      `patch size [${patchSize.join(', ')}] does not match the spatial axes of axes ${image.axes}`,
      { file: image.name },
    );
  }
  if (geometry.spatial.some((s, i) => s < patchSize[i])) {
    throw new DataError(
      'PatchTooLarge',
      `shape [${image.shape.join(', ')}] (axes ${image.axes}) is smaller than the patch size ` +
        `[${patchSize.join(', ')}]`,
      { file: image.name },
    );
  }
  return geometry;
}

/** Maps a global index to (image, sample, index within the sample) through cumulative counts. */
export class PatchIndex {
  private readonly cumulative: number[] = [];
  private readonly owners: Array<{ dataIdx: number; sampleIdx: number }> = [];

  constructor(counts: number[][]) {
    let total = 0;
    counts.forEach((samples, dataIdx) => {
      samples.forEach((n, sampleIdx) => {
        total += n;
        this.cumulative.push(total);
        this.owners.push({ dataIdx, sampleIdx });
      });
    });
  }

  get total(): number {
    return this.cumulative.length === 0 ? 0 : this.cumulative[this.cumulative.length - 1];
  }

  locate(index: number): { dataIdx: number; sampleIdx: number; local: number } {
    if (!Number.isInteger(index) || index < 0 || index >= this.total) {
      throw new RangeError(`patch index ${index} out of range [0, ${this.total})`);
    }
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > index) hi = mid;
      else lo = mid + 1;
    }
    return { ...this.owners[lo], local: index - (lo === 0 ? 0 : this.cumulative[lo - 1]) };
  }
}

/** True when the patch at `coords` shares a pixel with `other` (both of `patchSize`). */
function overlaps(
  coords: readonly number[],
  other: readonly number[],
  patchSize: readonly number[],
): boolean {
  return coords.every((c, i) => c < other[i] + patchSize[i] && other[i] < c + patchSize[i]);
}

/** Per axis, the extreme patch corners: 0, the last one, and the edges of each withheld patch's shadow. */
function extremeCorners(spatial: readonly number[], patchSize: readonly number[], withheld: number[][]) {
  return spatial.map((s, i) => {
    const last = s - patchSize[i];
    const values = new Set([0, last]);
    for (const w of withheld) {
      for (const c of [w[i] - patchSize[i], w[i] + patchSize[i]]) if (c >= 0 && c <= last) values.add(c);
    }
    return [...values];
  });
}

/**
 * An extreme corner whose patch misses every withheld patch, searched from the `start`-th one on; `undefined`
 * exactly when no corner at all is clear (the region left free is a union of boxes bounded by extreme corners).
 */
function findClearCorner(
  axes: readonly number[][],
  patchSize: readonly number[],
  withheld: readonly number[][],
  start = 0,
): number[] | undefined {
  const total = axes.reduce((n, values) => n * values.length, 1);
  for (let t = 0; t < total; t++) {
    let rest = (start + t) % total;
    const corner = new Array<number>(axes.length);
    for (let a = axes.length - 1; a >= 0; a--) {
      corner[a] = axes[a][rest % axes[a].length];
      rest = Math.floor(rest / axes[a].length);
    }
    if (!withheld.some((w) => overlaps(corner, w, patchSize))) return corner;
  }
  return undefined;
}

/** Random draws per patch before falling back to a clear extreme corner. */
const MAX_DRAWS = 100;

/**
 * CAREamics' random patching: as many patches per sample as a sequential tiling would give
 * (∏ ceil(size/patch)), each at a uniformly random position inside the image, drawn anew every epoch. Positions
 * whose patch would overlap a withheld (validation) patch are drawn again; a sample they cover entirely gives none.
 */
export class RandomPatching implements Patching {
  private readonly geometries: ImageGeometry[];
  private readonly index: PatchIndex;
  /** Withheld corners and the extreme corners per axis, per `dataIdx,sampleIdx` that has withheld patches. */
  private readonly exclusions = new Map<string, { withheld: number[][]; extremes: number[][] }>();

  constructor(
    images: readonly ImageInfo[],
    readonly patchSize: readonly number[],
    private readonly rng: Rng,
    withheld: readonly PatchSpec[] = [],
  ) {
    this.geometries = images.map((image) => checkPatchFits(image, patchSize));
    for (const w of withheld) {
      const key = `${w.dataIdx},${w.sampleIdx}`;
      const entry = this.exclusions.get(key) ?? { withheld: [], extremes: [] };
      entry.withheld.push(w.coords);
      this.exclusions.set(key, entry);
    }
    const covered = new Set<string>();
    for (const [key, entry] of this.exclusions) {
      const spatial = this.geometries[Number(key.split(',')[0])].spatial;
      entry.extremes = extremeCorners(spatial, patchSize, entry.withheld);
      if (!findClearCorner(entry.extremes, patchSize, entry.withheld)) covered.add(key);
    }
    this.index = new PatchIndex(
      this.geometries.map((g, dataIdx) => {
        const n = g.spatial.reduce((acc, s, i) => acc * Math.ceil(s / patchSize[i]), 1);
        return Array.from({ length: g.nSamples }, (_, sampleIdx) =>
          covered.has(`${dataIdx},${sampleIdx}`) ? 0 : n,
        );
      }),
    );
  }

  get nPatches(): number {
    return this.index.total;
  }

  getPatchSpec(index: number): PatchSpec {
    const { dataIdx, sampleIdx } = this.index.locate(index);
    const spatial = this.geometries[dataIdx].spatial;
    const exclusion = this.exclusions.get(`${dataIdx},${sampleIdx}`);
    const spec = (coords: number[]) => ({ dataIdx, sampleIdx, coords, patchSize: [...this.patchSize] });
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const coords = spatial.map((s, i) => this.rng.integer(0, s - this.patchSize[i] + 1));
      if (!exclusion?.withheld.some((w) => overlaps(coords, w, this.patchSize))) return spec(coords);
    }
    // Almost everything is withheld: an extreme clear corner, searched from a random one.
    const { extremes, withheld } = exclusion!;
    const start = this.rng.integer(
      0,
      extremes.reduce((n, values) => n * values.length, 1),
    );
    return spec(findClearCorner(extremes, this.patchSize, withheld, start)!);
  }
}

/** The specs of one epoch, in random order when `rng` is given (the DataLoader's `shuffle=True`). */
export function epochPatchSpecs(patching: Patching, rng?: Rng): PatchSpec[] {
  const order = Array.from({ length: patching.nPatches }, (_, i) => i);
  if (rng) rng.shuffle(order);
  return order.map((i) => patching.getPatchSpec(i));
}

/** The region of `image` (in its own axis order) that holds the patch, all channels included. */
export function patchRegion(image: ImageInfo, spec: PatchSpec): Region {
  const geometry = imageGeometry(image);
  const spatialAxes = geometry.spatial.length === 3 ? 'ZYX' : 'YX';
  const sampleAxes = [...image.axes].filter((a) => a === 'S' || a === 'T');
  let rest = spec.sampleIdx;
  const sampleIndex = new Map<string, number>();
  for (let k = sampleAxes.length - 1; k >= 0; k--) {
    const n = image.shape[image.axes.indexOf(sampleAxes[k])];
    sampleIndex.set(sampleAxes[k], rest % n);
    rest = Math.floor(rest / n);
  }
  const start: number[] = [];
  const stop: number[] = [];
  [...image.axes].forEach((axis, i) => {
    const s = spatialAxes.indexOf(axis);
    if (s >= 0) {
      const c = spec.coords[s];
      if (c < 0 || c + spec.patchSize[s] > image.shape[i]) {
        throw new DataError('PatchOutOfBounds', `patch outside the image on axis ${axis}`, {
          file: image.name,
        });
      }
      start.push(c);
      stop.push(c + spec.patchSize[s]);
    } else if (axis === 'C') {
      start.push(0);
      stop.push(image.shape[i]);
    } else {
      const j = sampleIndex.get(axis) ?? 0;
      start.push(j);
      stop.push(j + 1);
    }
  });
  return { start, stop };
}

/**
 * Copies the part of `src` (axes `axes`) starting at `start` into `out` at `offset`, laid out as C, (Z,) Y, X with
 * the extents `[nChannels, ...patchSize]`.
 */
function copyAsCZYX(
  src: { readonly data: NDArray['data']; readonly shape: readonly number[] },
  axes: string,
  start: readonly number[],
  patchSize: readonly number[],
  nChannels: number,
  out: Float32Array,
  offset: number,
): void {
  const strides = new Array<number>(src.shape.length);
  let acc = 1;
  for (let i = src.shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= src.shape[i];
  }
  let base = 0;
  for (let i = 0; i < axes.length; i++) base += start[i] * strides[i];
  const stride = (axis: string) => (axes.includes(axis) ? strides[axes.indexOf(axis)] : 0);
  const [sc, sz, sy, sx] = [stride('C'), stride('Z'), stride('Y'), stride('X')];
  const nz = patchSize.length === 3 ? patchSize[0] : 1;
  const ny = patchSize[patchSize.length - 2];
  const nx = patchSize[patchSize.length - 1];
  const data = src.data;
  let o = offset;
  for (let c = 0; c < nChannels; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        let p = base + c * sc + z * sz + y * sy;
        for (let x = 0; x < nx; x++, p += sx) out[o++] = data[p];
      }
    }
  }
}

function batchShape(images: readonly ImageInfo[], specs: readonly PatchSpec[]): number[] {
  if (specs.length === 0) throw new RangeError('cannot build a batch from zero patches');
  const nChannels = imageGeometry(images[specs[0].dataIdx]).nChannels;
  for (const spec of specs) {
    const image = images[spec.dataIdx];
    if (!image) throw new RangeError(`no image at index ${spec.dataIdx}`);
    if (imageGeometry(image).nChannels !== nChannels) {
      throw new DataError('ChannelMismatch', 'has a different number of channels from the other images', {
        file: image.name,
      });
    }
    if (spec.patchSize.join() !== specs[0].patchSize.join())
      throw new RangeError('patch sizes differ in a batch');
  }
  return [specs.length, nChannels, ...specs[0].patchSize];
}

/** Cuts the patches out of in-memory images into one float32 batch (B, C, [Z,] Y, X). */
export function extractPatchBatch(
  images: readonly ImageArray[],
  specs: readonly PatchSpec[],
): NDArray<Float32Array> {
  const shape = batchShape(images, specs);
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(specs.length * per);
  specs.forEach((spec, b) => {
    const image = images[spec.dataIdx];
    const region = patchRegion(image, spec);
    copyAsCZYX(image, image.axes, region.start, spec.patchSize, shape[1], out, b * per);
  });
  return { data: out, shape };
}

/** Reads the patches from image sources (one region read each) into one float32 batch (B, C, [Z,] Y, X). */
export async function readPatchBatch(
  sources: readonly ImageSource[],
  specs: readonly PatchSpec[],
  options: { signal?: AbortSignal } = {},
): Promise<NDArray<Float32Array>> {
  const shape = batchShape(sources, specs);
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(specs.length * per);
  const zero = sources.map((s) => new Array<number>(s.shape.length).fill(0));
  await Promise.all(
    specs.map(async (spec, b) => {
      const source = sources[spec.dataIdx];
      const region = patchRegion(source, spec);
      const array = await source.read(region, options);
      copyAsCZYX(array, source.axes, zero[spec.dataIdx], spec.patchSize, shape[1], out, b * per);
    }),
  );
  return { data: out, shape };
}
