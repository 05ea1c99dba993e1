import { decode, encode } from 'fast-png';
import { dtypeOf } from './dtype.js';
import { assertDecodable, assertPlausibleShape, IoError } from './errors.js';
import { product, transpose } from './ndarray.js';
import type { NDArray } from './types.js';

const MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/** The decoded pixels with the axes they have: `YX` for grey, `CYX` for grey+alpha, RGB and RGBA. */
export interface DecodedImage {
  array: NDArray;
  axes: string;
}

/** PNG colour type → samples per pixel (grey, RGB, palette, grey+alpha, RGBA). */
const CHANNELS_OF_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Checks magic and IHDR size before fast-png allocates anything for the pixels. */
function checkHeader(bytes: Uint8Array, file: string): void {
  if (bytes.length === 0) throw new IoError('EmptyFile', file, 'the file is empty (0 bytes)');
  if (!isPng(bytes)) throw new IoError('BadMagic', file, 'not a PNG file (missing PNG signature)');
  if (bytes.length < 33) throw new IoError('TruncatedFile', file, 'the PNG header chunk is cut short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = [view.getUint32(16), view.getUint32(20)];
  assertPlausibleShape(shape, file);
  const channels = CHANNELS_OF_COLOR_TYPE[bytes[25]!] ?? 4;
  assertDecodable(product(shape) * channels * (bytes[24]! / 8), bytes.length, file);
}

/** Decodes an 8- or 16-bit PNG (grey, grey+alpha, RGB, RGBA; palettes expanded to RGB/RGBA). */
export function decodePngImage(bytes: Uint8Array, file = '<memory>'): DecodedImage {
  checkHeader(bytes, file);
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (cause) {
    const problem = cause instanceof Error ? cause.message : String(cause);
    const tag = /end of|out of|offset|bounds|range/i.test(problem) ? 'TruncatedFile' : 'MalformedHeader';
    throw new IoError(tag, file, `cannot decode PNG: ${problem}`, { cause });
  }
  const { width, height } = png;
  if (png.palette !== undefined) return expandPalette(png.data, png.palette, width, height);
  if (png.depth !== 8 && png.depth !== 16) {
    throw new IoError('UnsupportedDtype', file, `${png.depth}-bit PNG; only 8- and 16-bit are supported`);
  }
  const data = png.depth === 16 ? new Uint16Array(png.data) : new Uint8Array(png.data);
  if (png.channels === 1) return { array: { data, shape: [height, width] }, axes: 'YX' };
  const interleaved = { data, shape: [height, width, png.channels] };
  return { array: transpose(interleaved, [2, 0, 1]), axes: 'CYX' };
}

function expandPalette(
  indices: ArrayLike<number>,
  palette: number[][],
  width: number,
  height: number,
): DecodedImage {
  const channels = palette[0]?.length ?? 3;
  const planeSize = width * height;
  const data = new Uint8Array(channels * planeSize);
  for (let i = 0; i < planeSize; i++) {
    const color = palette[indices[i]!] ?? [];
    for (let c = 0; c < channels; c++) data[c * planeSize + i] = color[c] ?? 0;
  }
  return { array: { data, shape: [channels, height, width] }, axes: 'CYX' };
}

/** Encodes a `YX` or `CYX` (C = 1–4) uint8/uint16 array as PNG. */
export function encodePngImage(array: NDArray, axes: string, file = '<memory>'): Uint8Array {
  const dtype = dtypeOf(array.data);
  if (dtype !== 'uint8' && dtype !== 'uint16') {
    throw new IoError('UnsupportedDtype', file, `PNG stores uint8 or uint16, not ${dtype}`);
  }
  const depth = dtype === 'uint8' ? 8 : 16;
  const data = array.data as Uint8Array | Uint16Array;
  if (axes === 'YX') {
    const [height, width] = array.shape as [number, number];
    return encode({ width, height, data, depth, channels: 1 });
  }
  const channels = array.shape[0]!;
  if (axes !== 'CYX' || channels < 1 || channels > 4) {
    throw new IoError(
      'AxesMismatch',
      file,
      `PNG needs axes YX or CYX with 1–4 channels, got ${axes} [${array.shape}]`,
    );
  }
  const [, height, width] = array.shape as [number, number, number];
  const interleaved = transpose(array, [1, 2, 0]).data as Uint8Array | Uint16Array;
  return encode({ width, height, data: interleaved, depth, channels });
}
