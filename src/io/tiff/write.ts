/**
 * Our own TIFF encoder: geotiff's writer cannot write multi-page stacks, BigTIFF or ImageJ/OME descriptions.
 * Little-endian, uncompressed, one strip per page: the layout every reader (ImageJ, tifffile, Bio-Formats) accepts.
 */
import { validateAxes } from '../axes.js';
import { bytesOf, bytesPerElement, dtypeOf } from '../dtype.js';
import { IoError } from '../errors.js';
import { product, toCanonicalOrder, transpose } from '../ndarray.js';
import type { DType, NDArray } from '../types.js';
import { imageJDescription, omeDescription } from './metadata.js';

export interface TiffWriteOptions {
  /** Axes of `array`, e.g. `ZYX`; any valid order, pages are written in the order the description needs. */
  axes: string;
  /** `ome` (default): OME-XML for tifffile/Bio-Formats; `imagej`: hyperstack description for Fiji; `none`. */
  metadata?: 'ome' | 'imagej' | 'none';
  /** Forces BigTIFF; by default it is used only when the file would not fit in 4 GiB. */
  bigTiff?: boolean;
  /** Image name recorded in OME-XML and used in error messages. */
  name?: string;
}

const SAMPLE_FORMAT: Record<DType, number> = {
  uint8: 1,
  uint16: 1,
  uint32: 1,
  int8: 2,
  int16: 2,
  int32: 2,
  float32: 3,
  float64: 3,
};

const IMAGEJ_DTYPES: DType[] = ['uint8', 'uint16', 'float32'];

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const LONG8 = 16;

interface Entry {
  tag: number;
  type: number;
  values: number[] | Uint8Array;
}

/** Pages in the order the description expects, and that description. */
function arrangePages(array: NDArray, axes: string, options: TiffWriteOptions, name: string) {
  const canonical = toCanonicalOrder(array, axes);
  const dtype = dtypeOf(array.data);
  const sizes: Record<string, number> = Object.fromEntries(
    [...canonical.axes].map((axis, i) => [axis, canonical.array.shape[i]!]),
  );
  const metadata = options.metadata ?? 'ome';
  if (metadata === 'none') return { pages: canonical.array, description: undefined };
  if (metadata === 'ome') return { pages: canonical.array, description: omeDescription(name, dtype, sizes) };
  if (!IMAGEJ_DTYPES.includes(dtype)) {
    throw new IoError(
      'UnsupportedDtype',
      name,
      `ImageJ hyperstacks store uint8, uint16 or float32, not ${dtype}`,
    );
  }
  if ((sizes['S'] ?? 1) > 1 && (sizes['T'] ?? 1) > 1) {
    throw new IoError(
      'AxesMismatch',
      name,
      `ImageJ has no sample axis: cannot store both S and T (axes ${axes})`,
    );
  }
  // ImageJ knows frames, slices and channels only, stored T, Z, C (channel fastest); S becomes frames.
  const ijAxes = canonical.axes.replace('S', 'T');
  const perm = [...'TZCYX'].filter((a) => ijAxes.includes(a)).map((a) => ijAxes.indexOf(a));
  const size = (axis: string) => sizes[axis] ?? 1;
  const description = imageJDescription({ T: size('T') * size('S'), Z: size('Z'), C: size('C') });
  return { pages: transpose(canonical.array, perm), description };
}

/** Encodes one IFD with its out-of-line values, placed at `offset`. */
function encodeIfd(entries: Entry[], offset: number, nextIfd: number, bigTiff: boolean): Uint8Array {
  const typeSize = (type: number) => ({ [SHORT]: 2, [LONG]: 4, [ASCII]: 1, [LONG8]: 8 })[type]!;
  const inline = bigTiff ? 8 : 4;
  const headerSize = bigTiff ? 8 + entries.length * 20 + 8 : 2 + entries.length * 12 + 4;
  const extraSize = entries.reduce((sum, e) => {
    const size = e.values.length * typeSize(e.type);
    return size > inline ? sum + size + (size % 2) : sum;
  }, 0);
  const out = new Uint8Array(headerSize + extraSize);
  const view = new DataView(out.buffer);
  const putOffset = (at: number, value: number) =>
    bigTiff ? view.setBigUint64(at, BigInt(value), true) : view.setUint32(at, value, true);
  const putValues = (at: number, { type, values }: Entry) => {
    if (values instanceof Uint8Array) return out.set(values, at);
    values.forEach((v, i) => {
      const pos = at + i * typeSize(type);
      if (type === SHORT) view.setUint16(pos, v, true);
      else if (type === LONG) view.setUint32(pos, v, true);
      else view.setBigUint64(pos, BigInt(v), true);
    });
  };
  let pos = 0;
  if (bigTiff) view.setBigUint64(0, BigInt(entries.length), true);
  else view.setUint16(0, entries.length, true);
  pos = bigTiff ? 8 : 2;
  let extra = headerSize;
  for (const entry of entries) {
    view.setUint16(pos, entry.tag, true);
    view.setUint16(pos + 2, entry.type, true);
    putOffset(pos + 4, entry.values.length);
    const valuePos = pos + (bigTiff ? 12 : 8);
    const size = entry.values.length * typeSize(entry.type);
    if (size <= inline) putValues(valuePos, entry);
    else {
      putOffset(valuePos, offset + extra);
      putValues(extra, entry);
      extra += size + (size % 2);
    }
    pos += bigTiff ? 20 : 12;
  }
  putOffset(pos, nextIfd);
  return out;
}

