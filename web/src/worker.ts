/// <reference lib="webworker" />
/**
 * Training and prediction off the main thread: the page sends files and settings, the worker owns the model and
 * reports steps, epochs and tiles. Stopping aborts the trainer; the last saved epoch is kept. A model can also be
 * loaded (a checkpoint, or a BioImage Model Zoo zip) to denoise without training. With such an N2V model, PN2V
 * bootstraps a noise model from its prediction, trains pn2v with the same settings and predicts the posterior mean.
 */
import {
  bootstrapNoiseModel,
  CAREamist,
  type Device,
  type ImageSource,
  type LoadedModel,
  loadModel,
  MemoryStore,
  openImageData,
  RUN_FILES,
  relativeMinSigma,
} from 'careamics-js';
import * as ort from 'onnxruntime-web/webgpu';
import { type Backend, chooseBackend } from './backend.js';
import { configFor } from './config.js';
import type { FromWorker, ToWorker } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

let backend: Backend | undefined;
/** A trained or loaded model: a CAREamist (predicts, exports) or a BMZ package's (predicts only). */
let model: LoadedModel | undefined;
/** The image the CAREamist was trained on (the test image of its BMZ package). */
let trainedOn: ImageSource | undefined;
let controller: AbortController | undefined;
/** The pn2v model trained on the N2V model's bootstrapped noise model. */
let pn2vModel: CAREamist | undefined;
/** Adam steps of the noise model fit (CAREamics' default). */
const NOISE_MODEL_EPOCHS = 2000;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** ORT's wasm settings are fixed once its first session exists: the backend is chosen once per worker. */
async function runtimeFor(device: Device) {
  backend ??= await chooseBackend(ort, device, (note) => {
    backend!.note = note;
    post({ type: 'backend', note });
  });
  post({ type: 'backend', note: backend.note });
  return backend.runtime;
}

async function forgetModel(): Promise<void> {
  await model?.dispose();
  await pn2vModel?.dispose();
  model = undefined;
  pn2vModel = undefined;
  trainedOn = undefined;
}

/** Mean and std that inputs of the exported ONNX model are normalized with. */
function inputNormalization(loaded: LoadedModel) {
  const n = loaded.normalization;
  return n && { mean: n.mean, std: n.std };
}

function trainedCareamist(): CAREamist {
  if (!(model instanceof CAREamist)) throw new Error('train or load a checkpoint first');
  return model;
}

async function train(message: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  const runtime = await runtimeFor(message.settings.device);
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
  let careamist: CAREamist | undefined = trainee;
  try {
    await trainee.train({ trainSource: [source] }, { signal: controller.signal });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    // Stopped: keep the weights of the last finished epoch, which the trainer saved with its statistics.
    await trainee.dispose();
    const last = await store.read(RUN_FILES.lastCheckpoint);
    careamist = last && (await CAREamist.fromCheckpoint(last, { runtime }));
  } finally {
    controller = undefined;
  }
  model = careamist;
  trainedOn = careamist && source;
  post({
    type: 'trained',
    stopped: careamist !== trainee,
    normalization: careamist && inputNormalization(careamist),
  });
}

async function load(message: Extract<ToWorker, { type: 'load-model' }>): Promise<void> {
  const runtime = await runtimeFor(message.device);
  await forgetModel();
  model = await loadModel(new Uint8Array(await message.file.arrayBuffer()), message.name, { runtime });
  post({
    type: 'loaded',
    name: message.name,
    kind: model.kind === 'bmz' ? 'bmz' : 'checkpoint',
    axes: model.axes,
    normalization: inputNormalization(model),
  });
}

async function denoise(message: Extract<ToWorker, { type: 'predict' }>): Promise<void> {
  if (!model) throw new Error('train or load a model first');
  const source = await openImageData(message.file, { name: message.name, axes: message.axes });
  const result = await model.predict(source, {
    onProgress: (done, total) => post({ type: 'predict-progress', done, total }),
  });
  const data = result.data instanceof Float32Array ? result.data : Float32Array.from(result.data);
  post({ type: 'predicted', data, shape: result.shape, axes: result.axes }, [data.buffer]);
}

