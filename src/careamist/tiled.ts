/**
 * What every loaded model offers, whatever its file: tiled prediction of whole images (any size, TTA, streaming
 * into a writer) around a network that takes (B, C, [Z,] Y, X) tiles. `CAREamist` (trainable, from a
 * configuration or checkpoint) and `FrozenModel` (a BioImage Model Zoo package or a bare ONNX file) are the two.
 */
import type { DeviceInfo } from '../engine/index.js';
import { CareamicsError } from '../errors.js';
import type { ImageSource, ImageWriter } from '../io/types.js';
import type { Pn2vOutput } from '../models/index.js';
import {
  type AxesArray,
  type ModelFacts,
  type Normalization,
  type PredictFn,
  type PredictOptions,
  predict,
  predictToWriter,
  type Standardization,
  toImageSource,
} from '../prediction/index.js';

export class CAREamistError extends CareamicsError<'CAREamistError'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CAREamistError', message, options);
  }
}

/** A model file's kind: a careamics-js checkpoint (or work dir), a BMZ package, or a bare ONNX graph. */
export type ModelKind = 'checkpoint' | 'bmz' | 'onnx';

export type PredictionSettings = Omit<PredictOptions, 'model' | 'normalization' | 'standardization'> & {
  /** pn2v models only: the posterior mean (`mmse`, default) or the network's prior mean (`prior`). */
  pn2vOutput?: Pn2vOutput;
};

export abstract class TiledModel {
  abstract readonly kind: ModelKind;
  /** The axes the model was trained on: the default for images. Unknown for a bare ONNX file. */
  abstract readonly axes: string | undefined;
  /** What tiling needs to know about the network. */
  abstract readonly facts: ModelFacts;
  /** What the network runs on (device and adapter), where known. */
  abstract readonly device: DeviceInfo | undefined;
  /** Applied around the network by tiling; absent where the model normalizes itself (BMZ processing). */
  abstract readonly normalization: Normalization | undefined;
  /**
   * The network on normalized tiles; throws where the model cannot predict yet (untrained), or cannot give the
   * pn2v output asked for.
   */
  protected abstract network(pn2vOutput?: Pn2vOutput): PredictFn;
  /** Releases the ONNX Runtime sessions. */
  abstract dispose(): Promise<void>;

  /**
   * Statistics the model computes from the whole image before tiling (a BMZ package's per-sample
   * `zero_mean_unit_variance`); none by default.
   */
  protected async standardizationFor(
    _source: ImageSource,
    _signal?: AbortSignal,
  ): Promise<Standardization | undefined> {
    return undefined;
  }

  /** Tiled prediction of a whole image (any size; tiles chosen from a memory budget unless given). */
  async predict(input: ImageSource | AxesArray, settings: PredictionSettings = {}): Promise<AxesArray> {
    const source = toImageSource(input);
    return predict(source, this.network(settings.pn2vOutput), await this.predictionOptions(source, settings));
  }

  /** Streams the prediction region by region into `writer` (TIFF, OME-Zarr, …): bounded memory. */
  async predictToWriter(
    source: ImageSource,
    writer: ImageWriter,
    settings: PredictionSettings = {},
  ): Promise<void> {
    const options = await this.predictionOptions(source, settings).catch(async (err) => {
      await writer.abort().catch(() => undefined);
      throw err;
    });
    return predictToWriter(source, writer, this.network(settings.pn2vOutput), options);
  }

  private async predictionOptions(
    source: ImageSource,
    { pn2vOutput: _, ...settings }: PredictionSettings,
  ): Promise<PredictOptions> {
    const standardization = await this.standardizationFor(source, settings.signal);
    return standardization
      ? { ...settings, model: this.facts, standardization }
      : { ...settings, model: this.facts, normalization: this.normalization };
  }
}
