import {
  type Device,
  type DType,
  type EpochRecord,
  encodeTiff,
  type NDArray,
  openImageData,
  type StepProgress,
  validateAxes,
} from 'careamics-js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { BmzForm } from './components/BmzForm.js';
import { LossChart } from './components/LossChart.js';
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

type Phase = 'idle' | 'training' | 'stopping' | 'loading' | 'predicting' | 'exporting';

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
      case 'model':
        if (message.format === 'zip') {
          setPhase('idle');
          setStatus('The BioImage Model Zoo package passed its own test.');
        }
        download(
          message.bytes as Uint8Array<ArrayBuffer>,
          `${outputStem(image?.name ?? 'model', settings.algorithm)}.${message.format}`,
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

  const open = async (file: File) => {
    setError(undefined);
    setStatus(undefined);
    setPrediction(undefined);
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
    setPhase('training');
    if (settings.device !== workerDevice.current) startWorker(settings.device);
    send({ type: 'train', file: image.file, name: image.name, axes: image.axes, settings });
  };

  const loadModel = (file: File) => {
    setError(undefined);
    setStatus(undefined);
    setModel(undefined);
    setPrediction(undefined);
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

  const downloadTiff = () => {
    if (!image || !prediction) return;
    const bytes = encodeTiff(prediction, { axes: prediction.axes, name: image.name });
    download(
      bytes as Uint8Array<ArrayBuffer>,
      `${outputStem(image.name, settings.algorithm)}.tif`,
      'image/tiff',
    );
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
              <button type="button" data-testid="download-tiff" onClick={downloadTiff}>
                Download denoised TIFF (float32)
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
          {image ? (
            <Viewer image={image} prediction={prediction} />
          ) : (
            <div class="placeholder">No image yet.</div>
          )}
        </section>
      </div>
    </main>
  );
}
