import { castFloat32 } from '../io/dtype.js';
import { checkRegion, product, stridesOf } from '../io/ndarray.js';
import type { ImageSource, ImageWriter, NDArray, Region } from '../io/types.js';
import { PredictionError } from './errors.js';
import { applyPerChannel, checkNormalization, checkStandardization, standardize } from './intensity.js';
import { copyStrided, type ImageLayout, outputLayout, rangeOffsets, resolveLayout } from './layout.js';
import { chooseTileSize, resolveMemoryBudget, resolveOverlap } from './memory.js';
import { restrictGrid } from './regions.js';
import { type AxisTile, countTiles, planTiles, reflectIndex, type TileGrid } from './tiling.js';
import { withTTA } from './tta.js';
import type { PredictFn, PredictOptions } from './types.js';

/** A row of tiles along X: one sample (S, T, [Z] indices) and one tile on every other spatial axis. */
interface Band {
  /** Row-major index of the band's sample (its S, T, [Z] indices). */
  sample: number;
  lead: AxisTile[];
  input: NDArray;
  /** Where the band's input starts along X (its tiles' first pixel). */
  readStartX: number;
  output: Float32Array;
  outputRegion: Region;
  remaining: number;
}

/** Everything fixed for one prediction, derived from the source, writer and options. */
interface Plan {
  layout: ImageLayout;
  grid: TileGrid;
  /** Writer axis index of each source axis letter, and of C. */
  writerAxis: (letter: string) => number;
  writerRank: number;
  inChannels: number;
  outChannels: number;
  /** Tile shape as the model sees it, without the batch axis: (C, [Z,] Y, X). */
  tileShape: number[];
  /** The part of the output predicted, per source axis: `[from, to)` (the whole axis unless `outputRegion`). */
  ranges: [number, number][];
}

/**
 * Tiled prediction from an `ImageSource` into an `ImageWriter`. Reads one row of tiles (across X) at a time,
 * runs the model in batches of tiles, and writes each stitched row as soon as its last tile is done, so memory
 * holds a few rows of tiles, never the image. Values are cast to `writer.dtype` (integers rounded and clipped).
 * On error or abort the writer is aborted and the error rethrown; on success it is closed.
 */
export async function predictToWriter(
  source: ImageSource,
  writer: ImageWriter,
  predictFn: PredictFn,
  options: PredictOptions,
): Promise<void> {
  try {
    await runPrediction(source, writer, predictFn, options);
    await writer.close();
  } catch (err) {
    // The original error is the one to report; a failing abort must not hide it.
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

async function runPrediction(
  source: ImageSource,
  writer: ImageWriter,
  predictFn: PredictFn,
  options: PredictOptions,
): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new PredictionError('InvalidOption', `batchSize must be a positive integer, got ${batchSize}`);
  }
  const plan = makePlan(source, writer, options);
  const normalization = checkNormalization(options.normalization, plan.inChannels, plan.outChannels);
  const run = options.tta ? withTTA(predictFn) : predictFn;
  const samples = product(plan.layout.iterAxes.map((axis) => plan.ranges[axis]![1] - plan.ranges[axis]![0]));
  // Per-sample statistics are indexed by the sample's position in the whole source, not in the region.
  const iterSizes = plan.layout.iterAxes.map((axis) => source.shape[axis]!);
  const standardization = checkStandardization(options, product(iterSizes), plan.inChannels);
  const total = samples * countTiles(plan.grid);
  const xTiles = plan.grid[plan.grid.length - 1]!;
  let done = 0;
  let pending: { band: Band; tile: AxisTile }[] = [];

  const flush = async () => {
    signal?.throwIfAborted();
    const batch = pending;
    pending = [];
    const input = gatherBatch(plan, batch);
    if (normalization)
      applyPerChannel(input, batch.length, plan.inChannels, normalization.input, 'normalize');
    if (standardization) {
      standardize(
        input,
        batch.map(({ band }) => band.sample),
        plan.inChannels,
        standardization,
      );
    }
    const inShape = [batch.length, ...plan.tileShape];
    const output = await run(input, inShape, signal);
    const outShape = [batch.length, plan.outChannels, ...plan.tileShape.slice(1)];
    if (output.shape.join() !== outShape.join() || output.data.length !== product(outShape)) {
      throw new PredictionError(
        'ModelOutputShape',
        `the model turned [${inShape.join(', ')}] into [${output.shape.join(', ')}], expected [${outShape.join(', ')}]`,
        { shape: output.shape, expected: outShape },
      );
    }
    if (normalization) {
      applyPerChannel(output.data, batch.length, plan.outChannels, normalization.output, 'denormalize');
    }
    for (const [slot, { band, tile }] of batch.entries()) {
      pasteTile(plan, output.data, slot, band, tile);
      band.remaining -= 1;
      if (band.remaining === 0) {
        await writer.write(band.outputRegion, castFloat32(band.output, writer.dtype), { signal });
      }
    }
    done += batch.length;
    options.onProgress?.(done, total);
  };

  for (const { sample, lead } of bandsOf(plan)) {
    signal?.throwIfAborted();
    const band = await openBand(plan, source, sample, lead, xTiles.length, signal);
    band.sample = sample.reduce((index, i, a) => index * iterSizes[a]! + i, 0);
    for (const tile of xTiles) {
      pending.push({ band, tile });
      if (pending.length === batchSize) await flush();
    }
  }
  if (pending.length > 0) await flush();
}

