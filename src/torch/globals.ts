/**
 * The allowlist: every Python global a PyTorch file may name, and what it builds here. A state dict needs
 * `OrderedDict`, `_rebuild_tensor_v2` and the storage types; Lightning checkpoints add plain containers, numpy
 * scalars, `AttributeDict` (read as a dict) and paths (read as strings). Any other global is refused.
 */
import { TorchFileError } from './errors.js';
import type { Global } from './pickle.js';
import { rebuildTensor, STORAGE_TYPES, type TorchDtype } from './tensor.js';

/** A `torch.<Name>Storage` class: only ever the type field of a persistent id, never called. */
export interface StorageType extends Global {
  readonly storage: { dtype: TorchDtype; size: number };
}

/** A numpy dtype (`numpy.dtype('f8', False, True)`), the first argument of a numpy scalar. */
interface NumpyDtype {
  readonly numpyDtype: string;
}

const NUMPY_SCALARS: Record<string, (view: DataView) => number | bigint | boolean> = {
  f8: (v) => v.getFloat64(0, true),
  f4: (v) => v.getFloat32(0, true),
  i8: (v) => v.getBigInt64(0, true),
  u8: (v) => v.getBigUint64(0, true),
  i4: (v) => v.getInt32(0, true),
  u4: (v) => v.getUint32(0, true),
  i2: (v) => v.getInt16(0, true),
  u2: (v) => v.getUint16(0, true),
  i1: (v) => v.getInt8(0),
  u1: (v) => v.getUint8(0),
  b1: (v) => v.getUint8(0) !== 0,
};

function numpyScalar([dtype, bytes]: unknown[], source: string): unknown {
  const code = (dtype as NumpyDtype | undefined)?.numpyDtype;
  const read = code === undefined ? undefined : NUMPY_SCALARS[code];
  if (!read || !(bytes instanceof Uint8Array)) {
    throw new TorchFileError(`${source}: a numpy scalar of dtype ${String(code)} is not supported`);
  }
  const value = read(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return typeof value === 'bigint' &&
    value <= BigInt(Number.MAX_SAFE_INTEGER) &&
    value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/** Protocol 2 writes `bytes` as `_codecs.encode(text, 'latin1')`: decoded here, nothing else accepted. */
function latin1Bytes([text, encoding]: unknown[], source: string): Uint8Array {
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw new TorchFileError(`${source}: _codecs.encode is allowed only for latin1 bytes`);
  }
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const emptyDict = () => ({});
const ATTRIBUTE_DICTS = [
  'lightning.fabric.utilities.data.AttributeDict',
  'lightning_fabric.utilities.data.AttributeDict',
  'pytorch_lightning.utilities.parsing.AttributeDict',
  'lightning.pytorch.utilities.parsing.AttributeDict',
];
const PATHS = [
  'pathlib.PosixPath',
  'pathlib.PurePosixPath',
  'pathlib.Path',
  'pathlib.WindowsPath',
  'pathlib.PureWindowsPath',
];

/** `PosixPath('/', 'tmp', 'run')` → `/tmp/run`: parts joined as pathlib joins them. */
const joinPath = (parts: string[], separator: string) =>
  parts.reduce(
    (path, part) => (path === '' || path.endsWith(separator) ? path + part : path + separator + part),
    '',
  );

function allowed(source: string): Record<string, (args: unknown[]) => unknown> {
  const asArray = ([items]: unknown[]) => (Array.isArray(items) ? [...items] : []);
  return {
    'collections.OrderedDict': emptyDict,
    'torch._utils._rebuild_tensor_v2': (args) => rebuildTensor(args, source),
    'torch._utils._rebuild_parameter': ([data]) => data,
    'numpy.core.multiarray.scalar': (args) => numpyScalar(args, source),
    'numpy._core.multiarray.scalar': (args) => numpyScalar(args, source),
    'numpy.dtype': ([code]): NumpyDtype => ({ numpyDtype: String(code) }),
    '_codecs.encode': (args) => latin1Bytes(args, source),
    'builtins.set': asArray,
    'builtins.frozenset': asArray,
    '__builtin__.set': asArray,
    '__builtin__.frozenset': asArray,
    ...Object.fromEntries(ATTRIBUTE_DICTS.map((name) => [name, emptyDict])),
    ...Object.fromEntries(
      PATHS.map((name) => [
        name,
        (parts: unknown[]) => joinPath(parts.map(String), name.includes('Windows') ? '\\' : '/'),
      ]),
    ),
  };
}

/** The allowed global `module.name`, or `undefined` (refused). */
export function allowlist(source: string): (module: string, name: string) => Global | undefined {
  const table = allowed(source);
  return (module, name) => {
    const qualified = `${module}.${name}`;
    const storage = module === 'torch' ? STORAGE_TYPES[name] : undefined;
    if (storage) {
      const type: StorageType = {
        name: qualified,
        storage,
        call: () => {
          throw new TorchFileError(`${source}: the pickle calls ${qualified}`);
        },
      };
      return type;
    }
    const call = Object.hasOwn(table, qualified) ? table[qualified] : undefined;
    return call && { name: qualified, call };
  };
}
