import {
  type Device,
  type DType,
  type EpochRecord,
  encodeTiff,
  type NDArray,
  type NoiseModel,
  openImageData,
  type StepProgress,
  validateAxes,
} from 'careamics-js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { BmzForm } from './components/BmzForm.js';
import { LossChart } from './components/LossChart.js';
import { NoiseModelPlot } from './components/NoiseModelPlot.js';
import { Settings } from './components/Settings.js';
import { type ShownImage, Viewer } from './components/Viewer.js';
import { DEFAULT_SETTINGS } from './config.js';
import { download, outputStem } from './download.js';
import { memoryProblem, valueRange } from './image.js';
import type { FromWorker, ToWorker, TrainSettings } from './protocol.js';

interface LoadedImage extends ShownImage {
  name: string;
  file: Blob;
  data: NDArray['data'];
  shape: number[];
  dtype: DType;
  range: [number, number];
}

type Phase = 'idle' | 'training' | 'stopping' | 'loading' | 'predicting' | 'exporting' | 'improving';

const PN2V_STAGES = {
  bootstrapping: 'PN2V: fitting a noise model to the N2V prediction…',
  training: 'PN2V: training with the noise model…',
  predicting: 'PN2V: predicting the posterior mean…',
};

/** The model the worker holds: trained here, or loaded from a checkpoint or a BMZ package. */
interface ModelInfo {
  name: string;
  origin: 'trained' | 'checkpoint' | 'bmz';
  /** Mean and std that inputs of the ONNX export are normalized with (checkpoints and trained models). */
  normalization?: { mean: number[]; std: number[] };
}

interface Prediction extends ShownImage {
  data: Float32Array;
  shape: number[];
}

const ACCEPT = '.tif,.tiff,.png,.npy';
const MODEL_ACCEPT = '.safetensors,.zip';

