/**
 * The WebGPU path, checked on the CPU-only CI machine through SwiftShader (a software Vulkan driver that
 * Debian's chromium ships): the same code path a real GPU runs. The child process gets the driver in its
 * environment before it starts (the Vulkan loader reads it once) and reports CPU-vs-WebGPU differences.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CAREamist, openImage } from '../../src/node.js';
import { writeNoise } from '../cli/helpers.js';

/** SwiftShader's Vulkan ICD file, where chromium's package put it. */
function swiftShaderIcd(): string | undefined {
  const known = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (existsSync(known)) return known;
  const listed = spawnSync('dpkg', ['-L', 'chromium', 'chromium-common'], { encoding: 'utf8' }).stdout ?? '';
  return listed.split('\n').find((line) => line.endsWith('swiftshader_icd.json'));
}

const icd = swiftShaderIcd();
if (!icd) console.warn('WebGPU tests skipped: no SwiftShader Vulkan driver (apt-get install -y chromium)');

interface CaseResult {
  case: string;
  loss: [number, number];
  lossDiff: number;
  gradDiff: number;
  adamUpdateDiff: number;
  sgdUpdateDiff?: number;
  exp_avg_sq: number;
  buffersDiff: number;
  predictBefore: number;
  predictAfter: number;
  gpuLosses: number[];
  staysOnDevice: boolean;
  roundTripLosses: number[];
  residentDiff: number;
}

const root = join(import.meta.dirname, '..', '..');
/** This process's environment with the Vulkan loader pointed at SwiftShader. */
const swiftShaderEnv = () => ({
  ...process.env,
  VK_ICD_FILENAMES: icd,
  LD_LIBRARY_PATH: [dirname(icd!), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
});

describe.skipIf(!icd)('WebGPU (SwiftShader) against the CPU execution provider', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'careamics-webgpu-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('careamics train and predict --device webgpu work end to end on a small image', async () => {
    const careamics = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin', 'careamics.js'), ...args], {
        cwd: tmp,
        env: swiftShaderEnv(),
        encoding: 'utf8',
      });
    await writeNoise(join(tmp, 'noise.tif'), 32);
    const config = careamics(
      'config',
      'n2v',
      '--patch-size',
      '16',
      '16',
      '--batch-size',
      '2',
      '--epochs',
      '1',
      '--seed',
      '1',
      '--masked-pixel-percentage',
      '1',
      '-o',
      'config.yaml',
    );
    expect(config.status, config.stderr).toBe(0);
    const trained = careamics(
      'train',
      'config.yaml',
      '--train-source',
      'noise.tif',
      '--val-source',
      'noise.tif',
      '--work-dir',
      'run',
      '--device',
      'webgpu',
    );
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/device: webgpu \(google swiftshader/);
    const state = JSON.parse(readFileSync(join(tmp, 'run', 'trainer.json'), 'utf8'));
    expect(state.device).toMatchObject({ name: 'webgpu', software: true });
    const predicted = careamics('predict', 'run', 'noise.tif', '-o', 'out', '--device', 'webgpu');
    expect(predicted.status, predicted.stderr).toBe(0);
    const onGpu = await (await openImage(join(tmp, 'out', 'noise_denoised.tif'))).read();
    const onCpu = await (await CAREamist.load(join(tmp, 'run'))).predict(join(tmp, 'noise.tif'));
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < onCpu.data.length; i++) {
      diff = Math.max(diff, Math.abs(Number(onGpu.data[i]) - Number(onCpu.data[i])));
      scale = Math.max(scale, Math.abs(Number(onCpu.data[i])));
    }
    expect(diff / scale).toBeLessThan(1e-4);
  }, 600_000);

  it('trains (state kept on the GPU) and predicts the 2D N2V default, N2V2 and a small 3D UNet as the CPU does, to 1e-4', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'webgpu.child.ts')],
      {
        cwd: root,
        env: swiftShaderEnv(),
        encoding: 'utf8',
        maxBuffer: 1024 ** 2,
      },
    );
    const report = JSON.parse(output.trim().split('\n').at(-1)!) as {
      device: { name: string; adapter: string; software: boolean };
      results: CaseResult[];
    };
    expect(report.device).toMatchObject({ name: 'webgpu', software: true });
    expect(report.device.adapter).toMatch(/swiftshader/);
    expect(report.results.map((r) => r.case)).toEqual(['n2v-2d-default', 'n2v2-2d', 'n2v-3d-small']);
    for (const r of report.results) {
      const label = `${r.case}: ${JSON.stringify(r)}`;
      expect(r.lossDiff, label).toBeLessThan(1e-4);
      expect(r.gradDiff, label).toBeLessThan(1e-4);
      expect(r.adamUpdateDiff, label).toBeLessThan(1e-4);
      expect(r.exp_avg_sq, label).toBeLessThan(1e-4);
      expect(r.buffersDiff, label).toBeLessThan(1e-4);
      expect(r.predictBefore, label).toBeLessThan(1e-4);
      expect(r.predictAfter, label).toBeLessThan(1e-4);
      // Training on the GPU learns: the second step's loss is below the first.
      expect(r.gpuLosses[1]!, label).toBeLessThan(r.gpuLosses[0]!);
      // The state stays on the device between steps, and that changes nothing: the same steps with the state
      // uploaded and downloaded each time give the same losses and parameters.
      expect(r.staysOnDevice, label).toBe(true);
      expect(r.roundTripLosses, label).toEqual(r.gpuLosses);
      expect(r.residentDiff, label).toBeLessThan(1e-6);
    }
    expect(report.results[0]!.sgdUpdateDiff).toBeLessThan(1e-4);
  }, 900_000);
});
