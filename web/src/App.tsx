import {
  type DType,
  type EpochRecord,
  encodeTiff,
  type NDArray,
  type NoiseModel,
  openImageData,
  type StepProgress,
  validateAxes,
} from 'careamics-js';
import { useState } from 'preact/hooks';
import { BmzForm } from './components/BmzForm.js';
import { CompareToggle, type Shown } from './components/CompareToggle.js';
import { FilePickers } from './components/FilePickers.js';
import { ImageInfo } from './components/ImageInfo.js';
import { LossChart } from './components/LossChart.js';
import { ModelDownloads } from './components/ModelDownloads.js';
import { type FitProgress, Pn2vPanel } from './components/Pn2vPanel.js';
import { ProgressBar } from './components/ProgressBar.js';
import { Settings } from './components/Settings.js';
import { type ShownImage, Viewer } from './components/Viewer.js';
import { DEFAULT_SETTINGS } from './config.js';
import { download, outputStem } from './download.js';
import { memoryProblem, valueRange } from './image.js';
import type { FromWorker, TrainSettings } from './protocol.js';
import { useTrainingWorker } from './useTrainingWorker.js';

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

export function App() {
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
  const [fitProgress, setFitProgress] = useState<FitProgress>();
  const [pn2vPrediction, setPn2vPrediction] = useState<Prediction>();
  const [shown, setShown] = useState<Shown>('n2v');
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<string>();

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
  const { send, switchDevice } = useTrainingWorker(DEFAULT_SETTINGS.device, onWorkerMessage, (message) => {
    setPhase('idle');
    setError(message);
  });

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
    switchDevice(settings.device);
    send({ type: 'train', file: image.file, name: image.name, axes: image.axes, settings });
  };

  const loadModel = (file: File) => {
    setError(undefined);
    setStatus(undefined);
    setModel(undefined);
    setPrediction(undefined);
    forgetPn2v();
    setPhase('loading');
    switchDevice(settings.device);
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
    switchDevice(settings.device);
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
          <FilePickers disabled={busy} onImage={(file) => void open(file)} onModel={loadModel} />
          {image && (
            <ImageInfo
              name={image.name}
              shape={image.shape}
              dtype={image.dtype}
              range={image.range}
              axesText={axesText}
              axesInvalid={!!axesError}
              disabled={busy}
              onAxes={editAxes}
            />
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
            <ProgressBar testId="train-progress" value={doneSteps} max={totalSteps}>
              epoch {step.epoch + 1}/{settings.epochs} · step {step.stepInEpoch}/{step.stepsPerEpoch} · loss{' '}
              {step.loss.toPrecision(3)}
            </ProgressBar>
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
            <ModelDownloads
              normalization={model.normalization}
              disabled={busy}
              onOnnx={() => send({ type: 'export-onnx' })}
              onCheckpoint={() => send({ type: 'export-checkpoint' })}
            />
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
            <ProgressBar testId="predict-progress" value={tiles.done} max={tiles.total}>
              tile {tiles.done}/{tiles.total}
            </ProgressBar>
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
            <Pn2vPanel
              busy={busy}
              improving={phase === 'improving'}
              canImprove={!axesError}
              fitProgress={fitProgress}
              noiseModel={noiseModel}
              hasResult={!!pn2vPrediction}
              onImprove={improve}
              onStop={stopPn2v}
              onDownloadTiff={() => pn2vPrediction && downloadTiff(pn2vPrediction, 'pn2v')}
              onDownloadOnnx={() => send({ type: 'export-onnx', pn2v: true })}
              onDownloadCheckpoint={() => send({ type: 'export-checkpoint', pn2v: true })}
            />
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
          {pn2vPrediction && <CompareToggle shown={shown} hasN2v={!!prediction} onChange={setShown} />}
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
