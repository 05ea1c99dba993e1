import { bytesPerElement, dtypeOf, swapBytes, viewAs } from './dtype.js';
import { assertPlausibleShape, IoError } from './errors.js';
import { product, transpose } from './ndarray.js';
import type { DType, NDArray } from './types.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const KIND_SIZE_TO_DTYPE: Record<string, DType> = {
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  f4: 'float32',
  f8: 'float64',
};

/** The header dict numpy writes, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 512), }`. */
const HEADER_PATTERN =
  /^\{\s*'descr':\s*'([<>|=])([a-zA-Z]\d+)',\s*'fortran_order':\s*(True|False),\s*'shape':\s*\(([\d\s,]*)\),?\s*\}\s*$/;

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

interface NpyHeader {
  dtype: DType;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

function parseHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length === 0) throw new IoError('EmptyFile', file, 'the file is empty (0 bytes)');
  if (!isNpy(bytes)) throw new IoError('BadMagic', file, 'not an NPY file (missing "\\x93NUMPY" magic)');
  if (bytes.length < 10) throw new IoError('TruncatedFile', file, 'the NPY preamble is cut short');
  const major = bytes[6]!;
  if (major < 1 || major > 3)
    throw new IoError('MalformedHeader', file, `unknown NPY format version ${major}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes)
    throw new IoError('TruncatedFile', file, 'the NPY preamble is cut short');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (bytes.length < dataOffset) {
    throw new IoError(
      'TruncatedFile',
      file,
      `the NPY header needs ${dataOffset} bytes, the file has ${bytes.length}`,
    );
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(8 + lengthBytes, dataOffset),
  );
  const match = HEADER_PATTERN.exec(text);
  if (match === null)
    throw new IoError('MalformedHeader', file, `unreadable NPY header ${JSON.stringify(text)}`);
  const [, order, kindSize, fortran, shapeText] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const dtype = KIND_SIZE_TO_DTYPE[kindSize];
  if (dtype === undefined) {
    throw new IoError(
      'UnsupportedDtype',
      file,
      `NPY dtype "${order}${kindSize}" is not one of ${Object.keys(KIND_SIZE_TO_DTYPE)}`,
    );
  }
  const shapeParts = shapeText.split(',').map((s) => s.trim());
  if (shapeParts.at(-1) === '') shapeParts.pop();
  if (shapeParts.some((s) => !/^\d+$/.test(s))) {
    throw new IoError('MalformedHeader', file, `unreadable NPY shape "(${shapeText})"`);
  }
  const shape = shapeParts.map(Number);
  assertPlausibleShape(shape, file);
  return { dtype, littleEndian: order !== '>', fortranOrder: fortran === 'True', shape, dataOffset };
}

/** Decodes an `.npy` file (v1–v3, either byte order, C or Fortran order) into a C-order array. */
export function decodeNpy(bytes: Uint8Array, file = '<memory>'): NDArray {
  const { dtype, littleEndian, fortranOrder, shape, dataOffset } = parseHeader(bytes, file);
  const byteLength = product(shape) * bytesPerElement(dtype);
  const available = bytes.length - dataOffset;
  if (available < byteLength) {
    throw new IoError('TruncatedFile', file, `NPY data needs ${byteLength} bytes, the file has ${available}`);
  }
  if (available > byteLength) {
    throw new IoError(
      'MalformedHeader',
      file,
      `${available - byteLength} unexpected bytes after the NPY data`,
    );
  }
  // Copy so the result owns aligned memory and never aliases the caller's buffer.
  const raw = bytes.slice(dataOffset, dataOffset + byteLength);
  if (!littleEndian) swapBytes(raw, bytesPerElement(dtype));
  const data = viewAs(dtype, raw);
  if (!fortranOrder || shape.length < 2) return { data, shape };
  // Fortran order is C order over the reversed shape; reversing the axes back gives the C-order array.
  const reversed = [...shape].reverse();
  return transpose(
    { data, shape: reversed },
    reversed.map((_, i) => reversed.length - 1 - i),
  );
}

const DTYPE_TO_DESCR: Record<DType, string> = {
  uint8: '|u1',
  int8: '|i1',
  uint16: 'u2',
  int16: 'i2',
  uint32: 'u4',
  int32: 'i4',
  float32: 'f4',
  float64: 'f8',
};

/** Encodes an array as NPY v1.0 in C order, little-endian unless asked otherwise. */
export function encodeNpy(array: NDArray, options: { littleEndian?: boolean } = {}): Uint8Array {
  const dtype = dtypeOf(array.data);
  const littleEndian = options.littleEndian ?? true;
  const descr = DTYPE_TO_DESCR[dtype];
  const fullDescr = descr.startsWith('|') ? descr : `${littleEndian ? '<' : '>'}${descr}`;
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${fullDescr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads the header with spaces so the data starts on a 64-byte boundary.
  const unpadded = 10 + header.length + 1;
  header = `${header}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set(MAGIC, 0);
  out.set([1, 0], 6);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(
    new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength),
    10 + header.length,
  );
  if (!littleEndian) swapBytes(out.subarray(10 + header.length), bytesPerElement(dtype));
  return out;
}
