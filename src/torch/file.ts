/**
 * PyTorch files (`torch.save` since 1.6): a zip of `<archive>/data.pkl`, the pickled object, whose tensors point
 * by persistent id to raw storages `<archive>/data/<key>`; `byteorder` says little or big endian. Reading is
 * browser-safe (bytes in) and executes nothing: see `globals.ts` for what the pickle may name.
 */
import { strFromU8, unzipSync, zipSync } from 'fflate';
import { TorchFileError } from './errors.js';
import { allowlist, type StorageType } from './globals.js';
import { unpickle } from './pickle.js';
import type { TorchStorage, TorchTensor } from './tensor.js';
import { pickleStateDict, type StateDictTensor } from './writer.js';

function unzip(bytes: Uint8Array, name: string): Record<string, Uint8Array> {
  if (bytes[0] === 0x80) {
    throw new TorchFileError(
      `${name}: the legacy (before PyTorch 1.6) torch.save format is not supported; re-save it with a recent PyTorch`,
    );
  }
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b)
    throw new TorchFileError(`${name}: not a PyTorch file (no zip header)`);
  try {
    return unzipSync(bytes);
  } catch (cause) {
    throw new TorchFileError(`${name}: not a complete zip (${(cause as Error).message}; truncated file?)`, {
      cause,
    });
  }
}

/**
 * The object a PyTorch file holds, as plain values: dicts as objects, tuples and lists as arrays, tensors as
 * `TorchTensor`s. A pickle global off the allowlist is refused (`TorchFileError` with `global` set).
 */
export function readTorchFile(bytes: Uint8Array, name = 'PyTorch file'): unknown {
  const entries = unzip(bytes, name);
  const pickle = Object.keys(entries).find((path) => /^[^/]+\/data\.pkl$/.test(path));
  if (!pickle) throw new TorchFileError(`${name}: a zip without <archive>/data.pkl (not a PyTorch file)`);
  const archive = pickle.slice(0, -'data.pkl'.length);
  const byteorder = entries[`${archive}byteorder`];
  if (byteorder && strFromU8(byteorder).trim() !== 'little') {
    throw new TorchFileError(`${name}: big-endian tensors are not supported`);
  }
  return unpickle(entries[pickle]!, {
    source: name,
    resolveGlobal: allowlist(name),
    persistentLoad(pid): TorchStorage {
      const [kind, type, key] = Array.isArray(pid) ? pid : [];
      const storage = (type as StorageType | undefined)?.storage;
      if (kind !== 'storage' || !storage)
        throw new TorchFileError(`${name}: a persistent id that is not a storage`);
      const data = entries[`${archive}data/${String(key)}`];
      if (!data) throw new TorchFileError(`${name}: storage ${String(key)} is missing from the archive`);
      return { dtype: storage.dtype, bytes: data };
    },
  });
}

/** A state dict (an `OrderedDict` of tensors) as a PyTorch file that `torch.load(weights_only=True)` reads. */
export function writeTorchStateDict(
  tensors: Record<string, StateDictTensor>,
  archive = 'archive',
): Uint8Array {
  const files: Record<string, Uint8Array> = {
    [`${archive}/data.pkl`]: pickleStateDict(tensors),
    [`${archive}/byteorder`]: new TextEncoder().encode('little'),
  };
  Object.values(tensors).forEach((t, key) => {
    files[`${archive}/data/${key}`] = new Uint8Array(
      t.data.buffer,
      t.data.byteOffset,
      t.data.byteLength,
    ).slice();
  });
  files[`${archive}/version`] = new TextEncoder().encode('3\n');
  return zipSync(files, { level: 0 });
}

export type { StateDictTensor, TorchTensor };
