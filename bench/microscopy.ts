/**
 * npm run bench:microscopy -- [--minutes N] — N2V with the CAREamics default configuration on two real noisy
 * images from ../shared/data/microscopy: Convallaria (1024² uint16, big-endian ImageJ TIFF) and an SEM image
 * (600² float32). Writes noisy | denoised crops to docs/ and compares the SEM result with the published N2V model's
 * output (bioimage.io "n2v-sem-demo") after a least-squares scale and offset fit. Last line: JSON summary.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodePngImage } from '../src/io/index.js';
import { fitScaleOffset, psnr, ssim } from '../src/metrics/index.js';
import { CAREamist, createN2VConfig, openImage, writeFileAtomic } from '../src/node.js';
import { round } from './lib.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '5' }, out: { type: 'string', default: 'docs' } },
});
const minutes = Number(values.minutes);
const root = resolve(import.meta.dirname, '..');
const outDir = resolve(root, values.out!);
const data = resolve(root, '..', 'shared', 'data', 'microscopy');
if (!existsSync(data)) {
  console.error(`no data at ${data}: this benchmark needs the shared research data`);
  process.exit(1);
}

interface Result {
  image: string;
  shape: number[];
  epochs: number;
  steps: number;
  trainMinutes: number;
  finalTrainLoss: number;
  finalValLoss: number | null;
  referencePsnr?: number;
  referenceSsim?: number;
}

async function denoise(
  file: string,
  crop: [number, number, number],
): Promise<{ result: Result; output: Float32Array }> {
  const source = await openImage(join(data, file), { axes: 'YX' });
  const { data: pixels, shape } = await source.read();
  const noisy = Float32Array.from(pixels as ArrayLike<number>);
  const config = createN2VConfig({
    experimentName: file.replace(/\W+/g, '_'),
    dataType: 'tiff',
    axes: 'YX',
    patchSize: [64, 64],
    batchSize: 16,
    seed: 1,
    trainerParams: { max_time: { seconds: Math.round(minutes * 60) } },
  });
  const careamist = new CAREamist(config, {
    workDir: join(root, 'bench', 'out', config.experiment_name),
    callbacks: {
      onEpochEnd: (r) =>
        console.error(
          `${file} epoch ${r.epoch + 1} step ${r.step} train ${r.train_loss.toFixed(4)} val ${r.val_loss?.toFixed(4)}`,
        ),
    },
  });
  const started = performance.now();
  const state = await careamist.train({ trainSource: [source] });
  const trainMinutes = (performance.now() - started) / 60000;
  const predicted = await careamist.predict(source, { tileSize: [256, 256] });
  const output = predicted.data as Float32Array;
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(join(outDir, `microscopy_${file.replace(/\.tif$/, '')}.png`), [
    sideBySideCrop(noisy, output, shape, crop),
  ]);
  const last = state.history[state.history.length - 1];
  return {
    output,
    result: {
      image: file,
      shape,
      epochs: state.epoch,
      steps: state.globalStep,
      trainMinutes: round(trainMinutes, 2),
      finalTrainLoss: round(last.train_loss, 4),
      finalValLoss: last.val_loss === null ? null : round(last.val_loss, 4),
    },
  };
}

/** A crop (top, left, size) of noisy | denoised, both on the noisy crop's 0.5–99.5 % percentile range. */
function sideBySideCrop(
  noisy: Float32Array,
  denoised: Float32Array,
  shape: number[],
  [top, left, size]: [number, number, number],
) {
  const width = shape[1];
  const values: number[] = [];
  for (let y = top; y < top + size; y++)
    for (let x = left; x < left + size; x++) values.push(noisy[y * width + x]);
  values.sort((a, b) => a - b);
  const lo = values[Math.floor(0.005 * values.length)];
  const hi = values[Math.floor(0.995 * values.length)];
  const gap = 4;
  const out = new Uint8Array(size * (2 * size + gap)).fill(255);
  const scale = (v: number) => Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255)));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (top + y) * width + left + x;
      out[y * (2 * size + gap) + x] = scale(noisy[i]);
      out[y * (2 * size + gap) + size + gap + x] = scale(denoised[i]);
    }
  }
  return encodePngImage({ data: out, shape: [size, 2 * size + gap] }, 'YX');
}

const convallaria = await denoise('convallaria_frame0_uint16_be.tif', [384, 384, 256]);
const sem = await denoise('sem_input_float32_be.tif', [172, 172, 256]);

const reference = Float32Array.from(
  (await (await openImage(join(data, 'sem_n2v_reference_output.tif'), { axes: 'YX' })).read())
    .data as ArrayLike<number>,
);
const { scale, offset } = fitScaleOffset(sem.output, reference);
const fitted = sem.output.map((v) => v * scale + offset);
let min = Number.POSITIVE_INFINITY;
let max = Number.NEGATIVE_INFINITY;
for (const v of reference) {
  min = Math.min(min, v);
  max = Math.max(max, v);
}
sem.result.referencePsnr = round(psnr(reference, fitted, max - min));
sem.result.referenceSsim = round(ssim(reference, fitted, sem.result.shape, { dataRange: max - min }), 4);

console.table([convallaria.result, sem.result]);
console.log(JSON.stringify({ minutesPerImage: minutes, results: [convallaria.result, sem.result] }));
