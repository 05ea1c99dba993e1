/**
 * npm run demo — Noise2Void end to end on the bundled CC0 cell image (scikit-image's quantitative phase image)
 * with synthetic Gaussian noise σ = 25: trains for about a minute and a half on this machine's CPU, predicts the
 * whole image by tiling, writes the denoised TIFF and a noisy | denoised PNG, and prints the PSNR gain.
 *
 * Options: --minutes N (training budget, default 1.5), --out DIR (default demo-output).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ArraySource, decodePngImage, encodePngImage } from '../src/io/index.js';
import { CAREamist, createN2VConfig, psnr, Rng, ssim, writeFileAtomic, writeImage } from '../src/node.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '1.5' }, out: { type: 'string', default: 'demo-output' } },
});
const minutes = Number(values.minutes);
const outDir = resolve(values.out!);
const SIGMA = 25;

const samplePath = join(import.meta.dirname, '..', 'assets', 'cell_cc0.png');
const { array } = decodePngImage(new Uint8Array(await readFile(samplePath)), samplePath);
const [height, width] = array.shape;
const clean = Float32Array.from(array.data);
const noise = new Rng(2024);
const noisy = clean.map((v) => v + noise.normal(0, SIGMA));

const config = createN2VConfig({
  experimentName: 'demo_cell',
  dataType: 'array',
  axes: 'YX',
  patchSize: [64, 64],
  batchSize: 16,
  numEpochs: 1000,
  seed: 42,
  // The time-budget recipe of the BSD68 benchmark (docs/benchmarks.md): the learning rate anneals to zero as the
  // budget ends, and 5 % of the pixels are masked so that each of the few steps learns from more of them.
  maskedPixelPercentage: 5,
  lrScheduler: 'CosineAnnealingLR',
  trainerParams: { max_time: { seconds: Math.round(minutes * 60) } },
});

console.log(`careamics-js demo: N2V on cell_cc0.png (${width}×${height}) with Gaussian noise σ=${SIGMA}`);
console.log(`training for ${minutes} min on onnxruntime-node (CPU)…`);
const started = performance.now();
let lastPrint = 0;
const careamist = new CAREamist(config, {
  workDir: join(outDir, 'run'),
  callbacks: {
    onEpochEnd: (r) => {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed - lastPrint > 10) {
        lastPrint = elapsed;
        console.log(
          `  epoch ${r.epoch + 1}  step ${r.step}  train loss ${r.train_loss.toFixed(4)}  val loss ${r.val_loss?.toFixed(4)}  ${elapsed.toFixed(0)} s`,
        );
      }
    },
  },
});
const state = await careamist.train({
  trainSource: [new ArraySource({ data: noisy, shape: [height, width] }, { name: 'cell_noisy', axes: 'YX' })],
});
const trainSeconds = (performance.now() - started) / 1000;

const t0 = performance.now();
const denoised = await careamist.predict(
  { data: noisy, shape: [height, width], axes: 'YX' },
  { tileSize: [256, 256] },
);
const predictSeconds = (performance.now() - t0) / 1000;
const output = denoised.data as Float32Array;

await mkdir(outDir, { recursive: true });
await writeImage(join(outDir, 'cell_denoised.tif'), denoised, { axes: 'YX' });
await writeImage(join(outDir, 'cell_noisy.tif'), { data: noisy, shape: [height, width] }, { axes: 'YX' });
await writeFileAtomic(join(outDir, 'cell_noisy_denoised.png'), [sideBySide(noisy, output, height, width)]);

const psnrNoisy = psnr(clean, noisy, 255);
const psnrDenoised = psnr(clean, output, 255);
const summary = {
  psnrNoisy: round(psnrNoisy),
  psnrDenoised: round(psnrDenoised),
  psnrGain: round(psnrDenoised - psnrNoisy),
  ssimNoisy: round(ssim(clean, noisy, [height, width], { dataRange: 255 }), 3),
  ssimDenoised: round(ssim(clean, output, [height, width], { dataRange: 255 }), 3),
  epochs: state.epoch,
  steps: state.globalStep,
  trainSeconds: round(trainSeconds),
  predictSeconds: round(predictSeconds),
};
console.log(`wrote ${join(outDir, 'cell_denoised.tif')} and ${join(outDir, 'cell_noisy_denoised.png')}`);
console.log(
  `PSNR ${summary.psnrNoisy} dB → ${summary.psnrDenoised} dB (gain ${summary.psnrGain} dB); SSIM ${summary.ssimNoisy} → ${summary.ssimDenoised}`,
);
console.log(JSON.stringify(summary));

/** Noisy | denoised, both shown on the clean image's 0–255 scale, with a 4-pixel white gap. */
function sideBySide(a: Float32Array, b: Float32Array, h: number, w: number): Uint8Array {
  const gap = 4;
  const outWidth = 2 * w + gap;
  const out = new Uint8Array(h * outWidth).fill(255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[y * outWidth + x] = clamp(a[y * w + x]);
      out[y * outWidth + w + gap + x] = clamp(b[y * w + x]);
    }
  }
  return encodePngImage({ data: out, shape: [h, outWidth] }, 'YX');
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
