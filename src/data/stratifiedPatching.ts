/**
 * CAREamics HEAD's stratified patching (`dataset/patching/stratified_patching.py`): the image is cut into a grid
 * with the patch size as spacing; each grid cell owns the patch corners `[g·p, g·p + p)` (clipped so the patch stays
 * inside the image), so one epoch draws about one patch per cell at a random offset — a 1024² image gives 256 patches
 * of 64². Cells can be excluded (validation patches); the corners whose patch would overlap them are removed.
 */
import {
  checkPatchFits,
  type ImageGeometry,
  type ImageInfo,
  PatchIndex,
  type Patching,
  type PatchSpec,
} from './patching.js';
import type { Rng } from './random.js';

/** A box of patch corners, relative to the region origin: [start, end) per axis. */
type Box = Array<[number, number]>;

const boxArea = (box: Box) => box.reduce((a, [s, e]) => a * Math.max(0, e - s), 1);
const boxesOverlap = (a: Box, b: Box) => a.every(([s, e], i) => Math.max(s, b[i][0]) < Math.min(e, b[i][1]));

function cartesian(sizes: readonly number[]): number[][] {
  return sizes.reduce<number[][]>(
    (acc, n) => acc.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i])),
    [[]],
  );
}

class SamplingRegion {
  subregions: Box[];
  areas: number[];

  constructor(
    readonly coord: number[],
    readonly patchSize: readonly number[],
    spatial: readonly number[],
  ) {
    // Sub-boxes [0,1) and [1,p) per axis, so a neighbouring excluded cell removes exactly the overlapping corners.
    const perAxis: Array<Array<[number, number]>> = patchSize.map((p) => [
      [0, 1],
      [1, p],
    ]);
    const maxCorner = spatial.map((s, i) => s - patchSize[i] + 1 - coord[i]);
    this.subregions = cartesian(perAxis.map((a) => a.length))
      .map((pick) =>
        pick.map((k, i): [number, number] => {
          const [s, e] = perAxis[i][k];
          return [Math.min(s, maxCorner[i]), Math.min(e, maxCorner[i])];
        }),
      )
      .filter((box) => boxArea(box) > 0);
    this.areas = this.subregions.map(boxArea);
  }

  get area(): number {
    return this.areas.reduce((a, b) => a + b, 0);
  }

  excludeOrthant(orthant: number[]): void {
    const box: Box = orthant.map((o, i) => [o, o + this.patchSize[i]]);
    this.subregions = this.subregions.filter((r) => !boxesOverlap(box, r));
    this.areas = this.subregions.map(boxArea);
  }

  sampleCorner(rng: Rng): number[] {
    const box = this.subregions[rng.weightedIndex(this.areas)];
    return box.map(([s, e], i) => this.coord[i] + rng.integer(s, e));
  }
}

/** Best-fit-decreasing packing of region areas into `nBins` bins of minimal common capacity (CAREamics' port). */
function regionBinPacking(areas: readonly number[], nBins: number): { binSize: number; bins: number[][] } {
  const largest = areas.reduce((a, b) => Math.max(a, b), 0);
  if (nBins === 0) return { binSize: 0, bins: [] };
  if (areas.length <= nBins) {
    const bins = areas.map((_, i) => [i]);
    while (bins.length < nBins) bins.push([]);
    return { binSize: Math.ceil(largest), bins };
  }
  const order = areas.map((_, i) => i).sort((a, b) => areas[b] - areas[a]);
  let binSize = largest;
  const bins: number[][] = Array.from({ length: nBins }, () => []);
  const remaining = new Array<number>(nBins).fill(binSize);
  for (const idx of order) {
    const area = areas[idx];
    let best = -1;
    for (let b = 0; b < nBins; b++) {
      if (remaining[b] - area >= 0 && (best < 0 || remaining[b] < remaining[best])) best = b;
    }
    if (best < 0) {
      best = 0;
      for (let b = 1; b < nBins; b++) if (remaining[b] > remaining[best]) best = b;
      const increase = area - remaining[best];
      binSize += increase;
      for (let b = 0; b < nBins; b++) remaining[b] += increase;
    }
    bins[best].push(idx);
    remaining[best] -= area;
  }
  return { binSize: Math.ceil(binSize), bins };
}

/** Stratified sampling of one sample (one (Z)YX volume). */
class SampleStratifiedPatching {
  readonly gridShape: number[];
  readonly gridCoords: number[][];
  private readonly regions: SamplingRegion[];
  private readonly excluded = new Set<string>();
  private bins: number[][] = [];
  private probs: number[] = [];
  /** Running sums of `probs`, to draw the leftover probability over all regions by binary search. */
  private cumulativeProbs = new Float64Array(0);

  constructor(
    readonly spatial: readonly number[],
    readonly patchSize: readonly number[],
    private readonly rng: Rng,
  ) {
    // floor(size/p) cells already cover every valid corner; CAREamics' floor((size+1)/p) adds a cell whose grid
    // patch can leave the image when size % p == p − 1.
    this.gridShape = spatial.map((s, i) => Math.floor(s / patchSize[i]));
    this.gridCoords = cartesian(this.gridShape);
    this.regions = this.gridCoords.map(
      (g) =>
        new SamplingRegion(
          g.map((v, i) => v * patchSize[i]),
          patchSize,
          spatial,
        ),
    );
    this.recalculate();
  }

  get nPatches(): number {
    return this.bins.length;
  }