function makePlan(source: ImageSource, writer: ImageWriter, options: PredictOptions): Plan {
  const { model } = options;
  const layout = resolveLayout(source.axes, source.shape, model, source.name);
  const expected = outputLayout(layout.axes, source.shape, model.outChannels);
  const writerAxes = writer.axes.toUpperCase();
  const matches =
    writerAxes.length === expected.axes.length &&
    [...expected.axes].every((letter, i) => writer.shape[writerAxes.indexOf(letter)] === expected.shape[i]);
  if (!matches) {
    throw new PredictionError(
      'WriterMismatch',
      `the writer has axes "${writer.axes}" and shape [${writer.shape.join(', ')}]; the prediction needs ` +
        `"${expected.axes}" with shape [${expected.shape.join(', ')}] (any axis order)`,
      { shape: writer.shape, expected: expected.shape },
    );
  }
  const spatialShape = layout.spatialAxes.map((axis) => source.shape[axis]!);
  const batchSize = options.batchSize ?? 1;
  const tileSize =
    options.tileSize ??
    chooseTileSize({
      spatialShape,
      model,
      batchSize,
      budgetBytes: resolveMemoryBudget(options),
      tta: options.tta,
      tileOverlap: options.tileOverlap,
    });
  const overlap = resolveOverlap(tileSize, options.tileOverlap, model.receptiveFieldHalo);
  const writerAxis = (letter: string) => writerAxes.indexOf(letter);
  const ranges = sourceRanges(layout, writer, writerAxis, options.outputRegion);
  const grid = restrictGrid(
    planTiles(spatialShape, tileSize, overlap, 2 ** model.depth),
    layout.spatialAxes.map((axis) => ranges[axis]!),
  );
  return {
    layout,
    grid,
    ranges,
    writerAxis,
    writerRank: writerAxes.length,
    inChannels: model.inChannels,
    outChannels: model.outChannels,
    tileShape: [model.inChannels, ...grid.map((axis) => axis[0]!.size)],
  };
}

/** `outputRegion` (writer axes) as a range per source axis; the whole axis where absent, and always for C. */
function sourceRanges(
  layout: ImageLayout,
  writer: ImageWriter,
  writerAxis: (letter: string) => number,
  region: Region | undefined,
): [number, number][] {
  if (region !== undefined) checkRegion(region, writer.shape, 'outputRegion');
  return [...layout.axes].map((letter, axis) => {
    const w = writerAxis(letter);
    if (region === undefined || letter === 'C') return [0, layout.shape[axis]!];
    return [region.start[w]!, region.stop[w]!];
  });
}