/**
 * Encodes an array as a multi-page TIFF, returned as parts to write in sequence (pixel parts are views of
 * the array, so a multi-gigabyte stack is never copied into one buffer).
 */
export function encodeTiffParts(array: NDArray, options: TiffWriteOptions): Uint8Array[] {
  const name = options.name ?? '<memory>';
  const axes = validateAxes(options.axes, array.shape, name);
  const dtype = dtypeOf(array.data);
  const { pages, description } = arrangePages(array, axes, options, name);
  const [height, width] = pages.shape.slice(-2) as [number, number];
  if (height === 0 || width === 0)
    throw new IoError('AbsurdDimensions', name, 'TIFF cannot store an empty plane');
  const pageCount = product(pages.shape.slice(0, -2));
  const pageBytes = height * width * bytesPerElement(dtype);
  const descriptionBytes =
    description === undefined ? undefined : new TextEncoder().encode(`${description}\0`);
  const estimate = pageCount * (pageBytes + 256) + (descriptionBytes?.length ?? 0) + 16;
  const bigTiff = options.bigTiff ?? estimate >= 2 ** 32;
  const pixels = bytesOf(pages.data);
  const header = new Uint8Array(bigTiff ? 16 : 8);
  const headerView = new DataView(header.buffer);
  header.set([0x49, 0x49]);
  headerView.setUint16(2, bigTiff ? 43 : 42, true);
  if (bigTiff) headerView.setUint16(4, 8, true);
  const parts: Uint8Array[] = [header];
  let offset = header.length;
  const firstIfdAt = bigTiff ? 8 : 4;
  for (let page = 0; page < pageCount; page++) {
    const dataPadding = pageBytes % 2;
    const entriesFor = (dataOffset: number): Entry[] => [
      { tag: 256, type: LONG, values: [width] },
      { tag: 257, type: LONG, values: [height] },
      { tag: 258, type: SHORT, values: [bytesPerElement(dtype) * 8] },
      { tag: 259, type: SHORT, values: [1] },
      { tag: 262, type: SHORT, values: [1] },
      ...(page === 0 && descriptionBytes !== undefined
        ? [{ tag: 270, type: ASCII, values: descriptionBytes }]
        : []),
      { tag: 273, type: bigTiff ? LONG8 : LONG, values: [dataOffset] },
      { tag: 277, type: SHORT, values: [1] },
      { tag: 278, type: LONG, values: [height] },
      { tag: 279, type: bigTiff ? LONG8 : LONG, values: [pageBytes] },
      { tag: 284, type: SHORT, values: [1] },
      { tag: 339, type: SHORT, values: [SAMPLE_FORMAT[dtype]] },
    ];
    // Sizing pass: the IFD's length does not depend on the offsets written into it.
    const ifdLength = encodeIfd(entriesFor(0), 0, 0, bigTiff).length;
    const dataOffset = offset + ifdLength;
    const nextIfd = page + 1 < pageCount ? dataOffset + pageBytes + dataPadding : 0;
    if (page === 0) {
      if (bigTiff) headerView.setBigUint64(firstIfdAt, BigInt(offset), true);
      else headerView.setUint32(firstIfdAt, offset, true);
    }
    parts.push(encodeIfd(entriesFor(dataOffset), offset, nextIfd, bigTiff));
    parts.push(pixels.subarray(page * pageBytes, (page + 1) * pageBytes));
    if (dataPadding) parts.push(new Uint8Array(1));
    offset = dataOffset + pageBytes + dataPadding;
    if (!bigTiff && offset > 2 ** 32 - 1) {
      throw new IoError('AbsurdDimensions', name, 'the TIFF exceeds 4 GiB; write it with bigTiff: true');
    }
  }
  return parts;
}

/** Encodes an array as one TIFF byte array (see `encodeTiffParts` for files too large for one buffer). */
export function encodeTiff(array: NDArray, options: TiffWriteOptions): Uint8Array {
  const parts = encodeTiffParts(array, options);
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
