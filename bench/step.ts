/**
 * npm run bench:step — the CAREamics N2V default UNet (2D, depth 2, 32 filters, batch norm, Adam) train step on
 * a 16×1×64×64 batch and the 512×512 prediction, on onnxruntime-node and, interleaved in the same run, PyTorch.
 * `--3d` adds the 3D step (8×1×16×64×64, depth 2, 32 filters). Prints a table, then as its LAST line the JSON
 * summary.
 */
import { parseArgs } from 'node:util';
import { createModel, type Model } from '../src/engine/index.js';
import { DEFAULT_UNET } from '../src/models/index.js';
import { hasTorch, median, nodeRuntime, round, settle, startTorchWorker, type TorchWorker } from './lib.js';

const { values: flags } = parseArgs({ options: { '3d': { type: 'boolean', default: false } } });
const BLOCK = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PREDICT_ROUNDS = 4;
const batchShape = [16, 1, 64, 64];
const predictShape = [1, 1, 512, 512];

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

function n2vBatch(shape: number[]) {
  const size = shape.reduce((a, b) => a * b, 1);
  const mask = Float32Array.from({ length: size }, () => (Math.random() < 0.002 ? 1 : 0));
  mask[0] = 1;
  return { input: random(size), target: random(size), mask, shape };
}

const model = await createModel(nodeRuntime, { loss: 'n2v', seed: 0 });
const batch = n2vBatch(batchShape);
const image = random(predictShape.reduce((a, b) => a * b, 1));

let torch: TorchWorker | undefined;
if (hasTorch()) torch = await startTorchWorker();
else console.error('PyTorch not found (apt-get install -y python3-torch): torch fields will be null.');

async function ortSteps(n: number, m: Model = model, b = batch): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await m.trainStep(b);
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function ortPredicts(n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await model.predict(image, predictShape);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const torchTrain = (steps: number) =>
  torch!.request<{ ms: number[] }>({ cmd: 'train', architecture: DEFAULT_UNET, shape: batchShape, steps });
const torchPredict = (runs: number) =>
  torch!.request<{ ms: number[] }>({ cmd: 'predict', architecture: DEFAULT_UNET, shape: predictShape, runs });

// Warm-up: session creation, first-run allocations, torch's lazy init.
await ortSteps(3);
await ortPredicts(2);
if (torch) {
  await torchTrain(3);
  await torchPredict(2);
}

const ortStep: number[] = [];
const torchStep: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  await settle();
  ortStep.push(...(await ortSteps(BLOCK)));
  if (torch) {
    await settle();
    torchStep.push(...(await torchTrain(BLOCK)).ms);
  }
}
const ortPredict: number[] = [];
const torchPredictMs: number[] = [];
for (let r = 0; r < PREDICT_ROUNDS; r++) {
  await settle();
  ortPredict.push(...(await ortPredicts(3)));
  if (torch) {
    await settle();
    torchPredictMs.push(...(await torchPredict(3)).ms);
  }
}

// The 3D step: CAREamics' 3D UNet (Z in the axes) on a 16×64×64 patch.
const shape3d = [8, 1, 16, 64, 64];
const architecture3d = { ...DEFAULT_UNET, conv_dims: 3 as const };
const ort3d: number[] = [];
const torch3d: number[] = [];
if (flags['3d']) {
  const model3d = await createModel(nodeRuntime, { architecture: architecture3d, loss: 'n2v', seed: 0 });
  const batch3d = n2vBatch(shape3d);
  await ortSteps(2, model3d, batch3d);
  if (torch) await torch.request({ cmd: 'train', architecture: architecture3d, shape: shape3d, steps: 2 });
  for (let r = 0; r < ROUNDS; r++) {
    await settle();
    ort3d.push(...(await ortSteps(BLOCK, model3d, batch3d)));
    if (torch) {
      await settle();
      torch3d.push(
        ...(
          await torch.request<{ ms: number[] }>({
            cmd: 'train',
            architecture: architecture3d,
            shape: shape3d,
            steps: BLOCK,
          })
        ).ms,
      );
    }
  }
  await model3d.dispose();
}
torch?.close();
await model.dispose();

const summary = {
  ortStepMs: round(median(ortStep)),
  torchStepMs: torch ? round(median(torchStep)) : null,
  stepRatio: torch ? round(median(ortStep) / median(torchStep), 3) : null,
  ortPredict512Ms: round(median(ortPredict)),
  torchPredict512Ms: torch ? round(median(torchPredictMs)) : null,
  predictRatio: torch ? round(median(ortPredict) / median(torchPredictMs), 3) : null,
  ...(flags['3d']
    ? {
        ort3dStepMs: round(median(ort3d)),
        torch3dStepMs: torch ? round(median(torch3d)) : null,
        step3dRatio: torch ? round(median(ort3d) / median(torch3d), 3) : null,
      }
    : {}),
};
console.table([
  {
    what: 'train step 16×1×64×64',
    samples: ortStep.length,
    ort: summary.ortStepMs,
    torch: summary.torchStepMs,
    ratio: summary.stepRatio,
  },
  {
    what: 'predict 1×1×512×512',
    samples: ortPredict.length,
    ort: summary.ortPredict512Ms,
    torch: summary.torchPredict512Ms,
    ratio: summary.predictRatio,
  },
  ...(flags['3d']
    ? [
        {
          what: '3D train step 8×1×16×64×64',
          samples: ort3d.length,
          ort: summary.ort3dStepMs,
          torch: summary.torch3dStepMs,
          ratio: summary.step3dRatio,
        },
      ]
    : []),
]);
console.log(JSON.stringify(summary));