/** Every row of tiles: samples in order, then the tiles of the leading spatial axes in order. */
function* bandsOf(plan: Plan): Generator<{ sample: number[]; lead: AxisTile[] }> {
  const iterRanges = plan.layout.iterAxes.map((axis) => plan.ranges[axis]!);
  const leadAxes = plan.grid.slice(0, -1);
  for (const offsets of indexTuples(iterRanges.map(([from, to]) => to - from))) {
    const sample = offsets.map((offset, i) => iterRanges[i]![0] + offset);
    for (const pick of indexTuples(leadAxes.map((axis) => axis.length))) {
      yield { sample, lead: pick.map((i, a) => leadAxes[a]![i]!) };
    }
  }
}

function* indexTuples(sizes: readonly number[]): Generator<number[]> {
  const index = sizes.map(() => 0);
  if (sizes.some((size) => size === 0)) return;
  while (true) {
    yield [...index];
    let axis = sizes.length - 1;
    while (axis >= 0 && index[axis] === sizes[axis]! - 1) index[axis--] = 0;
    if (axis < 0) return;
    index[axis]! += 1;
  }
}

/** Reads the input of a row of tiles (whole C and X, the tiles' extent on the other spatial axes). */
async function openBand(
  plan: Plan,
  source: ImageSource,
  sample: number[],
  lead: AxisTile[],
  tiles: number,
  signal: AbortSignal | undefined,
): Promise<Band> {
  const { layout } = plan;
  const xAxis = layout.spatialAxes[layout.spatialAxes.length - 1]!;
  const xTiles = plan.grid[plan.grid.length - 1]!;
  const readStartX = xTiles[0]!.start;
  const readStopX = Math.min(layout.shape[xAxis]!, Math.max(...xTiles.map((t) => t.start + t.size)));
  const inputRegion = bandRegion(
    layout,
    source.shape,
    sample,
    (axis) => [axis.start, axis.start + axis.size],
    lead,
  );
  inputRegion.start[xAxis] = readStartX;
  inputRegion.stop[xAxis] = readStopX;
  const input = await source.read(inputRegion, { signal });
  const expectedShape = inputRegion.stop.map((stop, i) => stop - inputRegion.start[i]!);
  if (input.shape.join() !== expectedShape.join()) {
    throw new PredictionError(
      'SourceShape',
      `${source.name}: read [${inputRegion.start}]..[${inputRegion.stop}] returned shape [${input.shape.join(', ')}]`,
      { shape: input.shape, expected: expectedShape },
    );
  }
  const outLayoutRegion = bandRegion(
    layout,
    source.shape,
    sample,
    (axis) => [axis.stitchStart, axis.stitchStart + axis.cropSize],
    lead,
  );
  [outLayoutRegion.start[xAxis], outLayoutRegion.stop[xAxis]] = plan.ranges[xAxis]!;
  const outputRegion = toWriterRegion(plan, outLayoutRegion);
  const size = product(outputRegion.stop.map((stop, i) => stop - outputRegion.start[i]!));
  return {
    sample: 0,
    lead,
    input,
    readStartX,
    output: new Float32Array(size),
    outputRegion,
    remaining: tiles,
  };
}

/**
 * The box of a row of tiles in source axes: one index on iterated axes, all of C and X, and `range(tile)`
 * (clipped to the image) on the leading spatial axes.
 */
function bandRegion(
  layout: ImageLayout,
  shape: readonly number[],
  sample: number[],
  range: (tile: AxisTile) => [number, number],
  lead: AxisTile[],
): Region {
  const start = shape.map(() => 0);
  const stop = [...shape];
  layout.iterAxes.forEach((axis, i) => {
    start[axis] = sample[i]!;
    stop[axis] = sample[i]! + 1;
  });
  lead.forEach((tile, i) => {
    const axis = layout.spatialAxes[i]!;
    const [from, to] = range(tile);
    start[axis] = from;
    stop[axis] = Math.min(to, shape[axis]!);
  });
  return { start, stop };
}

