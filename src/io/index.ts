/**
 * careamics-js image I/O, browser-safe (no `node:*`): formats work on bytes, `Blob`s and zarrita stores.
 *
 * ```ts
 * import { openImageData, encodeImage } from './io/index.js';
 * const source = await openImageData(new Uint8Array(await file.arrayBuffer()), { name: file.name });
 * const pixels = await source.read();                 // { data, shape } in source.axes order
 * const parts = encodeImage(pixels, { axes: source.axes, format: 'tiff' }); // OME-TIFF bytes
 * ```
 */
export { canonicalPermutation, guessAxes, validateAxes } from './axes.js';
export { allocate, bytesPerElement, DTYPES, dtypeOf, isDType } from './dtype.js';
export { assertPlausibleShape, IoError, type IoErrorTag, isIoError, MAX_ELEMENTS } from './errors.js';
export {
  type EncodeOptions,
  encodeImage,
  type FileFormat,
  formatFromMagic,
  formatFromName,
  type OpenOptions,
  openImageData,
} from './formats.js';
export { ArraySource, ArrayWriter, readAll } from './memory.js';
export {
  extractRegion,
  fullRegion,
  insertRegion,
  regionShape,
  toCanonicalOrder,
  transpose,
} from './ndarray.js';
export { decodeNpy, encodeNpy } from './npy.js';
export { type DecodedImage, decodePngImage, encodePngImage } from './png.js';
export type { ByteInput } from './tiff/ifd.js';
export { openTiff, TiffSource } from './tiff/read.js';
export { encodeTiff, encodeTiffParts, type TiffWriteOptions } from './tiff/write.js';
export {
  AXIS_ORDER,
  type Axis,
  type DType,
  type ImageSource,
  type ImageWriter,
  type NDArray,
  type Region,
  type TypedArray,
} from './types.js';
export {
  createOmeZarr,
  type OmeZarrWriteOptions,
  OmeZarrWriter,
  openOmeZarr,
  openOmeZarrWriter,
  ZarrSource,
} from './zarr.js';
