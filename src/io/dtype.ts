import type { DType, TypedArray } from './types.js';

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const ARRAY_OF_DTYPE: Record<DType, TypedArrayConstructor> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export const DTYPES = Object.keys(ARRAY_OF_DTYPE) as DType[];

export function isDType(name: string): name is DType {
  return Object.hasOwn(ARRAY_OF_DTYPE, name);
}

export function bytesPerElement(dtype: DType): number {
  return ARRAY_OF_DTYPE[dtype].BYTES_PER_ELEMENT;
}

export function allocate(dtype: DType, length: number): TypedArray {
  return new ARRAY_OF_DTYPE[dtype](length);
}

/** A typed array of `dtype` over `bytes`, copied when the offset is misaligned for the element size. */
export function viewAs(dtype: DType, bytes: Uint8Array): TypedArray {
  const size = bytesPerElement(dtype);
  const length = Math.floor(bytes.byteLength / size);
  if (bytes.byteOffset % size === 0) return new ARRAY_OF_DTYPE[dtype](bytes.buffer, bytes.byteOffset, length);
  return new ARRAY_OF_DTYPE[dtype](bytes.slice(0, length * size).buffer, 0, length);
}

/** The raw bytes of a typed array, in the platform's (little-endian) order, without copying. */
export function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function dtypeOf(data: TypedArray): DType {
  for (const dtype of DTYPES) if (data instanceof ARRAY_OF_DTYPE[dtype]) return dtype;
  throw new TypeError(`not a supported typed array: ${Object.prototype.toString.call(data)}`);
}

/** Reverses the byte order of each element in place (big-endian files on little-endian hosts). */
export function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let i = 0; i + elementSize <= bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

const INTEGER_RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

/** Converts float32 values to `dtype`; integers are rounded to nearest and clipped to the type's range. */
export function castFloat32(data: Float32Array, dtype: DType): TypedArray {
  if (dtype === 'float32') return data;
  const out = allocate(dtype, data.length);
  const range = INTEGER_RANGE[dtype];
  if (range === undefined) {
    out.set(data);
    return out;
  }
  const [lo, hi] = range;
  for (let i = 0; i < data.length; i++) out[i] = Math.min(hi, Math.max(lo, Math.round(data[i]!)));
  return out;
}
