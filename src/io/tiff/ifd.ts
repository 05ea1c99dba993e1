import { IoError } from '../errors.js';

/** Bytes of an encoded file: fully in memory, or a `Blob`/`File` read lazily by range (browser File, Node openAsBlob). */
export type ByteInput = Uint8Array | Blob;

export function byteLength(input: ByteInput): number {
  return input instanceof Uint8Array ? input.byteLength : input.size;
}

/** `length` bytes at `offset`; throws `TruncatedFile` when the file ends first. */
export async function readBytes(
  input: ByteInput,
  offset: number,
  length: number,
  file: string,
): Promise<Uint8Array> {
  if (offset + length > byteLength(input)) {
    throw new IoError(
      'TruncatedFile',
      file,
      `needs bytes ${offset}..${offset + length} but the file has ${byteLength(input)}`,
    );
  }
  if (input instanceof Uint8Array) return input.subarray(offset, offset + length);
  return new Uint8Array(await input.slice(offset, offset + length).arrayBuffer());
}

export interface TiffStructure {
  littleEndian: boolean;
  bigTiff: boolean;
  /** Byte offset of every top-level IFD (one per page), in file order. */
  ifdOffsets: number[];
}

/** No microscopy stack has a million pages; a longer chain means a corrupt or hostile file. */
const MAX_PAGES = 1_000_000;

export function isTiff(bytes: Uint8Array): boolean {
  const [a, b, c, d] = bytes;
  const little = a === 0x49 && b === 0x49 && (c === 42 || c === 43) && d === 0;
  const big = a === 0x4d && b === 0x4d && c === 0 && (d === 42 || d === 43);
  return little || big;
}

/**
 * Walks the IFD chain to count pages, refusing loops and out-of-file offsets. geotiff's own page count
 * follows the chain blindly and would spin forever on a cyclic one.
 */
export async function readTiffStructure(input: ByteInput, file: string): Promise<TiffStructure> {
  const size = byteLength(input);
  if (size === 0) throw new IoError('EmptyFile', file, 'the file is empty (0 bytes)');
  const head = await readBytes(input, 0, Math.min(size, 16), file);
  if (!isTiff(head)) throw new IoError('BadMagic', file, 'not a TIFF file (expected "II*\\0" or "MM\\0*")');
  if (head.length < 8) throw new IoError('TruncatedFile', file, 'the TIFF header is cut short');
  const littleEndian = head[0] === 0x49;
  const header = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const bigTiff = header.getUint16(2, littleEndian) === 43;
  if (bigTiff && head.length < 16)
    throw new IoError('TruncatedFile', file, 'the BigTIFF header is cut short');
  const offsetSize = bigTiff ? 8 : 4;
  const countSize = bigTiff ? 8 : 2;
  const entrySize = bigTiff ? 20 : 12;
  const readOffset = (view: DataView, at: number) =>
    bigTiff ? Number(view.getBigUint64(at, littleEndian)) : view.getUint32(at, littleEndian);
  const ifdOffsets: number[] = [];
  const seen = new Set<number>();
  let next = readOffset(header, bigTiff ? 8 : 4);
  while (next !== 0) {
    if (seen.has(next))
      throw new IoError('MalformedHeader', file, `the IFD chain loops back to offset ${next}`);
    if (ifdOffsets.length >= MAX_PAGES)
      throw new IoError('AbsurdDimensions', file, `more than ${MAX_PAGES} pages`);
    seen.add(next);
    ifdOffsets.push(next);
    const countBytes = await readBytes(input, next, countSize, file);
    const countView = new DataView(countBytes.buffer, countBytes.byteOffset, countSize);
    const entries = bigTiff
      ? Number(countView.getBigUint64(0, littleEndian))
      : countView.getUint16(0, littleEndian);
    const nextBytes = await readBytes(input, next + countSize + entries * entrySize, offsetSize, file);
    next = readOffset(new DataView(nextBytes.buffer, nextBytes.byteOffset, offsetSize), 0);
  }
  if (ifdOffsets.length === 0) throw new IoError('MalformedHeader', file, 'the TIFF has no image directory');
  return { littleEndian, bigTiff, ifdOffsets };
}
