/**
 * BMZ packages and CAREamics, both ways: ours carry CAREamics' UNet state dict (loaded here with PyTorch into
 * bench/torch's copy of CAREamics' UNet, strict), and a package with only that state dict, as CAREamics exports
 * them, loads as a CAREamist that predicts, trains on and exports again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  type AxesArray,
  CAREamist,
  createN2VConfig,
  importBmz,
  isCareamicsError,
  loadModel,
} from '../../src/index.js';
import { nodeRuntime } from '../../src/node.js';
import { schemaValidator } from '../bmz/schema.js';
import { addNoise, cleanImage, source } from '../training/synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'careamics-bmz-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const runtime = nodeRuntime(2);
const side = 128;
const noisy = addNoise(cleanImage(side, side), 20, 3);
const image: AxesArray = { data: noisy, shape: [side, side], axes: 'YX' };
const details = { name: 'torch parity', authors: ['careamics-js tests'], input: image };
let careamist: CAREamist;
let files: Record<string, Uint8Array>;
/** The parts of rdf.yaml these tests read and edit. */
interface Rdf {
  weights: {
    onnx?: { parent?: string };
    pytorch_state_dict: {
      source: string;
      architecture: Record<string, unknown>;
      pytorch_version: string;
      dependencies: { source: string };
    };
  };
}
let rdf: Rdf;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i]!)), 0);

/** The package without its ONNX weights: CAREamics' state dict, careamics.yaml and the rest, as CAREamics writes. */
function stateDictOnly(edit: (rdf: Rdf) => void = () => {}): Uint8Array {
  const copy = structuredClone(rdf);
  delete copy.weights.onnx;
  edit(copy);
  const { 'weights.onnx': _, ...rest } = files;
  return zipSync({ ...rest, 'rdf.yaml': strToU8(stringify(copy)) });
}

beforeAll(async () => {
  const config = createN2VConfig({
    experimentName: 'torch-parity',
    dataType: 'array',
    axes: 'YX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 1,
    seed: 3,
    useN2V2: true,
    modelParams: { depth: 2, num_channels_init: 8 },
  });
  careamist = new CAREamist(config, { runtime });
  await careamist.train({ trainSource: [source(noisy, [side, side])] });
  files = unzipSync(await careamist.exportBmz(details));
  rdf = parse(strFromU8(files['rdf.yaml']!));
});
afterAll(() => careamist.dispose());

describe('BMZ export: CAREamics UNet state dict', () => {
  it('writes pytorch_state_dict as CAREamics does, and the rdf still validates against the official schema', () => {
    const validate = schemaValidator();
    expect(validate(rdf), JSON.stringify(validate.errors)).toBe(true);
    const torch = rdf.weights.pytorch_state_dict;
    expect(torch.source).toBe('weights.pth');
    expect(torch.architecture).toEqual({
      callable: 'UNet',
      import_from: 'careamics.models.unet',
      kwargs: careamist.config.algorithm_config.model,
    });
    expect(torch.pytorch_version).toMatch(/^\d+\.\d+/);
    expect(files[torch.dependencies.source]).toBeDefined();
    expect(rdf.weights.onnx?.parent).toBe('pytorch_state_dict');
  });

  const hasTorch = (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch, yaml'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasTorch)(
    "loads with torch.load(weights_only=True) into CAREamics' UNet (strict) and predicts as careamics-js does",
    () => {
      const dir = join(tmp, 'package');
      execFileSync('mkdir', ['-p', dir]);
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      const script = resolve(import.meta.dirname, 'fixtures/torch_predict.py');
      const out = JSON.parse(execFileSync('/usr/bin/python3', [script, dir]).toString());
      // depth 2: two batch norms per block, five blocks (two down, bottleneck, two up), one counter each.
      expect(out.int64).toHaveLength(10);
      expect(out.int64.every((k: string) => k.endsWith('.num_batches_tracked'))).toBe(true);
      expect(out.maxAbsDiff).toBeLessThan(1e-4);
    },
  );
});

describe("BMZ import: CAREamics' packages (state dict only)", () => {
  it('load as a CAREamist that predicts as the original, trains further and exports again', async () => {
    const loaded = await loadModel(stateDictOnly(), 'careamics.zip', { runtime });
    expect(loaded).toBeInstanceOf(CAREamist);
    const again = loaded as CAREamist;
    expect(again.normalization).toEqual(careamist.normalization);
    const settings = { tileSize: [32, 32], tileOverlap: [16, 16] };
    const expected = (await careamist.predict(image, settings)).data;
    expect(maxAbsDiff((await again.predict(image, settings)).data, expected)).toBeLessThan(1e-3);
    await again.train({ trainSource: [source(noisy, [side, side])] });
    const reexported = await importBmz(await again.exportBmz(details), 're-exported.zip');
    expect(reexported.onnx).toBeDefined();
    expect(reexported.careamicsStateDict).toBeDefined();
    await again.dispose();
  });

  it('take the statistics from the preprocessing when careamics.yaml has none', async () => {
    const config = parse(strFromU8(files['careamics.yaml']!));
    delete config.data_config.normalization.input_means;
    delete config.data_config.normalization.input_stds;
    const yaml = strToU8(stringify(config));
    const zip = unzipSync(stateDictOnly());
    zip['careamics.yaml'] = yaml;
    const copy = parse(strFromU8(zip['rdf.yaml']!));
    delete copy.attachments[0].sha256;
    zip['rdf.yaml'] = strToU8(stringify(copy));
    const loaded = (await loadModel(zipSync(zip), 'no-stats.zip', { runtime })) as CAREamist;
    expect(loaded.normalization?.mean[0]).toBeCloseTo(careamist.normalization!.mean[0]!, 3);
    await loaded.dispose();
  });

  it('refuse another architecture without ONNX weights in one line naming it', async () => {
    const zip = stateDictOnly((r) => {
      r.weights.pytorch_state_dict.architecture = { callable: 'ResNet', import_from: 'other.models' };
    });
    const err = await importBmz(zip, 'other.zip').catch((e: unknown) => e);
    expect(isCareamicsError(err, 'NoOnnxWeights')).toBe(true);
    expect((err as Error).message).toMatch(/other\.models\.ResNet is not CAREamics' UNet/);
    expect((err as Error).message).not.toContain('\n');
  });
});
