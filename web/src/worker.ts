/// <reference lib="webworker" />
/**
 * Training and prediction off the main thread: the page sends files and settings, the worker owns the model and
 * reports steps, epochs and tiles. Stopping aborts the trainer; the last saved epoch is kept. A model can also be
 * loaded (a checkpoint, or a BioImage Model Zoo zip) to denoise without training.
 */
import * as ort from 'onnxruntime-web';
import { type BmzPredictor, createBmzPredictor, importBmz } from '../../src/bmz/index.js';
import {
  type AxesArray,
  CAREamist,
  type ImageSource,
  MemoryStore,
  openImageData,
  type PredictionSettings,
  predict,
  toPredictionNormalization,
} from '../../src/index.js';
import { type Backend, chooseBackend } from './backend.js';
import { exportBmz } from './bmz.js';
import { configFor } from './config.js';
import type { FromWorker, ToWorker } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

const LAST = 'checkpoints/last.safetensors';

let backend: Backend | undefined;
/** A trained or loaded CAREamist: predicts, and exports ONNX, checkpoints and BMZ packages. */
let careamist: CAREamist | undefined;
/** The CAREamist's checkpoint (weights, configuration, statistics): `careamics predict` loads it. */
let checkpoint: Uint8Array | undefined;
/** A loaded BMZ package's model: predicts only. */
let bmz: BmzPredictor | undefined;
/** The image the CAREamist was trained on (the test image of its BMZ package). */
let trainedOn: ImageSource | undefined;
let controller: AbortController | undefined;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** ORT's wasm settings are fixed once its first session exists: the backend is chosen once per worker. */
async function runtimeFor(useWebGPU: boolean) {
  backend ??= await chooseBackend(ort, useWebGPU, (note) => {
    backend!.note = note;
    post({ type: 'backend', note });
  });
  post({ type: 'backend', note: backend.note });
  return backend.runtime;
}

async function forgetModel(): Promise<void> {
  await careamist?.engineModel?.dispose();
  await bmz?.dispose();
  careamist = undefined;
  checkpoint = undefined;
  bmz = undefined;
  trainedOn = undefined;
}

function normalizationOf(trained: CAREamist) {
  const { mean, std } = toPredictionNormalization(trained.statistics!);
  return { mean, std };
}

async function train(message: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  const runtime = await runtimeFor(message.settings.useWebGPU);
  await forgetModel();
  const source = await openImageData(message.file, { name: message.name, axes: message.axes });
  const config = configFor(message.settings, message.name, source.axes, source.shape);
  const store = new MemoryStore();
  const trainee = new CAREamist(config, {
    runtime,
    store,
    callbacks: {
      onStep: (progress) => post({ type: 'step', progress }),
      onEpochEnd: (record) => post({ type: 'epoch', record }),
    },
  });
  controller = new AbortController();
  try {
    await trainee.train({ trainSource: [source] }, { signal: controller.signal });
    careamist = trainee;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    // Stopped: keep the weights of the last finished epoch, which the trainer saved with its statistics.
    await trainee.engineModel?.dispose();
    const last = await store.read(LAST);
    careamist = last && (await CAREamist.fromCheckpoint(last, { runtime }));
  } finally {
    controller = undefined;
  }
  checkpoint = careamist && (await store.read(LAST));
  trainedOn = careamist && source;
  post({
    type: 'trained',
    stopped: careamist !== trainee,
    normalization: careamist && normalizationOf(careamist),
  });
}

async function load(message: Extract<ToWorker, { type: 'load-model' }>): Promise<void> {
  const runtime = await runtimeFor(message.useWebGPU);
  await forgetModel();
  const bytes = new Uint8Array(await message.file.arrayBuffer());
  if (message.name.toLowerCase().endsWith('.zip')) {
    bmz = await createBmzPredictor(await importBmz(bytes, message.name), runtime);
    post({ type: 'loaded', name: message.name, kind: 'bmz' });
    return;
  }
  careamist = await CAREamist.fromCheckpoint(bytes, { runtime }, message.name);
  if (!careamist.statistics)
    throw new Error(`${message.name}: the checkpoint has no normalization statistics`);
  checkpoint = bytes;
  post({
    type: 'loaded',
    name: message.name,
    kind: 'checkpoint',
    axes: careamist.config.data_config.axes,
    normalization: normalizationOf(careamist),
  });
}

function prediction(source: ImageSource, settings: PredictionSettings): Promise<AxesArray> {
  if (careamist) return careamist.predict(source, settings);
  if (bmz) {
    const model = bmz;
    return predict(source, (batch, shape) => model.predict(batch, shape), {
      ...settings,
      model: model.tiling,
    });
  }
  throw new Error('train or load a model first');
}

async function denoise(message: Extract<ToWorker, { type: 'predict' }>): Promise<void> {
  const source = await openImageData(message.file, { name: message.name, axes: message.axes });
  const result = await prediction(source, {
    onProgress: (done, total) => post({ type: 'predict-progress', done, total }),
  });
  const data = result.data instanceof Float32Array ? result.data : Float32Array.from(result.data);
  post({ type: 'predicted', data, shape: result.shape, axes: result.axes }, [data.buffer]);
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'train':
      return train(message);
    case 'stop':
      controller?.abort(new Error('stopped by the user'));
      return;
    case 'load-model':
      return load(message);
    case 'predict':
      return denoise(message);
    case 'export-onnx': {
      if (!careamist) throw new Error('train or load a checkpoint first');
      const bytes = careamist.exportOnnx().slice();
      post({ type: 'model', format: 'onnx', bytes }, [bytes.buffer]);
      return;
    }
    case 'export-checkpoint': {
      if (!checkpoint) throw new Error('train or load a checkpoint first');
      post({ type: 'model', format: 'safetensors', bytes: checkpoint.slice() });
      return;
    }
    case 'export-bmz': {
      if (!careamist || !trainedOn || !backend) throw new Error('train a model first');
      const bytes = await exportBmz(careamist, trainedOn, backend.runtime, message.details);
      post({ type: 'model', format: 'zip', bytes }, [bytes.buffer]);
      return;
    }
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  handle(event.data).catch((err: unknown) => {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  });
};
