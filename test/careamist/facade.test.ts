/**
 * The facade end to end: one trained CARE model (target statistics differ from the input's) is saved, exported
 * and loaded back from every model file kind, and each predicts what the trained CAREamist predicts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel as loadModelFromBytes } from '../../src/index.js';
import {
  type AxesArray,
  CAREamist,
  createCareConfig,
  FrozenModel,
  isCareamicsError,
  loadModel,
  nodeRuntime,
  openImage,
  predictToDisk,
  RUN_FILES,
  saveConfigYaml,
  writeImage,
} from '../../src/node.js';
import { addNoise, cleanImage, source } from '../training/synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'careamics-facade-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const side = 128;
const clean = cleanImage(side, side);
const noisy = addNoise(clean, 20, 3);
/** Targets on another scale than the inputs, so a package that dropped the target statistics would be off. */
const target = clean.map((v) => 2 * v + 100);
const image: AxesArray = { data: noisy, shape: [side, side], axes: 'YX' };
const settings = { tileSize: [64, 64], tileOverlap: [16, 16] };
const workDir = join(tmp, 'run');
let careamist: CAREamist;
let expected: Float32Array;

function maxRelativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  const config = createCareConfig({
    experimentName: 'facade',
    dataType: 'array',
    axes: 'YX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 1,
    seed: 5,
  });
  careamist = new CAREamist(config, { workDir });
  await careamist.train({
    trainSource: [source(noisy, [side, side])],
    trainTarget: [source(target, [side, side], 'target.tif')],
  });
  expected = (await careamist.predict(image, settings)).data as Float32Array;
  await writeImage(join(tmp, 'noisy.tif'), image, { axes: 'YX' });
  writeFileSync(join(tmp, 'config.yaml'), saveConfigYaml(config));
});

