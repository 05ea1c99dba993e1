import { ArraySource, ArrayWriter } from '../io/memory.js';
import type { ImageSource, NDArray } from '../io/types.js';
import { outputLayout } from './layout.js';
import { predictToWriter } from './stream.js';
import type { AxesArray, PredictFn, PredictOptions } from './types.js';

/** Prediction keeps an array's own axis order, whatever it is (`YTX`, `XY`). */
const ANY_AXIS_ORDER = { adjacentYX: false };

function isImageSource(input: ImageSource | AxesArray): input is ImageSource {
  return typeof (input as ImageSource).read === 'function';
}

/** An array as an `ImageSource` in its own axis order (a source is returned as it is). */
export function toImageSource(input: ImageSource | AxesArray): ImageSource {
  return isImageSource(input) ? input : new ArraySource(input, { axes: input.axes, rules: ANY_AXIS_ORDER });
}

/**
 * Tiled prediction of a whole image, as CAREamics' `CAREamist.predict`: tiles (automatic size when none is
 * given), batches, optional TTA, normalization before the model and denormalization after, crop-and-paste
 * stitching. Returns the prediction in the input's axes (C holds the output channels), as float32 or cast
 * back to the input dtype. Any image size works: short or odd axes are padded by reflection and cropped back.
 *
 * @example
 * const denoised = await predict({ data, shape: [512, 512], axes: 'YX' }, runModel, {
 *   model: { depth: 2, inChannels: 1, outChannels: 1, is3D: false },
 *   tileSize: [256, 256],
 *   normalization: { mean: [112.3], std: [31.9] },
 * });
 */
export async function predict(
  input: ImageSource | AxesArray,
  predictFn: PredictFn,
  options: PredictOptions,
): Promise<AxesArray> {
  const source = toImageSource(input);
  const { axes, shape } = outputLayout(source.axes, source.shape, options.model.outChannels);
  const dtype = options.outputDtype === 'input' ? source.dtype : 'float32';
  let result: NDArray | undefined;
  const writer = new ArrayWriter({ axes, shape, dtype, rules: ANY_AXIS_ORDER }, async (array) => {
    result = array;
  });
  await predictToWriter(source, writer, predictFn, options);
  return { ...result!, axes };
}