  private gridIndex(g: readonly number[]): number {
    let idx = 0;
    for (let i = 0; i < g.length; i++) {
      if (g[i] < 0 || g[i] >= this.gridShape[i]) return -1;
      idx = idx * this.gridShape[i] + g[i];
    }
    return idx;
  }

  excludePatches(gridCoords: readonly number[][]): void {
    for (const g of gridCoords) {
      if (this.gridIndex(g) < 0) throw new RangeError(`grid coordinate [${g.join(', ')}] outside the grid`);
      this.excluded.add(g.join(','));
      // The cells at g − (1 − d), d ∈ {0,1}ⁿ, hold corners whose patch can overlap cell g.
      for (const d of cartesian(g.map(() => 2))) {
        const idx = this.gridIndex(g.map((v, i) => v - (1 - d[i])));
        if (idx >= 0) this.regions[idx].excludeOrthant(d.map((v) => 1 - v));
      }
    }
    this.recalculate();
  }

  includedGridCoords(): number[][] {
    return this.gridCoords.filter((g) => !this.excluded.has(g.join(',')));
  }

  private recalculate(): void {
    const areas = this.regions.map((r) => r.area);
    const totalArea = areas.reduce((a, b) => a + b, 0);
    const cells = this.spatial.reduce((acc, s, i) => acc * (s / this.patchSize[i]), 1);
    const nPatches = totalArea === 0 ? 0 : Math.ceil(cells - this.excluded.size);
    const { binSize, bins } = regionBinPacking(areas, Math.max(0, nPatches));
    this.bins = bins;
    this.probs = areas.map((a) => (a === 0 ? 0 : a / binSize));
    this.cumulativeProbs = new Float64Array(this.probs.length);
    let sum = 0;
    this.probs.forEach((p, i) => {
      sum += p;
      this.cumulativeProbs[i] = sum;
    });
  }

  /** A region from bin `index` with probability area/binSize, the rest spread over all regions by area. */
  sampleCorner(index: number): number[] {
    const bin = this.bins[index];
    let inBin = 0;
    for (const r of bin) inBin += this.probs[r];
    const u = this.rng.random();
    let region = -1;
    if (u < inBin) {
      let acc = 0;
      for (const r of bin) {
        acc += this.probs[r];
        region = r;
        if (u < acc) break;
      }
    } else {
      // u is uniform on [inBin, 1): rescale it onto the cumulative probabilities of all regions.
      const cum = this.cumulativeProbs;
      const target = ((u - inBin) / (1 - inBin)) * cum[cum.length - 1];
      let lo = 0;
      let hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] > target) hi = mid;
        else lo = mid + 1;
      }
      region = lo;
    }
    return this.regions[region].sampleCorner(this.rng);
  }
}

export class StratifiedPatching implements Patching {
  readonly samples: SampleStratifiedPatching[][];
  private index: PatchIndex;

  constructor(
    images: readonly ImageInfo[],
    readonly patchSize: readonly number[],
    rng: Rng,
  ) {
    const geometries: ImageGeometry[] = images.map((image) => checkPatchFits(image, patchSize));
    // Samples of one spatial shape share one sampler until cells of one are excluded (it then gets its own):
    // the state is about 1 KiB per grid cell, so a time-lapse of 512 planes of 2048² would otherwise hold 0.5 GiB.
    const shared = new Map<string, SampleStratifiedPatching>();
    this.rng = rng;
    this.samples = geometries.map((g) =>
      Array.from({ length: g.nSamples }, () => {
        const key = g.spatial.join(',');
        let sampler = shared.get(key);
        if (!sampler) {
          sampler = new SampleStratifiedPatching(g.spatial, patchSize, rng);
          shared.set(key, sampler);
        }
        return sampler;
      }),
    );
    this.index = this.buildIndex();
  }

  private readonly rng: Rng;
  /** Samplers that belong to one sample alone (those with excluded cells). */
  private readonly owned = new Set<SampleStratifiedPatching>();

  private buildIndex(): PatchIndex {
    return new PatchIndex(this.samples.map((image) => image.map((s) => s.nPatches)));
  }

  get nPatches(): number {
    return this.index.total;
  }

  getPatchSpec(index: number): PatchSpec {
    const { dataIdx, sampleIdx, local } = this.index.locate(index);
    const coords = this.samples[dataIdx][sampleIdx].sampleCorner(local);
    return { dataIdx, sampleIdx, coords, patchSize: [...this.patchSize] };
  }

  /** Removes the grid cells (spacing = patch size) from sampling: no later patch overlaps them. */
  excludePatches(dataIdx: number, sampleIdx: number, gridCoords: readonly number[][]): void {
    let sampler = this.samples[dataIdx][sampleIdx];
    if (!this.owned.has(sampler)) {
      // A shared sampler has no exclusions: this sample's own starts from the same fresh state.
      sampler = new SampleStratifiedPatching(sampler.spatial, this.patchSize, this.rng);
      this.owned.add(sampler);
      this.samples[dataIdx][sampleIdx] = sampler;
    }
    sampler.excludePatches(gridCoords);
    this.index = this.buildIndex();
  }

  /** The grid cells still available, per (image, sample). */
  getIncludedGridCoords(): Array<{ dataIdx: number; sampleIdx: number; gridCoords: number[][] }> {
    return this.samples.flatMap((image, dataIdx) =>
      image.map((s, sampleIdx) => ({ dataIdx, sampleIdx, gridCoords: s.includedGridCoords() })),
    );
  }
}