describe('loadModel', () => {
  it('opens a work dir and its checkpoint as a CAREamist that predicts the same', async () => {
    for (const path of [workDir, join(workDir, RUN_FILES.lastCheckpoint)]) {
      const loaded = await loadModel(path);
      expect(loaded).toBeInstanceOf(CAREamist);
      expect(loaded.kind).toBe('checkpoint');
      expect(loaded.axes).toBe('YX');
      const out = await loaded.predict(image, settings);
      expect(maxRelativeDiff(out.data, expected)).toBeLessThan(1e-5);
      await loaded.dispose();
    }
  });

  it("opens checkpoint bytes in the browser-safe core, from the CAREamist's own checkpoint()", async () => {
    const bytes = careamist.checkpoint();
    const loaded = await loadModelFromBytes(bytes, 'model.safetensors', { runtime: nodeRuntime(2) });
    expect(loaded.kind).toBe('checkpoint');
    expect(loaded.normalization).toEqual(careamist.normalization);
    const out = await loaded.predict(image, settings);
    expect(maxRelativeDiff(out.data, expected)).toBeLessThan(1e-5);
    await loaded.dispose();
  });

  it('opens a BMZ package exported by the CAREamist, target statistics included', async () => {
    const zip = join(tmp, 'model.zip');
    await careamist.exportBmzFile(zip, {
      name: 'facade CARE',
      authors: ['Ada Lovelace'],
      input: join(tmp, 'noisy.tif'),
    });
    // It carries CAREamics' state dict and careamics.yaml: a trainable CAREamist, as the one that exported it.
    const trainable = await loadModel(zip);
    expect(trainable).toBeInstanceOf(CAREamist);
    expect((trainable as CAREamist).config.experiment_name).toBe('facade');
    expect(trainable.normalization).toEqual(careamist.normalization);
    const again = (await trainable.predict(image, settings)).data;
    expect(maxRelativeDiff(again, expected)).toBeLessThan(1e-5);
    // With `frozen`, the package's ONNX weights and processing, as bioimage.io runs them.
    const loaded = await loadModel(zip, { frozen: true });
    expect(loaded).toBeInstanceOf(FrozenModel);
    expect(loaded.kind).toBe('bmz');
    const frozen = loaded as FrozenModel;
    expect(frozen.config?.experiment_name).toBe('facade');
    const n = careamist.normalization!;
    expect(frozen.bmz?.normalization?.targetMeans).toEqual(n.targetMean);
    expect(frozen.bmz?.normalization?.targetStds).toEqual(n.targetStd);
    expect((await frozen.testPackage(nodeRuntime(2))).passed).toBe(true);
    const out = await frozen.predict(image, settings);
    // The package folds batch norm into the convolutions: float32 rounding, not a different model.
    expect(maxRelativeDiff(out.data, expected)).toBeLessThan(1e-3);
    expect(maxRelativeDiff(again, out.data)).toBeLessThan(1e-4);
    await frozen.dispose();
    // The trainable one trains on and exports again, state dict included.
    await (trainable as CAREamist).train({
      trainSource: [source(noisy, [side, side])],
      trainTarget: [source(target, [side, side], 'target.tif')],
    });
    const reexported = join(tmp, 'again.zip');
    await (trainable as CAREamist).exportBmzFile(reexported, {
      name: 'facade CARE again',
      authors: ['Ada Lovelace'],
    });
    const reloaded = await loadModel(reexported);
    expect(reloaded).toBeInstanceOf(CAREamist);
    await reloaded.dispose();
    await trainable.dispose();
  });

  it('loads a package frozen only when asked for a package', async () => {
    const refused = await caught(loadModel(workDir, { frozen: true }));
    expect(refused.message).toMatch(/frozen applies to BMZ \.zip packages only/);
  });

  it('opens a bare ONNX file only with the training statistics', async () => {
    const onnx = join(tmp, 'model.onnx');
    writeFileSync(onnx, careamist.exportOnnx());
    const refused = await caught(loadModel(onnx));
    expect(isCareamicsError(refused, 'CAREamistError')).toBe(true);
    expect(refused.message).toMatch(/model\.onnx: an \.onnx model needs the training mean and std/);
    const loaded = await loadModel(onnx, { normalization: careamist.normalization });
    expect(loaded.kind).toBe('onnx');
    expect(loaded.axes).toBeUndefined();
    const out = await loaded.predict(image, settings);
    expect(maxRelativeDiff(out.data, expected)).toBeLessThan(1e-3);
    await loaded.dispose();
  });

  it('refuses what is not a model, naming the file', async () => {
    const config = await caught(loadModel(join(tmp, 'config.yaml')));
    expect(config.message).toMatch(/config\.yaml: a configuration, not a trained model/);
    const picture = await caught(loadModel(join(tmp, 'noisy.tif')));
    expect(picture.message).toMatch(/noisy\.tif: not a model/);
    const statistics = await caught(loadModel(workDir, { normalization: { mean: [0], std: [1] } }));
    expect(statistics.message).toMatch(/apply to \.onnx models only/);
    const bytes = await caught(loadModel(join(tmp, 'nothing-here.safetensors')));
    expect(bytes.message).toMatch(/nothing-here\.safetensors: no such file/);
  });
});

describe('predictToDisk', () => {
  it('streams any loaded model into OME-Zarr and never overwrites its input', async () => {
    const frozen = await loadModel(join(tmp, 'model.zip'));
    const output = join(tmp, 'denoised.zarr');
    await predictToDisk(frozen, join(tmp, 'noisy.tif'), output, settings);
    const written = await (await openImage(output)).read();
    expect(written.shape).toEqual([side, side]);
    expect(maxRelativeDiff(written.data, expected)).toBeLessThan(1e-3);
    const overwrite = await caught(predictToDisk(frozen, join(tmp, 'noisy.tif'), join(tmp, 'noisy.tif')));
    expect(overwrite.message).toMatch(/would overwrite the input/);
    await frozen.dispose();
  });
});