export function App() {
  const worker = useRef<Worker | undefined>(undefined);
  const [image, setImage] = useState<LoadedImage>();
  const [axesText, setAxesText] = useState('');
  const [axesError, setAxesError] = useState<string>();
  const [settings, setSettings] = useState<TrainSettings>(DEFAULT_SETTINGS);
  const [phase, setPhase] = useState<Phase>('idle');
  const [model, setModel] = useState<ModelInfo>();
  const [backendNote, setBackendNote] = useState<string>();
  const [step, setStep] = useState<StepProgress>();
  const [history, setHistory] = useState<EpochRecord[]>([]);
  const [tiles, setTiles] = useState<{ done: number; total: number }>();
  const [prediction, setPrediction] = useState<Prediction>();
  const [noiseModel, setNoiseModel] = useState<{ model: NoiseModel; pairs: number }>();
  const [fitProgress, setFitProgress] = useState<{ epoch: number; epochs: number; loss: number }>();
  const [pn2vPrediction, setPn2vPrediction] = useState<Prediction>();
  const [shown, setShown] = useState<'n2v' | 'pn2v'>('n2v');
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<string>();
  const [dragging, setDragging] = useState(false);

  const onWorkerMessage = (message: FromWorker) => {
    switch (message.type) {
      case 'backend':
        setBackendNote(message.note);
        return;
      case 'step':
        setStep(message.progress);
        return;
      case 'epoch':
        setHistory((h) => [...h, message.record]);
        return;
      case 'trained':
        setPhase('idle');
        setModel(
          message.normalization && {
            name: image?.name ?? 'model',
            origin: 'trained',
            normalization: message.normalization,
          },
        );
        setStatus(
          message.stopped
            ? message.normalization
              ? 'Stopped: keeping the model of the last finished epoch.'
              : 'Stopped before the first epoch ended: no model to use.'
            : 'Training finished.',
        );
        return;
      case 'loaded':
        setPhase('idle');
        setModel({ name: message.name, origin: message.kind, normalization: message.normalization });
        setStatus(
          `Loaded ${message.name}${message.axes ? ` (trained on axes ${message.axes})` : ''}. Open an image and denoise it.`,
        );
        return;
      case 'predict-progress':
        setTiles({ done: message.done, total: message.total });
        return;
      case 'predicted':
        setPhase('idle');
        setPrediction({ data: message.data, shape: message.shape, axes: message.axes });
        setStatus('Prediction finished.');
        return;
      case 'pn2v-stage':
        setStatus(PN2V_STAGES[message.stage]);
        if (message.stage === 'training') {
          setHistory([]);
          setStep(undefined);
        }
        return;
      case 'fit-progress':
        setFitProgress(message);
        return;
      case 'noise-model':
        setNoiseModel({ model: message.model, pairs: message.pairs });
        if (message.warnings.length > 0) setError(message.warnings.join('; '));
        return;
      case 'pn2v-predicted':
        setPhase('idle');
        setPn2vPrediction({ data: message.data, shape: message.shape, axes: message.axes });
        setShown('pn2v');
        setStatus('PN2V finished: the posterior mean (MMSE) is shown; switch to compare with N2V.');
        return;
      case 'pn2v-stopped':
        setPhase('idle');
        setStatus('PN2V stopped; the N2V model is kept.');
        return;
      case 'model':
        if (message.format === 'zip') {
          setPhase('idle');
          setStatus('The BioImage Model Zoo package passed its own test.');
        }
        download(
          message.bytes as Uint8Array<ArrayBuffer>,
          `${outputStem(image?.name ?? 'model', message.pn2v ? 'pn2v' : settings.algorithm)}.${message.format}`,
          'application/octet-stream',
        );
        return;
      case 'error':
        setPhase('idle');
        setError(message.message);
        return;
    }
  };
  const handler = useRef(onWorkerMessage);
  handler.current = onWorkerMessage;

  /** A fresh worker: ORT's backend is chosen once per worker, so a changed device needs a new one. */
  const startWorker = (device: Device) => {
    worker.current?.terminate();
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<FromWorker>) => handler.current(e.data);
    w.onerror = (e) => {
      setPhase('idle');
      setError(`the training worker failed: ${e.message}`);
    };
    worker.current = w;
    workerDevice.current = device;
  };
  const workerDevice = useRef(DEFAULT_SETTINGS.device);

  useEffect(() => {
    startWorker(DEFAULT_SETTINGS.device);
    return () => worker.current?.terminate();
  }, []);

  const send = (message: ToWorker) => worker.current!.postMessage(message);

  const forgetPn2v = () => {
    setNoiseModel(undefined);
    setFitProgress(undefined);
    setPn2vPrediction(undefined);
    setShown('n2v');
  };

  const open = async (file: File) => {
    setError(undefined);
    setStatus(undefined);
    setPrediction(undefined);
    forgetPn2v();
    setTiles(undefined);
    try {
      const source = await openImageData(file, { name: file.name });
      const problem = memoryProblem(source.shape, file.name);
      if (problem) throw new Error(problem);
      const { data, shape } = await source.read();
      setImage({
        name: file.name,
        file,
        data,
        shape,
        dtype: source.dtype,
        axes: source.axes,
        range: valueRange(data),
      });
      setAxesText(source.axes);
      setAxesError(undefined);
    } catch (err) {
      setImage(undefined);
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const editAxes = (text: string) => {
    setAxesText(text);
    if (!image) return;
    try {
      const axes = validateAxes(text, image.shape, image.name);
      setAxesError(undefined);
      if (axes !== image.axes) {
        setImage({ ...image, axes });
        setPrediction(undefined);
        forgetPn2v();
      }
    } catch (err) {
      setAxesError(err instanceof Error ? err.message : String(err));
    }
  };

  const train = () => {
    if (!image) return;
    setError(undefined);
    setStatus(undefined);
    setHistory([]);
    setStep(undefined);
    setPrediction(undefined);
    setTiles(undefined);
    setModel(undefined);
    forgetPn2v();
    setPhase('training');
    if (settings.device !== workerDevice.current) startWorker(settings.device);
    send({ type: 'train', file: image.file, name: image.name, axes: image.axes, settings });
  };

  const loadModel = (file: File) => {
    setError(undefined);
    setStatus(undefined);
    setModel(undefined);
    setPrediction(undefined);
    forgetPn2v();
    setPhase('loading');
    if (settings.device !== workerDevice.current) startWorker(settings.device);
    send({ type: 'load-model', file, name: file.name, device: settings.device });
  };

  const stop = () => {
    setPhase('stopping');
    send({ type: 'stop' });
  };

  const predict = () => {
    setError(undefined);
    setTiles(undefined);
    setPhase('predicting');
    if (!image) return;
    send({ type: 'predict', file: image.file, name: image.name, axes: image.axes });
  };

  const improve = () => {
    if (!image) return;
    setError(undefined);
    forgetPn2v();
    setTiles(undefined);
    setPhase('improving');
    if (settings.device !== workerDevice.current) startWorker(settings.device);
    send({ type: 'improve-pn2v', file: image.file, name: image.name, axes: image.axes, settings });
  };

  const stopPn2v = () => {
    setPhase('stopping');
    send({ type: 'stop' });
  };

  const downloadTiff = (result: Prediction, algorithm: string) => {
    if (!image) return;
    const bytes = encodeTiff(result, { axes: result.axes, name: image.name });
    download(bytes as Uint8Array<ArrayBuffer>, `${outputStem(image.name, algorithm)}.tif`, 'image/tiff');
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer?.files[0];
    if (file) void open(file);
  };

  const busy = phase !== 'idle';
  const totalSteps = step ? settings.epochs * step.stepsPerEpoch : 0;
  const doneSteps = step ? step.epoch * step.stepsPerEpoch + step.stepInEpoch : 0;

  return (
    <main>
      <header>
        <h1>CAREamics in the browser</h1>
        <p>
          Denoise microscopy images with Noise2Void. Everything runs on this computer: nothing is uploaded.
        </p>
      </header>
      <div class="columns">
        <section class="controls">
          <label
            class={`drop${dragging ? ' dragging' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <strong>Drop an image here</strong> or click to choose (TIFF, PNG, NPY)
            <input
              type="file"
              accept={ACCEPT}
              data-testid="file"
              disabled={busy}
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) void open(file);
              }}
            />
          </label>
          <label class="load-model">
            …or load a trained model (checkpoint .safetensors, BMZ .zip) to denoise without training
            <input
              type="file"
              accept={MODEL_ACCEPT}
              data-testid="model-file"
              disabled={busy}
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) loadModel(file);
              }}
            />
          </label>
          {image && (
            <dl class="info" data-testid="info">
              <dt>File</dt>
              <dd>{image.name}</dd>
              <dt>Shape</dt>
              <dd data-testid="shape">{image.shape.join(' × ')}</dd>
              <dt>Type</dt>
              <dd>{image.dtype}</dd>
              <dt>Range</dt>
              <dd>
                {image.range[0].toPrecision(4)} … {image.range[1].toPrecision(4)}
              </dd>
              <dt>Axes</dt>
              <dd>
                <input
                  class={axesError ? 'invalid' : ''}
                  value={axesText}
                  data-testid="axes"
                  disabled={busy}
                  onInput={(e) => editAxes(e.currentTarget.value)}
                  title="Letters from STCZYX, one per dimension, e.g. ZYX or SYX"
                />
              </dd>
            </dl>
          )}
          {axesError && <p class="error">{axesError}</p>}
          {image && (
            <>
              <Settings
                settings={settings}
                is3D={image.axes.includes('Z')}
                disabled={busy}
                onChange={setSettings}
              />
              <div class="buttons">
                <button type="button" data-testid="train" disabled={busy || !!axesError} onClick={train}>
                  Train
                </button>
                <button type="button" data-testid="stop" disabled={phase !== 'training'} onClick={stop}>
                  Stop
                </button>
              </div>
            </>
          )}
          {backendNote && (
            <p class="note" data-testid="backend">
              {backendNote}
            </p>
          )}
          {step && (
            <div class="progress" data-testid="train-progress">
              <progress value={doneSteps} max={totalSteps} />
              <span>
                epoch {step.epoch + 1}/{settings.epochs} · step {step.stepInEpoch}/{step.stepsPerEpoch} · loss{' '}
                {step.loss.toPrecision(3)}
              </span>
            </div>
          )}
          {(phase === 'training' || history.length > 0) && (
            <LossChart history={history} epochs={settings.epochs} />
          )}
          {model && image && (
            <div class="buttons">
              <button type="button" data-testid="predict" disabled={busy || !!axesError} onClick={predict}>
                Denoise image
              </button>
            </div>
          )}
          {model && model.origin !== 'bmz' && (
            <div class="buttons">
              <button
                type="button"
                data-testid="download-onnx"
                disabled={busy}
                title="The prediction network; inputs are normalized with the training mean and std"
                onClick={() => send({ type: 'export-onnx' })}
              >
                Download model (ONNX)
              </button>
              <button
                type="button"
                data-testid="download-checkpoint"
                disabled={busy}
                title="Weights, configuration and statistics: npx careamics predict <file> <image> loads it, and so does this page"
                onClick={() => send({ type: 'export-checkpoint' })}
              >
                Download checkpoint
              </button>
            </div>
          )}
          {model?.normalization && (
            <p class="note" data-testid="normalization">
              The ONNX model expects (x − mean) / std with mean{' '}
              {model.normalization.mean.map((m) => m.toPrecision(5)).join(', ')} and std{' '}
              {model.normalization.std.map((m) => m.toPrecision(5)).join(', ')}; the checkpoint carries them.
            </p>
          )}
          {model?.origin === 'trained' && (
            <BmzForm
              fileName={model.name}
              algorithm={settings.algorithm}
              disabled={busy}
              onExport={(details) => {
                setError(undefined);
                setPhase('exporting');
                send({ type: 'export-bmz', details });
              }}
            />
          )}
          {tiles && (
            <div class="progress" data-testid="predict-progress">
              <progress value={tiles.done} max={tiles.total} />
              <span>
                tile {tiles.done}/{tiles.total}
              </span>
            </div>
          )}
          {prediction && (
            <div class="buttons">
              <button
                type="button"
                data-testid="download-tiff"
                onClick={() => downloadTiff(prediction, settings.algorithm)}
              >
                Download denoised TIFF (float32)
              </button>
            </div>
          )}
          {model && image && (
            <div class="buttons">
              <button
                type="button"
                data-testid="improve-pn2v"
                disabled={busy || !!axesError}
                title="Fit a noise model to the N2V prediction and this image, train Probabilistic Noise2Void with the settings above, predict the posterior mean"
                onClick={improve}
              >
                Improve with PN2V
              </button>
              <button
                type="button"
                data-testid="stop-pn2v"
                disabled={phase !== 'improving'}
                onClick={stopPn2v}
              >
                Stop PN2V
              </button>
            </div>
          )}
          {fitProgress && !noiseModel && (
            <div class="progress" data-testid="fit-progress">
              <progress value={fitProgress.epoch} max={fitProgress.epochs} />
              <span>
                noise model step {fitProgress.epoch}/{fitProgress.epochs} · −log p{' '}
                {fitProgress.loss.toPrecision(4)}
              </span>
            </div>
          )}
          {noiseModel && <NoiseModelPlot model={noiseModel.model} pairs={noiseModel.pairs} />}
          {pn2vPrediction && (
            <div class="buttons">
              <button
                type="button"
                data-testid="download-pn2v-tiff"
                onClick={() => downloadTiff(pn2vPrediction, 'pn2v')}
              >
                Download PN2V TIFF (float32)
              </button>
              <button
                type="button"
                data-testid="download-pn2v-onnx"
                disabled={busy}
                onClick={() => send({ type: 'export-onnx', pn2v: true })}
              >
                PN2V model (ONNX)
              </button>
              <button
                type="button"
                data-testid="download-pn2v-checkpoint"
                disabled={busy}
                onClick={() => send({ type: 'export-checkpoint', pn2v: true })}
              >
                PN2V checkpoint
              </button>
            </div>
          )}
          {status && (
            <p class="status" data-testid="status">
              {status}
            </p>
          )}
          {error && (
            <p class="error" role="alert" data-testid="error">
              {error}
            </p>
          )}
        </section>
        <section class="display">
          {pn2vPrediction && (
            <fieldset class="compare" data-testid="compare">
              <legend>Result shown</legend>
              {(['n2v', 'pn2v'] as const).map((which) => (
                <label key={which}>
                  <input
                    type="radio"
                    name="shown"
                    value={which}
                    data-testid={`show-${which}`}
                    checked={shown === which}
                    disabled={which === 'n2v' && !prediction}
                    onChange={() => setShown(which)}
                  />
                  {which === 'n2v' ? 'N2V' : 'PN2V (posterior mean)'}
                </label>
              ))}
            </fieldset>
          )}
          {image ? (
            <Viewer image={image} prediction={shown === 'pn2v' ? pn2vPrediction : prediction} />
          ) : (
            <div class="placeholder">No image yet.</div>
          )}
        </section>
      </div>
    </main>
  );
}
