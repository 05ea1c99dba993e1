import { validateAxes } from './axes.js';
import { IoError } from './errors.js';
import { ArraySource } from './memory.js';
import { toCanonicalOrder } from './ndarray.js';
import { decodeNpy, encodeNpy, isNpy } from './npy.js';
import { decodePngImage, encodePngImage, isPng } from './png.js';
import { type ByteInput, byteLength, isTiff, readBytes } from './tiff/ifd.js';
import { openTiff } from './tiff/read.js';
import { encodeTiffParts, type TiffWriteOptions } from './tiff/write.js';
import type { ImageSource, NDArray } from './types.js';

/** Formats held in one file; OME-Zarr is a folder (a store) and has its own entry points. */
export type FileFormat = 'tiff' | 'png' | 'npy';

const EXTENSIONS: Record<string, FileFormat> = { tif: 'tiff', tiff: 'tiff', png: 'png', npy: 'npy' };

/** The format a file name's extension implies (`.ome.tif` is TIFF), if any. */
export function formatFromName(name: string): FileFormat | undefined {
  return EXTENSIONS[name.toLowerCase().split('.').at(-1) ?? ''];
}

/** The format the first bytes announce, if any. */
export function formatFromMagic(head: Uint8Array): FileFormat | undefined {
  return (Object.keys(CODECS) as FileFormat[]).find((format) => CODECS[format].isFormat(head));
}

export interface OpenOptions {
  /** Shown in errors and as the source's name. */
  name?: string;
  /** Axes of the stored array; default from the file's metadata, else guessed from the shape. */
  axes?: string;
}

/**
 * Opens encoded image bytes (or a lazily read `Blob`/`File`) as an `ImageSource`, by magic number.
 * TIFF pages are decoded on demand; PNG and NPY are decoded at once.
 */
export async function openImageData(input: ByteInput, options: OpenOptions = {}): Promise<ImageSource> {
  const name = options.name ?? '<memory>';
  if (byteLength(input) === 0) throw new IoError('EmptyFile', name, 'the file is empty (0 bytes)');
  const head = await readBytes(input, 0, Math.min(16, byteLength(input)), name);
  const format = formatFromMagic(head);
  if (format) return CODECS[format].open(input, { ...options, name });
  const expected = formatFromName(name);
  const problem = expected
    ? `the content is not a valid ${expected.toUpperCase()} file (bad magic number)`
    : 'unknown image format (not TIFF, PNG or NPY)';
  throw new IoError('BadMagic', name, problem);
}

export interface EncodeOptions extends Omit<TiffWriteOptions, 'axes'> {
  axes: string;
  format: FileFormat;
}

/** Encodes an array in `format`, as byte parts to write in sequence (TIFF pixel parts are views, not copies). */
export function encodeImage(array: NDArray, options: EncodeOptions): Uint8Array[] {
  const name = options.name ?? '<memory>';
  const axes = validateAxes(options.axes, array.shape, name);
  return CODECS[options.format].encode(array, { ...options, axes, name });
}

/** What careamics-js does with each single-file format: recognise, open, encode. A new format is a new entry. */
interface FileCodec {
  isFormat(head: Uint8Array): boolean;
  open(input: ByteInput, options: OpenOptions & { name: string }): Promise<ImageSource>;
  /** `axes` already validated against the array. */
  encode(array: NDArray, options: EncodeOptions & { name: string }): Uint8Array[];
}

const wholeBytes = async (input: ByteInput) =>
  input instanceof Uint8Array ? input : new Uint8Array(await input.arrayBuffer());

const CODECS: Record<FileFormat, FileCodec> = {
  // TIFF pages are decoded on demand; PNG and NPY at once.
  tiff: {
    isFormat: isTiff,
    open: (input, options) => openTiff(input, options),
    encode: (array, options) => encodeTiffParts(array, options),
  },
  png: {
    isFormat: isPng,
    async open(input, { name, axes }) {
      const decoded = decodePngImage(await wholeBytes(input), name);
      return new ArraySource(decoded.array, { name, axes: axes ?? decoded.axes });
    },
    encode(array, { axes, name }) {
      const canonical = toCanonicalOrder(array, axes);
      return [encodePngImage(canonical.array, canonical.axes, name)];
    },
  },
  npy: {
    isFormat: isNpy,
    async open(input, options) {
      return new ArraySource(decodeNpy(await wholeBytes(input), options.name), options);
    },
    encode: (array) => [encodeNpy(array)],
  },
};
