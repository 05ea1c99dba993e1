/**
 * Tensors of a PyTorch file: the storage dtypes `torch.save` names, and `_rebuild_tensor_v2`, which views a
 * storage through an offset, a shape and strides (copied here into a contiguous array).
 */
import { TorchFileError } from './errors.js';

export type TorchDtype =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** A tensor read from a PyTorch file: contiguous, row-major; float16 and bfloat16 widened to float32. */
export interface TorchTensor {
  readonly dtype: TorchDtype;
  readonly shape: number[];
  readonly data: TensorData;
}

/** A storage of the archive: raw little-endian bytes of one dtype (the `torch.FloatStorage` family). */
export interface TorchStorage {
  readonly dtype: TorchDtype;
  readonly bytes: Uint8Array;
}

/** `torch.<Name>Storage` → dtype and bytes per element. */
export const STORAGE_TYPES: Record<string, { dtype: TorchDtype; size: number }> = {
  FloatStorage: { dtype: 'float32', size: 4 },
  DoubleStorage: { dtype: 'float64', size: 8 },
  HalfStorage: { dtype: 'float16', size: 2 },
  BFloat16Storage: { dtype: 'bfloat16', size: 2 },
  LongStorage: { dtype: 'int64', size: 8 },
  IntStorage: { dtype: 'int32', size: 4 },
  ShortStorage: { dtype: 'int16', size: 2 },
  CharStorage: { dtype: 'int8', size: 1 },
  ByteStorage: { dtype: 'uint8', size: 1 },
  BoolStorage: { dtype: 'bool', size: 1 },
};

const ELEMENT_SIZE = Object.fromEntries(Object.values(STORAGE_TYPES).map((t) => [t.dtype, t.size])) as Record<
  TorchDtype,
  number
>;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Reads element `i` of `storage` into a JS number (bigint for int64). */
function elementReader(storage: TorchStorage): (i: number) => number | bigint {
  const { bytes, dtype } = storage;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scratch = new DataView(new ArrayBuffer(4));
  const readers: Record<TorchDtype, (i: number) => number | bigint> = {
    float32: (i) => view.getFloat32(i * 4, true),
    float64: (i) => view.getFloat64(i * 8, true),
    float16: (i) => halfToFloat(view.getUint16(i * 2, true)),
    bfloat16: (i) => {
      scratch.setUint32(0, view.getUint16(i * 2, true) << 16, true);
      return scratch.getFloat32(0, true);
    },
    int64: (i) => view.getBigInt64(i * 8, true),
    int32: (i) => view.getInt32(i * 4, true),
    int16: (i) => view.getInt16(i * 2, true),
    int8: (i) => view.getInt8(i),
    uint8: (i) => view.getUint8(i),
    bool: (i) => view.getUint8(i),
  };
  return readers[dtype];
}

function allocate(dtype: TorchDtype, n: number): TensorData {
  switch (dtype) {
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    default:
      return new Float32Array(n);
  }
}

const isIntegers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x));

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`: the view, copied contiguous. */
export function rebuildTensor(args: unknown[], source: string): TorchTensor {
  const [storage, offset, shape, stride] = args as [TorchStorage, number, number[], number[]];
  if (
    typeof storage !== 'object' ||
    storage === null ||
    !('bytes' in storage) ||
    !Number.isInteger(offset) ||
    !isIntegers(shape) ||
    !isIntegers(stride) ||
    shape.length !== stride.length
  ) {
    throw new TorchFileError(`${source}: a tensor with a malformed storage, offset, size or stride`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const available = storage.bytes.length / ELEMENT_SIZE[storage.dtype];
  const last = offset + shape.reduce((s, n, d) => s + (n > 0 ? (n - 1) * stride[d]! : 0), 0);
  if (count > 0 && (offset < 0 || last >= available)) {
    throw new TorchFileError(
      `${source}: a tensor of shape [${shape}] reaches element ${last} of a storage of ${available} (truncated file?)`,
    );
  }
  const read = elementReader(storage);
  const data = allocate(storage.dtype, count);
  const index = new Array<number>(shape.length).fill(0);
  let position = offset;
  for (let i = 0; i < count; i++) {
    (data as unknown as (number | bigint)[])[i] = read(position);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      position += stride[d]!;
      if (index[d]! < shape[d]!) break;
      position -= index[d]! * stride[d]!;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape, data };
}

export const isTorchTensor = (v: unknown): v is TorchTensor =>
  typeof v === 'object' &&
  v !== null &&
  'dtype' in v &&
  'shape' in v &&
  'data' in v &&
  ArrayBuffer.isView(v.data);

/** The tensor as float32 values (integers and float64 narrowed). */
export function toFloat32(tensor: TorchTensor): Float32Array {
  const { data } = tensor;
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array) return Float32Array.from(data, (v) => Number(v));
  return Float32Array.from(data);
}
