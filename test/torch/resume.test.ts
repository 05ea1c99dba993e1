/**
 * Continuing a CAREamics Lightning run: the checkpoint's weights, Adam moments, epoch and step carry over
 * (test/torch/fixtures/n2v2.ckpt took two real Adam steps in PyTorch), from the library and the command line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Batch, createModel } from '../../src/engine/index.js';
import { decodeNpy } from '../../src/io/npy.js';
import { CAREamist, nodeRuntime } from '../../src/node.js';
import { cli, errorLines, writeNoise } from '../cli/helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'careamics-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const runtime = nodeRuntime(2);
const N2V2 = join(FIXTURES, 'n2v2.ckpt');

describe('continuing a Lightning checkpoint', () => {
  it("loads the optimizer's moments by parameter name, and its step", async () => {
    const careamist = await CAREamist.load(N2V2, { runtime });
    const model = careamist.engineModel!;
    const name = 'decoder.decoder_blocks.1.conv1.weight';
    const expected = decodeNpy(new Uint8Array(readFileSync(join(FIXTURES, 'n2v2_exp_avg_sq.npy'))), 'npy');
    const loaded = model.description.parameterLayout.view(model.state.slots.exp_avg_sq!, name);
    expect(Array.from(loaded)).toEqual(Array.from(expected.data as Float32Array));
    expect(model.state.step).toBe(2);
    expect(careamist.lightning).toEqual({ epoch: 3, epochsDone: 4, globalStep: 30 });
    await careamist.dispose();
  });

  it("trains on from the checkpoint's weights, epoch and step", async () => {
    const image = join(tmp, 'noise.tif');
    await writeNoise(image, 256);
    const careamist = await CAREamist.load(N2V2, { runtime, workDir: join(tmp, 'library') });
    careamist.config.training_config.trainer_params.max_epochs = 5;
    const model = careamist.engineModel!;
    const losses: { batch: Batch; loss: number }[] = [];
    const trainStep = model.trainStep.bind(model);
    model.trainStep = async (batch, lr) => {
      const loss = await trainStep(batch, lr);
      losses.push({ batch, loss });
      return loss;
    };
    const state = await careamist.train({ trainSource: image }, { resume: true });
    expect(state.epoch).toBe(5);
    expect(state.history).toHaveLength(1);
    expect(state.globalStep).toBe(30 + losses.length);
    expect(Number.isFinite(state.history[0]!.train_loss)).toBe(true);
    // The first step's loss is the checkpoint's weights' loss on that batch, not freshly initialized weights'.
    const first = losses[0]!;
    const fresh = await CAREamist.load(N2V2, { runtime });
    expect(await fresh.engineModel!.trainStep(first.batch, 0)).toBeCloseTo(first.loss, 5);
    const untrained = await createModel(runtime, { architecture: careamist.config.algorithm_config.model });
    expect(Math.abs((await untrained.trainStep(first.batch, 0)) - first.loss)).toBeGreaterThan(1e-3);
    await Promise.all([careamist.dispose(), fresh.dispose(), untrained.dispose()]);
  });

  it('starts the optimizer fresh, in one warning, when the checkpoint has no optimizer state', async () => {
    const warnings: string[] = [];
    const careamist = await CAREamist.load(join(FIXTURES, 'care_channels.ckpt'), {
      runtime,
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([
      `${join(FIXTURES, 'care_channels.ckpt')}: it has no optimizer state; Adam starts fresh`,
    ]);
    expect(careamist.engineModel!.state.step).toBe(0);
    await careamist.dispose();
  });
});

describe('the command line with .ckpt files', () => {
  it('train --resume-from continues the run in a new work dir', async () => {
    const image = join(tmp, 'cli-noise.tif');
    await writeNoise(image, 256);
    const workDir = join(tmp, 'cli-run');
    const r = await cli(
      'train',
      '--resume-from',
      N2V2,
      '--train-source',
      image,
      '--epochs',
      '5',
      '--work-dir',
      workDir,
    );
    expect(r.stderr).toContain(`(from ${N2V2}, epoch 4, step 30)`);
    expect(r.code).toBe(0);
    const state = JSON.parse(readFileSync(join(workDir, 'trainer.json'), 'utf8'));
    expect(state.epoch).toBe(5);
    expect(state.globalStep).toBeGreaterThan(30);
  });

  it('refuses a CONFIG of another architecture, naming the field', async () => {
    const config = join(tmp, 'deeper.yaml');
    const r0 = await cli('config', 'n2v', '--axes', 'YX', '--patch-size', '64', '64', '-o', config);
    expect(r0.code).toBe(0);
    const r = await cli('train', config, '--resume-from', N2V2, '--train-source', config);
    expect(r.code).not.toBe(0);
    expect(errorLines(r.stderr)[0]).toMatch(
      /not the architecture of .*n2v2\.ckpt: algorithm_config\.model\.\w+/,
    );
  });

  it('info shows the configuration and the Lightning epoch and step', async () => {
    const r = await cli('info', N2V2);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/experiment\s+n2v2 fixture/);
    expect(r.stdout).toMatch(/lightning\s+epoch 3, global_step 30 \(4 epoch\(s\) done\)/);
  });

  it('export packages a .ckpt for the BioImage Model Zoo', async () => {
    const zip = join(tmp, 'model.zip');
    const r = await cli(
      'export',
      N2V2,
      '-o',
      zip,
      '--name',
      'n2v2 from lightning',
      '--authors',
      'Ada Lovelace',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*model\.zip .*its test passes/);
  });
});
