/**
 * CARE and N2N batches built from real FMD pairs (noisy confocal pages, their 50-frame averages): each target
 * patch is its input's pixels in the target image — same image, position and flip/rotation — normalized with the
 * target statistics. A target normalized with the input's statistics, augmented with another draw, or taken from
 * another image or place changes the intensities the network learns, and fails here.
 */
import { describe, expect, it } from 'vitest';
import { createCareConfig, createN2NConfig } from '../../src/config/index.js';
import {
  type Augmentation,
  applyAugmentation,
  denormalize,
  extractPatchBatch,
  Rng,
} from '../../src/data/index.js';
import { ArraySource } from '../../src/io/index.js';
import { readAll } from '../../src/io/memory.js';
import { openImage } from '../../src/io/node/index.js';
import { TrainingSet } from '../../src/training/dataset.js';
import { HAS_SHARED_DATA, MICROSCOPY } from '../io/helpers.js';

const SIDE = 512;
const PATCH = 64;
const BATCH = 16;

/** The eight flips and quarter turns of a square patch, identity first. */
const D8: (Augmentation | null)[][] = [
  [],
  [{ kind: 'flip', axis: 'Y' }],
  [{ kind: 'flip', axis: 'X' }],
  [{ kind: 'rot90', k: 1 }],
  [{ kind: 'rot90', k: 2 }],
  [{ kind: 'rot90', k: 3 }],
  [
    { kind: 'flip', axis: 'Y' },
    { kind: 'rot90', k: 1 },
  ],
  [
    { kind: 'flip', axis: 'X' },
    { kind: 'rot90', k: 1 },
  ],
];

function transformed(patch: Float32Array, transforms: (Augmentation | null)[]): Float32Array {
  const out = Float32Array.from(patch);
  for (const t of transforms) if (t) applyAugmentation(t, out, PATCH, PATCH);
  return out;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function pages(file: string): Promise<Float32Array[]> {
  const { data } = await readAll(await openImage(`${MICROSCOPY}${file}`));
  return [0, 1, 2].map((p) => Float32Array.from(data.subarray(p * SIDE * SIDE, (p + 1) * SIDE * SIDE)));
}

const source = (data: Float32Array, name: string) =>
  new ArraySource({ data, shape: [SIDE, SIDE] }, { name, axes: 'YX' });

/**
 * Checks every patch of a batch: the denormalized input is one D8 transform of the raw patch at its spec, and the
 * denormalized target is the same transform of the target image's patch there.
 */
async function expectPairedBatches(set: TrainingSet, inputs: Float32Array[], targets: Float32Array[]) {
  const rng = new Rng(5);
  const specs = set.epochSpecs(rng).slice(0, BATCH);
  const valSpecs = set.valSpecs.slice(0, BATCH);
  const batches = [
    { batch: set.trainingBatch(await set.readBatch('train', specs), rng), used: specs },
    { batch: set.validationBatch(await set.readBatch('val', valSpecs), rng), used: valSpecs },
  ];
  const arrays = (images: Float32Array[]) =>
    images.map((data, i) => ({ name: `${i}`, axes: 'YX', shape: [SIDE, SIDE], data }));
  let turned = 0;
  for (const { batch, used } of batches) {
    const n = used.length;
    const input = denormalize({ data: batch.input, shape: [n, 1, PATCH, PATCH] }, 'SCYX', set.stats.input);
    const target = denormalize(
      { data: batch.target, shape: [n, 1, PATCH, PATCH] },
      'SCYX',
      set.stats.target!,
    );
    const rawPatches = extractPatchBatch(arrays(inputs), used).data;
    const targetPatches = extractPatchBatch(arrays(targets), used).data;
    const per = PATCH * PATCH;
    for (let b = 0; b < n; b++) {
      const window = (data: Float32Array) => data.subarray(b * per, (b + 1) * per);
      const drawn = D8.find(
        (t) => maxDifference(transformed(window(rawPatches), t), window(input.data)) < 1e-3,
      );
      expect(drawn, `input patch ${b} is no flip/rotation of its image region`).toBeDefined();
      if (drawn!.length > 0) turned++;
      const expected = transformed(window(targetPatches), drawn!);
      expect(maxDifference(expected, window(target.data)), `target patch ${b}`).toBeLessThan(1e-3);
    }
  }
  // The training batch was augmented, so the check saw flips and turns, not only identities.
  expect(turned).toBeGreaterThan(0);
}

describe.skipIf(!HAS_SHARED_DATA)('batches from real pairs (FMD confocal pages)', () => {
  const common = {
    experimentName: 'pairs',
    dataType: 'array' as const,
    axes: 'YX',
    patchSize: [PATCH, PATCH],
    batchSize: BATCH,
    seed: 3,
  };

  it('CARE (noisy → average): targets are the paired averages at the same place and orientation', async () => {
    const [raw, gt] = [await pages('fmd_3page_raw_float32.tif'), await pages('fmd_3page_gt_float32.tif')];
    const set = await TrainingSet.load(
      createCareConfig(common),
      {
        trainSource: [source(raw[0], 'raw0'), source(raw[1], 'raw1')],
        trainTarget: [source(gt[0], 'gt0'), source(gt[1], 'gt1')],
      },
      new Rng(3),
    );
    // The target statistics are the targets' own (the averages are less spread than the noisy frames).
    expect(set.stats.target).toBeDefined();
    expect(set.stats.target).not.toEqual(set.stats.input);
    await expectPairedBatches(set, raw.slice(0, 2), gt.slice(0, 2));
  });

  it('N2N (noisy → noisy): the same pairing, with another noisy image as target', async () => {
    const raw = await pages('fmd_3page_raw_float32.tif');
    const set = await TrainingSet.load(
      createN2NConfig(common),
      {
        trainSource: [source(raw[0], 'raw0'), source(raw[1], 'raw1')],
        trainTarget: [source(raw[1], 'raw1'), source(raw[2], 'raw2')],
      },
      new Rng(3),
    );
    await expectPairedBatches(set, raw.slice(0, 2), raw.slice(1, 3));
  });
});
