/**
 * npm run bench:step — the CAREamics N2V default UNet (2D, depth 2, 32 filters, batch norm, Adam) train step on
 * a 16×1×64×64 batch and the 512×512 prediction, on onnxruntime-node and, interleaved in the same run, a
 * reference: PyTorch on the CPU, or with `--device webgpu` (or an `auto` that finds a GPU) onnxruntime-node's
 * CPU execution provider, for `speedupOverCpu` (and `agreementWithCpu`: how far the device's first prediction
 * and loss are from the CPU EP's, from the same weights). `--3d` adds the 3D step (8×1×16×64×64, depth 2,
 * 32 filters). `--quick` times tiny shapes (2×1×32×32, 128², 3D 2×1×8×32×32) in one short round, enough to show a slow
 * device (a software adapter) runs. The JSON also has the convolution work counted from the architecture
 * (`stepGflop`, `stepGflopPerS`, `predictGflopPerS`, with `--3d` `step3dGflop`, `step3dGflopPerS`; see flops.ts).
 * Prints a table, then as its LAST line the JSON summary.
 */
import { parseArgs } from 'node:util';
import { createModel, type Model } from '../src/engine/index.js';
import { DEFAULT_UNET } from '../src/models/index.js';
import { convGflop } from './flops.js';
import {
  benchRuntime,
  cpuRuntime,
  DEVICE_FLAGS,
  deviceFields,
  hasTorch,
  interleave,
  median,
  round,
  startTorchWorker,
  type TorchWorker,
} from './lib.js';

const { values: flags } = parseArgs({
  options: { '3d': { type: 'boolean', default: false }, ...DEVICE_FLAGS },
});
const quick = flags.quick;
const BLOCK = quick ? 2 : 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 5));
const PREDICT_ROUNDS = quick ? 1 : 4;
const PREDICT_BLOCK = quick ? 2 : 3;
const batchShape = quick ? [2, 1, 32, 32] : [16, 1, 64, 64];
const predictShape = quick ? [1, 1, 128, 128] : [1, 1, 512, 512];
const side = predictShape[3];

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

function n2vBatch(shape: number[]) {
  const size = shape.reduce((a, b) => a * b, 1);
  const mask = Float32Array.from({ length: size }, () => (Math.random() < 0.002 ? 1 : 0));
  mask[0] = 1;
  return { input: random(size), target: random(size), mask, shape };
}

const runtime = await benchRuntime(flags.device);
const onCpu = runtime.device!.name === 'cpu';
const model = await createModel(runtime, { loss: 'n2v', seed: 0 });
/** The same model on the CPU EP, timed against a GPU in the same run. */
const cpuModel = onCpu ? undefined : await createModel(cpuRuntime, { loss: 'n2v', seed: 0 });
const batch = n2vBatch(batchShape);
const image = random(predictShape.reduce((a, b) => a * b, 1));

// PyTorch runs on the CPU: its ratio to a GPU step measures nothing the issue asks; the CPU EP is the reference.
const torchSkipped = onCpu ? undefined : 'PyTorch reference is CPU-only; see speedupOverCpu';
let torch: TorchWorker | undefined;
if (onCpu && hasTorch()) torch = await startTorchWorker();
else if (onCpu)
  console.error('PyTorch not found (apt-get install -y python3-torch): torch fields will be null.');

async function ortSteps(n: number, m: Model = model, b = batch): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await m.trainStep(b);
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function ortPredicts(n: number, m: Model = model): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await m.predict(image, predictShape);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const torchTrain = (steps: number) =>
  torch!.request<{ ms: number[] }>({ cmd: 'train', architecture: DEFAULT_UNET, shape: batchShape, steps });
const torchPredict = (runs: number) =>
  torch!.request<{ ms: number[] }>({ cmd: 'predict', architecture: DEFAULT_UNET, shape: predictShape, runs });

/**
 * On a GPU, the device's first prediction and first step against the CPU EP's, from the same seeded weights:
 * the largest absolute difference of the outputs and of the losses (float32 rounding, not a wrong graph).
 */
async function agreementWithCpu(cpu: Model) {
  const [onDevice, onCpu] = [
    await model.predict(image, predictShape),
    await cpu.predict(image, predictShape),
  ];
  const predictMaxAbsDiff = onDevice.data.reduce(
    (max, v, i) => Math.max(max, Math.abs(v - onCpu.data[i]!)),
    0,
  );
  const lossAbsDiff = Math.abs((await model.trainStep(batch)) - (await cpu.trainStep(batch)));
  return {
    predictMaxAbsDiff: Number(predictMaxAbsDiff.toPrecision(2)),
    lossAbsDiff: Number(lossAbsDiff.toPrecision(2)),
  };
}
const agreement = cpuModel && (await agreementWithCpu(cpuModel));

// Warm-up: session creation, first-run allocations, torch's lazy init.
await ortSteps(quick ? 1 : 3);
await ortPredicts(quick ? 1 : 2);
if (torch) {
  await torchTrain(3);
  await torchPredict(2);
}
if (cpuModel) {
  await ortSteps(quick ? 1 : 3, cpuModel);
  await ortPredicts(quick ? 1 : 2, cpuModel);
}

