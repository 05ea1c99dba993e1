/**
 * Reading the tensor descriptions of a 0.5 model: axes (batch, channel, z/y/x space), valid spatial sizes,
 * halo and processing steps, mapped onto careamics-js' (B, C, [Z,] Y, X) layout.
 */
import { BmzError } from './errors.js';
import type { ProcessingStep } from './processing.js';

/** A spatial axis: valid sizes are `min + n·step` (step 0: exactly `min`); `halo` to crop from each side. */
export interface SpatialAxis {
  id: string;
  min: number;
  step: number;
  halo: number;
}

export interface TensorSpec {
  id: string;
  /** Axis ids in the model's order, e.g. `['batch', 'channel', 'y', 'x']`. */
  axes: string[];
  hasBatch: boolean;
  /** True when the batch axis is fixed to 1 (or absent): samples run one at a time. */
  singleSample: boolean;
  hasChannel: boolean;
  channelNames: string[];
  spatial: SpatialAxis[];
  processing: ProcessingStep[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (where: string, message: string) =>
  new BmzError('InvalidRdf', `${where}: ${message}`, { file: 'rdf.yaml' });
const unsupported = (where: string, message: string) =>
  new BmzError('UnsupportedAxes', `${where}: ${message}`, { file: 'rdf.yaml' });

const DEFAULT_IDS: Record<string, string> = { batch: 'batch', channel: 'channel', space: 'x' };

function spatialSize(
  size: unknown,
  where: string,
  inputs: Map<string, SpatialAxis>,
): { min: number; step: number } {
  if (typeof size === 'number' && Number.isInteger(size) && size > 0) return { min: size, step: 0 };
  if (isRecord(size) && typeof size.min === 'number' && typeof size.step === 'number')
    return { min: size.min, step: size.step };
  if (isRecord(size) && typeof size.axis_id === 'string') {
    const ref = inputs.get(`${size.tensor_id}.${size.axis_id}`);
    if (!ref)
      throw unsupported(where, `size refers to ${size.tensor_id}.${size.axis_id}, not an input space axis`);
    const offset = typeof size.offset === 'number' ? size.offset : 0;
    if (offset !== 0)
      throw unsupported(where, `outputs whose size differs from the input's are not supported`);
    return { min: ref.min, step: ref.step };
  }
  throw invalid(where, `unreadable size ${JSON.stringify(size)}`);
}

/**
 * Parses one tensor description. `inputs` maps `tensorId.axisId` of input space axes, for output sizes that
 * refer to them. Axes must be ordered `[batch] [channel] [z] y x`.
 */
export function parseTensor(
  descr: unknown,
  where: string,
  kind: 'inputs' | 'outputs',
  inputs: Map<string, SpatialAxis>,
): TensorSpec {
  if (!isRecord(descr) || !Array.isArray(descr.axes)) throw invalid(where, 'a tensor needs a list of axes');
  const id = typeof descr.id === 'string' ? descr.id : kind === 'inputs' ? 'input' : 'output';
  const spec: TensorSpec = {
    id,
    axes: [],
    hasBatch: false,
    singleSample: true,
    hasChannel: false,
    channelNames: [],
    spatial: [],
    processing: [],
  };
  descr.axes.forEach((axis, i) => {
    const at = `${where}.axes[${i}]`;
    if (!isRecord(axis) || typeof axis.type !== 'string') throw invalid(at, 'an axis needs a type');
    const axisId = typeof axis.id === 'string' ? axis.id : (DEFAULT_IDS[axis.type] ?? axis.type);
    spec.axes.push(axisId);
    if (axis.type === 'batch') {
      if (i !== 0) throw unsupported(at, 'the batch axis must come first');
      spec.hasBatch = true;
      spec.singleSample = axis.size === 1;
    } else if (axis.type === 'channel') {
      if (spec.spatial.length > 0) throw unsupported(at, 'the channel axis must come before the space axes');
      if (!Array.isArray(axis.channel_names) || axis.channel_names.length === 0)
        throw invalid(at, 'a channel axis needs channel_names');
      spec.hasChannel = true;
      spec.channelNames = axis.channel_names.map(String);
    } else if (axis.type === 'space') {
      const halo = typeof axis.halo === 'number' ? axis.halo : 0;
      spec.spatial.push({ id: axisId, ...spatialSize(axis.size, at, inputs), halo });
    } else {
      throw unsupported(
        at,
        `${axis.type} axes are not supported (careamics-js runs batch, channel and space)`,
      );
    }
  });
  const ids = spec.spatial.map((s) => s.id).join(',');
  if (ids !== 'y,x' && ids !== 'z,y,x')
    throw unsupported(where, `space axes must be y, x or z, y, x; got ${ids}`);
  if (!spec.hasChannel) spec.channelNames = ['channel'];
  const steps = kind === 'inputs' ? descr.preprocessing : descr.postprocessing;
  if (steps !== undefined && !Array.isArray(steps)) throw invalid(where, 'processing must be a list');
  spec.processing = ((steps ?? []) as unknown[]).map((s, i) => {
    if (!isRecord(s) || typeof s.id !== 'string')
      throw invalid(`${where} processing[${i}]`, 'a step needs an id');
    return { id: s.id, kwargs: isRecord(s.kwargs) ? s.kwargs : {} };
  });
  return spec;
}

/** Our (B, C, spatial…) shape of an array stored with the tensor's axes. */
export function canonicalShape(spec: TensorSpec, shape: readonly number[], where: string): number[] {
  if (shape.length !== spec.axes.length)
    throw new BmzError('InvalidRdf', `${where}: shape [${shape}] does not match axes [${spec.axes}]`);
  const out = [...shape];
  if (!spec.hasBatch) out.unshift(1);
  if (!spec.hasChannel) out.splice(1, 0, 1);
  return out;
}

/** The model's shape for our (B, C, spatial…) shape: absent batch or channel axes dropped. */
export function modelShape(spec: TensorSpec, canonical: readonly number[]): number[] {
  return canonical.filter((_, i) => (i === 0 ? spec.hasBatch : i === 1 ? spec.hasChannel : true));
}

/** Axis ids of our (B, C, spatial…) layout, for processing kwargs. */
export function canonicalAxisIds(spec: TensorSpec): string[] {
  const batch = spec.hasBatch ? spec.axes[0] : 'batch';
  const channel = spec.hasChannel ? spec.axes[spec.hasBatch ? 1 : 0] : 'channel';
  return [batch, channel, ...spec.spatial.map((s) => s.id)];
}