/** Maps a source-axes region of the output to writer axes (C spans the output channels). */
function toWriterRegion(plan: Plan, region: Region): Region {
  const { layout } = plan;
  const start = new Array<number>(plan.writerRank).fill(0);
  const stop = new Array<number>(plan.writerRank).fill(1);
  [...layout.axes].forEach((letter, i) => {
    const w = plan.writerAxis(letter);
    start[w] = region.start[i]!;
    stop[w] = region.stop[i]!;
  });
  const c = plan.writerAxis('C');
  if (c >= 0) {
    start[c] = 0;
    stop[c] = plan.outChannels;
  }
  return { start, stop };
}

/** Copies each tile of a batch from its band into its slot of one (B, C, [Z,] Y, X) buffer, reflect-padded. */
function gatherBatch(plan: Plan, batch: { band: Band; tile: AxisTile }[]): Float32Array {
  const tileSize = product(plan.tileShape);
  const out = new Float32Array(batch.length * tileSize);
  const outStrides = stridesOf(canonical(plan.tileShape, plan.grid.length));
  for (const [slot, { band, tile }] of batch.entries()) {
    const { layout } = plan;
    const strides = stridesOf(band.input.shape);
    const tiles = [...band.lead, tile];
    const src = [
      layout.channelAxis < 0
        ? new Int32Array(1)
        : rangeOffsets(0, plan.inChannels, strides[layout.channelAxis]!),
      ...(plan.grid.length === 2 ? [new Int32Array(1)] : []),
      ...tiles.map((t, a) => {
        const axis = layout.spatialAxes[a]!;
        const readStart = a === tiles.length - 1 ? band.readStartX : t.start;
        const size = layout.shape[axis]!;
        const offsets = new Int32Array(t.size);
        for (let j = 0; j < t.size; j++)
          offsets[j] = (reflectIndex(t.start + j, size) - readStart) * strides[axis]!;
        return offsets;
      }),
    ];
    const dst = src.map((offsets, a) => rangeOffsets(0, offsets.length, outStrides[a]!));
    dst[0] = dst[0]!.map((offset) => offset + slot * tileSize);
    copyStrided(band.input.data, src, out, dst);
  }
  return out;
}

/** (C, [Z,] Y, X) as (C, Z, Y, X), with Z = 1 for a 2D model. */
function canonical(tileShape: readonly number[], spatialRank: number): number[] {
  return spatialRank === 2 ? [tileShape[0]!, 1, ...tileShape.slice(1)] : [...tileShape];
}

/** Crops the model's output for one tile and pastes it into its band's output buffer. */
function pasteTile(plan: Plan, output: Float32Array, slot: number, band: Band, tile: AxisTile): void {
  const { layout } = plan;
  const outTile = canonical([plan.outChannels, ...plan.tileShape.slice(1)], plan.grid.length);
  const srcStrides = stridesOf(outTile);
  const bandShape = band.outputRegion.stop.map((stop, i) => stop - band.outputRegion.start[i]!);
  const bandStrides = stridesOf(bandShape);
  const channelAxis = plan.writerAxis('C');
  const tiles = [...band.lead, tile];
  const slotStart = slot * product(outTile);
  const src = [
    rangeOffsets(0, plan.outChannels, srcStrides[0]!).map((o) => o + slotStart),
    ...(plan.grid.length === 2 ? [new Int32Array(1)] : []),
    ...tiles.map((t, a) =>
      rangeOffsets(t.cropStart, t.cropSize, srcStrides[outTile.length - tiles.length + a]!),
    ),
  ];
  const dst = [
    channelAxis < 0 ? new Int32Array(1) : rangeOffsets(0, plan.outChannels, bandStrides[channelAxis]!),
    ...(plan.grid.length === 2 ? [new Int32Array(1)] : []),
    ...tiles.map((t, a) => {
      const w = plan.writerAxis(layout.axes[layout.spatialAxes[a]!]!);
      const start = a === tiles.length - 1 ? t.stitchStart - band.outputRegion.start[w]! : 0;
      return rangeOffsets(start, t.cropSize, bandStrides[w]!);
    }),
  ];
  copyStrided(output, src, band.output, dst);
}
