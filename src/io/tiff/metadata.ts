/**
 * The axes a TIFF's ImageDescription implies, and the descriptions we write so ImageJ/Fiji and OME readers
 * (tifffile, Bio-Formats) see the right axes. Regex parsing on purpose: the core must run without a DOM.
 */
import type { DType } from '../types.js';

/** Leading (non-YX) dimensions in the order pages are stored, slowest first, e.g. ImageJ: T, Z, C. */
export interface PageLayout {
  axes: string;
  sizes: number[];
}

/** ImageJ stores pages channel-fastest: for each frame, for each slice, each channel. */
function parseImageJ(description: string): PageLayout | undefined {
  if (!description.startsWith('ImageJ=')) return undefined;
  const value = (key: string) => Number(new RegExp(`^${key}=(\\d+)\\s*$`, 'm').exec(description)?.[1] ?? 1);
  const dims: [string, number][] = [
    ['T', value('frames')],
    ['Z', value('slices')],
    ['C', value('channels')],
  ];
  const kept = dims.filter(([, size]) => size > 1);
  const images = value('images');
  if (kept.length === 0 && images > 1) return { axes: 'Z', sizes: [images] };
  return { axes: kept.map(([axis]) => axis).join(''), sizes: kept.map(([, size]) => size) };
}

/** OME-XML: `DimensionOrder` (fastest first after XY) per Image; several same-sized Images become axis S. */
function parseOme(description: string): PageLayout | undefined {
  if (!/<OME[\s>]/.test(description)) return undefined;
  const pixels = [...description.matchAll(/<Pixels\s([^>]*)>/g)].map((m) => m[1]!);
  if (pixels.length === 0) return undefined;
  const attribute = (attrs: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1];
  const first = pixels[0]!;
  const order = attribute(first, 'DimensionOrder') ?? 'XYZCT';
  const slowestFirst = [...order.slice(2)].reverse();
  const size = (axis: string) => Number(attribute(first, `Size${axis}`) ?? 1);
  const kept = slowestFirst.filter((axis) => size(axis) > 1);
  const axes = kept.join('');
  const sizes = kept.map(size);
  if (pixels.length > 1) return { axes: `S${axes}`, sizes: [pixels.length, ...sizes] };
  return { axes, sizes };
}

/** tifffile's "shaped" description: `{"shape": [3, 512, 512]}` — sizes without axis names. */
function parseShaped(description: string): number[] | undefined {
  const match = /^\{\s*"shape":\s*\[([\d,\s]*)\]/.exec(description);
  return match?.[1] === undefined ? undefined : match[1].split(',').map(Number);
}

/** Known page axes from the description, when it names them; `undefined` when it does not. */
export function pageLayoutFromDescription(description: string | undefined): PageLayout | undefined {
  if (description === undefined) return undefined;
  return parseImageJ(description) ?? parseOme(description);
}

/** Page sizes from a tifffile "shaped" description (names unknown), when it agrees with the page count. */
export function shapedPageSizes(description: string | undefined, pages: number): number[] | undefined {
  const shape = description === undefined ? undefined : parseShaped(description);
  if (shape === undefined || shape.length < 2) return undefined;
  const leading = shape.slice(0, -2).filter((n) => n > 1);
  return leading.reduce((a, b) => a * b, 1) === pages ? leading : undefined;
}

/** ImageJ hyperstack description; pages must be stored T, Z, C (channel fastest). */
export function imageJDescription(sizes: { T: number; Z: number; C: number }): string {
  const images = sizes.T * sizes.Z * sizes.C;
  const lines = ['ImageJ=1.11a', `images=${images}`];
  if (sizes.C > 1) lines.push(`channels=${sizes.C}`);
  if (sizes.Z > 1) lines.push(`slices=${sizes.Z}`);
  if (sizes.T > 1) lines.push(`frames=${sizes.T}`);
  if ([sizes.T, sizes.Z, sizes.C].filter((n) => n > 1).length > 1) lines.push('hyperstack=true');
  lines.push(sizes.C > 1 ? 'mode=grayscale' : 'mode=color', 'loop=false', '');
  return lines.join('\n');
}

const OME_TYPE: Record<DType, string> = {
  uint8: 'uint8',
  int8: 'int8',
  uint16: 'uint16',
  int16: 'int16',
  uint32: 'uint32',
  int32: 'int32',
  float32: 'float',
  float64: 'double',
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[^\x20-\x7e]/g, '_');
}

/**
 * OME-XML for pages stored S, T, C, Z (Z fastest, i.e. DimensionOrder XYZCT); each sample is one OME Image
 * whose planes start at IFD `s * planesPerImage`.
 */
export function omeDescription(name: string, dtype: DType, sizes: Record<string, number>): string {
  const size = (axis: string) => sizes[axis] ?? 1;
  const planes = size('T') * size('C') * size('Z');
  const images = Array.from({ length: size('S') }, (_, s) => {
    const channels = Array.from(
      { length: size('C') },
      (_, c) => `<Channel ID="Channel:${s}:${c}" SamplesPerPixel="1"><LightPath/></Channel>`,
    ).join('');
    return (
      `<Image ID="Image:${s}" Name="${escapeXml(name)}${size('S') > 1 ? `_${s}` : ''}">` +
      `<Pixels ID="Pixels:${s}" DimensionOrder="XYZCT" Type="${OME_TYPE[dtype]}" BigEndian="false" ` +
      `Interleaved="false" SizeX="${size('X')}" SizeY="${size('Y')}" SizeZ="${size('Z')}" ` +
      `SizeC="${size('C')}" SizeT="${size('T')}">${channels}` +
      `<TiffData IFD="${s * planes}" PlaneCount="${planes}"/></Pixels></Image>`
    );
  }).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" ' +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 ' +
    'http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="careamics-js">' +
    `${images}</OME>`
  );
}
