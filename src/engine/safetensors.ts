/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header of
 * `{name: {dtype, shape, data_offsets}}` plus `__metadata__` strings, then the raw little-endian data.
 * Small enough to own; the npm packages for it are Node-only or unmaintained.
 */
import { CareamicsError } from '../errors.js';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export class SafetensorsError extends CareamicsError<'SafetensorsError'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SafetensorsError', message, options);
  }
}

export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // The data section starts 8-byte aligned, padded with spaces as the reference writer does.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), position);
    position += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors',
): {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8)
    throw new SafetensorsError(`${source}: file is ${bytes.length} bytes, too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) {
    throw new SafetensorsError(
      `${source}: header length ${headerLength} exceeds the file (${bytes.length} bytes)`,
    );
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (cause) {
    throw new SafetensorsError(`${source}: header is not valid JSON`, { cause });
  }
  const dataStart = 8 + headerLength;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    if (entry.dtype !== 'F32')
      throw new SafetensorsError(`${source}: tensor ${name} is ${entry.dtype}, expected F32`);
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || dataStart + end > bytes.length) {
      throw new SafetensorsError(`${source}: tensor ${name} has inconsistent offsets [${begin}, ${end}]`);
    }
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors[name] = { shape: entry.shape, data };
  }
  return { tensors, metadata };
}
