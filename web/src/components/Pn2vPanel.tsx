import type { NoiseModel } from 'careamics-js';
import { NoiseModelPlot } from './NoiseModelPlot.js';
import { ProgressBar } from './ProgressBar.js';

export interface FitProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

/**
 * "Improve with PN2V" once an N2V model exists: its buttons, the noise-model fit's progress, the fitted model's
 * plot, and the PN2V result's downloads.
 */
export function Pn2vPanel(props: {
  busy: boolean;
  improving: boolean;
  canImprove: boolean;
  fitProgress?: FitProgress;
  noiseModel?: { model: NoiseModel; pairs: number };
  hasResult: boolean;
  onImprove: () => void;
  onStop: () => void;
  onDownloadTiff: () => void;
  onDownloadOnnx: () => void;
  onDownloadCheckpoint: () => void;
}) {
  const { fitProgress, noiseModel } = props;
  return (
    <>
      <div class="buttons">
        <button
          type="button"
          data-testid="improve-pn2v"
          disabled={props.busy || !props.canImprove}
          title="Fit a noise model to the N2V prediction and this image, train Probabilistic Noise2Void with the settings above, predict the posterior mean"
          onClick={props.onImprove}
        >
          Improve with PN2V
        </button>
        <button type="button" data-testid="stop-pn2v" disabled={!props.improving} onClick={props.onStop}>
          Stop PN2V
        </button>
      </div>
      {fitProgress && !noiseModel && (
        <ProgressBar testId="fit-progress" value={fitProgress.epoch} max={fitProgress.epochs}>
          noise model step {fitProgress.epoch}/{fitProgress.epochs} · −log p {fitProgress.loss.toPrecision(4)}
        </ProgressBar>
      )}
      {noiseModel && <NoiseModelPlot model={noiseModel.model} pairs={noiseModel.pairs} />}
      {props.hasResult && (
        <div class="buttons">
          <button type="button" data-testid="download-pn2v-tiff" onClick={props.onDownloadTiff}>
            Download PN2V TIFF (float32)
          </button>
          <button
            type="button"
            data-testid="download-pn2v-onnx"
            disabled={props.busy}
            onClick={props.onDownloadOnnx}
          >
            PN2V model (ONNX)
          </button>
          <button
            type="button"
            data-testid="download-pn2v-checkpoint"
            disabled={props.busy}
            onClick={props.onDownloadCheckpoint}
          >
            PN2V checkpoint
          </button>
        </div>
      )}
    </>
  );
}