const step = await interleave(ROUNDS, {
  ort: () => ortSteps(BLOCK),
  torch: torch && (async () => (await torchTrain(BLOCK)).ms),
  cpu: cpuModel && (() => ortSteps(BLOCK, cpuModel)),
});
const predicted = await interleave(PREDICT_ROUNDS, {
  ort: () => ortPredicts(PREDICT_BLOCK),
  torch: torch && (async () => (await torchPredict(PREDICT_BLOCK)).ms),
  cpu: cpuModel && (() => ortPredicts(PREDICT_BLOCK, cpuModel)),
});

// The 3D step: CAREamics' 3D UNet (Z in the axes) on a 16×64×64 patch.
const shape3d = quick ? [2, 1, 8, 32, 32] : [8, 1, 16, 64, 64];
const architecture3d = { ...DEFAULT_UNET, conv_dims: 3 as const };
let step3d = { ort: [] as number[], torch: [] as number[], cpu: [] as number[] };
if (flags['3d']) {
  const options3d = { architecture: architecture3d, loss: 'n2v' as const, seed: 0 };
  const model3d = await createModel(runtime, options3d);
  const cpuModel3d = cpuModel ? await createModel(cpuRuntime, options3d) : undefined;
  const batch3d = n2vBatch(shape3d);
  const torchTrain3d = (steps: number) =>
    torch!.request<{ ms: number[] }>({ cmd: 'train', architecture: architecture3d, shape: shape3d, steps });
  await ortSteps(quick ? 1 : 2, model3d, batch3d);
  if (torch) await torchTrain3d(2);
  if (cpuModel3d) await ortSteps(quick ? 1 : 2, cpuModel3d, batch3d);
  step3d = await interleave(ROUNDS, {
    ort: () => ortSteps(BLOCK, model3d, batch3d),
    torch: torch && (async () => (await torchTrain3d(BLOCK)).ms),
    cpu: cpuModel3d && (() => ortSteps(BLOCK, cpuModel3d, batch3d)),
  });
  await model3d.dispose();
  await cpuModel3d?.dispose();
}
torch?.close();
await model.dispose();
await cpuModel?.dispose();

const ratio = (a: number[], b: number[]) => round(median(a) / median(b), 3);
/** Convolution GFLOP per second at the median time. */
const gflopPerS = (gflop: number, ms: number[]) => round(gflop / (median(ms) / 1000));
const stepGflop = convGflop(DEFAULT_UNET, batchShape).step;
const predictGflop = convGflop(DEFAULT_UNET, predictShape).forward;
const step3dGflop = convGflop(architecture3d, shape3d).step;
const summary = {
  ortStepMs: round(median(step.ort)),
  torchStepMs: torch ? round(median(step.torch)) : null,
  stepRatio: torch ? ratio(step.ort, step.torch) : null,
  [`ortPredict${side}Ms`]: round(median(predicted.ort)),
  [`torchPredict${side}Ms`]: torch ? round(median(predicted.torch)) : null,
  predictRatio: torch ? ratio(predicted.ort, predicted.torch) : null,
  stepGflop: round(stepGflop, 2),
  stepGflopPerS: gflopPerS(stepGflop, step.ort),
  predictGflopPerS: gflopPerS(predictGflop, predicted.ort),
  ...(flags['3d']
    ? {
        ort3dStepMs: round(median(step3d.ort)),
        torch3dStepMs: torch ? round(median(step3d.torch)) : null,
        step3dRatio: torch ? ratio(step3d.ort, step3d.torch) : null,
        step3dGflop: round(step3dGflop, 2),
        step3dGflopPerS: gflopPerS(step3dGflop, step3d.ort),
      }
    : {}),
  ...(cpuModel
    ? {
        cpuStepMs: round(median(step.cpu)),
        speedupOverCpu: ratio(step.cpu, step.ort),
        [`cpuPredict${side}Ms`]: round(median(predicted.cpu)),
        predictSpeedupOverCpu: ratio(predicted.cpu, predicted.ort),
        ...(flags['3d']
          ? { cpu3dStepMs: round(median(step3d.cpu)), step3dSpeedupOverCpu: ratio(step3d.cpu, step3d.ort) }
          : {}),
        agreementWithCpu: agreement,
        torchSkipped,
      }
    : {}),
  ...(quick
    ? { quick: { step: batchShape, predict: predictShape, ...(flags['3d'] ? { step3d: shape3d } : {}) } }
    : {}),
  ...deviceFields(runtime),
};

/** A table row: onnxruntime-node's median on the device, and the reference's (PyTorch, or the CPU EP). */
function row(what: string, ms: number[], torchMs: number[], cpuMs: number[]) {
  const base = { what, samples: ms.length, ort: round(median(ms)) };
  if (cpuModel) return { ...base, 'cpu EP': round(median(cpuMs)), speedup: ratio(cpuMs, ms) };
  return { ...base, torch: torch ? round(median(torchMs)) : null, ratio: torch ? ratio(ms, torchMs) : null };
}
console.table([
  row(`train step ${batchShape.join('×')}`, step.ort, step.torch, step.cpu),
  row(`predict ${predictShape.join('×')}`, predicted.ort, predicted.torch, predicted.cpu),
  ...(flags['3d'] ? [row(`3D train step ${shape3d.join('×')}`, step3d.ort, step3d.torch, step3d.cpu)] : []),
]);
console.log(JSON.stringify(summary));