/**
 * The PN2V flow: the held N2V model's prediction and the noisy image give a Gaussian mixture noise model (fitted
 * with the library's ONNX training graph on this worker's runtime), then pn2v trains with the N2V run's settings
 * and predicts the posterior mean. Stop cancels it at any stage; the N2V model stays.
 */
async function improveWithPN2V(message: Extract<ToWorker, { type: 'improve-pn2v' }>): Promise<void> {
  if (!model) throw new Error('train or load an N2V model first');
  const runtime = await runtimeFor(message.settings.device);
  await pn2vModel?.dispose();
  pn2vModel = undefined;
  const source = await openImageData(message.file, { name: message.name, axes: message.axes });
  controller = new AbortController();
  const { signal } = controller;
  let trainee: CAREamist | undefined;
  try {
    post({ type: 'pn2v-stage', stage: 'bootstrapping' });
    const image = { ...(await source.read()), axes: source.axes };
    const fit = await bootstrapNoiseModel(model, [image], {
      runtime,
      seed: message.settings.seed,
      epochs: NOISE_MODEL_EPOCHS,
      // CAREamics' floor (a variance of 125) suits 16-bit cameras; a floor above the noise stalls the fit.
      minSigma: relativeMinSigma(image.data),
      onStep: (epoch, loss) => {
        signal.throwIfAborted();
        if (epoch % 20 === 0 || epoch === NOISE_MODEL_EPOCHS - 1)
          post({ type: 'fit-progress', epoch: epoch + 1, epochs: NOISE_MODEL_EPOCHS, loss });
      },
    });
    post({ type: 'noise-model', model: fit.model, pairs: fit.pairs, warnings: fit.warnings });
    post({ type: 'pn2v-stage', stage: 'training' });
    const config = configFor(message.settings, message.name, source.axes, source.shape, fit.model);
    trainee = new CAREamist(config, {
      runtime,
      store: new MemoryStore(),
      callbacks: {
        onStep: (progress) => post({ type: 'step', progress }),
        onEpochEnd: (record) => post({ type: 'epoch', record }),
      },
    });
    await trainee.train({ trainSource: [source] }, { signal });
    post({ type: 'pn2v-stage', stage: 'predicting' });
    const result = await trainee.predict(source, {
      pn2vOutput: 'mmse',
      onProgress: (done, total) => post({ type: 'predict-progress', done, total }),
    });
    pn2vModel = trainee;
    const data = result.data instanceof Float32Array ? result.data : Float32Array.from(result.data);
    post({ type: 'pn2v-predicted', data, shape: result.shape, axes: result.axes }, [data.buffer]);
  } catch (err) {
    if (trainee !== pn2vModel) await trainee?.dispose();
    if (!signal.aborted) throw err;
    post({ type: 'pn2v-stopped' });
  } finally {
    controller = undefined;
  }
}

/** The N2V model, or with `pn2v` the PN2V one, for export. */
function exported(pn2v: boolean | undefined): CAREamist {
  if (!pn2v) return trainedCareamist();
  if (!pn2vModel) throw new Error('run PN2V first');
  return pn2vModel;
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
    case 'improve-pn2v':
      return improveWithPN2V(message);
    case 'export-onnx': {
      const bytes = exported(message.pn2v).exportOnnx().slice();
      post({ type: 'model', format: 'onnx', bytes, pn2v: message.pn2v }, [bytes.buffer]);
      return;
    }
    case 'export-checkpoint': {
      const bytes = exported(message.pn2v).checkpoint();
      post({ type: 'model', format: 'safetensors', bytes, pn2v: message.pn2v }, [bytes.buffer]);
      return;
    }
    case 'export-bmz': {
      const careamist = trainedCareamist();
      if (!trainedOn) throw new Error('train a model first');
      const bytes = await careamist.exportBmz({ ...message.details, input: trainedOn });
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
