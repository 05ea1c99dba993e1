/**
 * npm run bench:predict — tiled prediction with the CAREamics N2V default UNet (2D, depth 2, 32 filters, batch
 * norm; seeded random initial weights, BN statistics at their initial values) on `--device cpu|webgpu|auto`
 * (default cpu):
 * - 2048² float32: `predict` with what a user gets by default (automatic tiles from the default 512 MiB budget,
 *   overlap twice the receptive-field halo) and with CAREamics' usual 256² tiles / 48 overlap, against one
 *   untiled `model.predict` of the whole image (medians of BENCH_ROUNDS alternating runs, after a warm-up);
 * - 8192² float32 streamed from OME-Zarr to OME-Zarr with `predictToWriter` (default budget) in a child
 *   process, whose peak RSS (VmHWM) is read from /proc. The input is written to disk chunk row by chunk row.
 * On a GPU the untiled and default-tiled runs are also timed on the CPU EP, interleaved, for `speedupOverCpu`.
 * Prints a table, then as its LAST line the JSON summary. BENCH_ROUNDS (default 3) and BENCH_STREAM_SIDE
 * (default 8192) shorten a trial run; `--quick` (128², 64² tiles overlap 16, a 128² stream, one round) is
 * sized for a software adapter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createModel, type Model } from '../src/engine/index.js';
import { createOmeZarrPath, openOmeZarrPath } from '../src/io/node/index.js';
import { DEFAULT_UNET, unetHalo } from '../src/models/index.js';
import {
  type ModelFacts,
  type PredictFn,
  type PredictOptions,
  predict,
  predictToWriter,
} from '../src/prediction/index.js';
import {
  benchRuntime,
  cpuRuntime,
  DEVICE_FLAGS,
  deviceFields,
  interleave,
  median,
  peakRssMiB,
  round,
  settle,
} from './lib.js';

const { values: flags, positionals } = parseArgs({
  options: { 'stream-child': { type: 'boolean', default: false }, ...DEVICE_FLAGS },
  allowPositionals: true,
});
const quick = flags.quick;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
const SIDE = quick ? 128 : 2048;
/** CAREamics' usual tiles (napari plugin default: 256², overlap 48), scaled down for `--quick`. */
const SMALL_TILE = quick ? 64 : 256;
const SMALL_OVERLAP = quick ? 16 : 48;
const STREAM_SIDE = Number(process.env.BENCH_STREAM_SIDE ?? (quick ? 128 : 8192));
const CHUNK = 256;

/** What `CAREamist.modelFacts` gives for the default UNet. */
const facts: ModelFacts = {
  depth: DEFAULT_UNET.depth,
  inChannels: 1,
  outChannels: 1,
  is3D: false,
  receptiveFieldHalo: unetHalo(DEFAULT_UNET),
};

/** A smooth pattern plus deterministic noise, so values look like an image and do not compress to nothing. */
function pixel(y: number, x: number): number {
  const noise = (((y * 7919 + x * 104729) ^ (x * 31 + y)) % 1000) / 1000;
  return Math.sin(y * 0.013) * Math.cos(x * 0.021) + noise;
}

function image(side: number): Float32Array {
  const data = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = pixel(y, x);
  return data;
}

/** Runs the model and records the tile shape it was given. */
function recording(model: Model): { run: PredictFn; tile: () => number[] } {
  let tile: number[] = [];
  return {
    run: (batch, shape) => {
      tile = shape.slice(2);
      return model.predict(batch, shape);
    },
    tile: () => tile,
  };
}

async function streamChild(input: string, output: string): Promise<void> {
  const model = await createModel(await benchRuntime(flags.device), { seed: 0 });
  const { run, tile } = recording(model);
  const source = await openOmeZarrPath(input);
  const writer = await createOmeZarrPath(output, {
    shape: source.shape,
    dtype: 'float32',
    axes: source.axes,
  });
  const started = performance.now();
  await predictToWriter(source, writer, run, { model: facts });
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ peakRssMiB: peakRssMiB(), seconds, tile: tile() }));
}

/** Writes a `side`² float32 OME-Zarr, one row of chunks at a time. */
async function writeInput(path: string, side: number): Promise<void> {
  const writer = await createOmeZarrPath(path, {
    shape: [side, side],
    dtype: 'float32',
    axes: 'YX',
    chunks: [CHUNK, CHUNK],
  });
  for (let y0 = 0; y0 < side; y0 += CHUNK) {
    const rows = Math.min(CHUNK, side - y0);
    const band = new Float32Array(rows * side);
    for (let y = 0; y < rows; y++) for (let x = 0; x < side; x++) band[y * side + x] = pixel(y0 + y, x);
    await writer.write({ start: [y0, 0], stop: [y0 + rows, side] }, band);
  }
  await writer.close();
}

/** One timed run, as a block for `interleave`. */
const once = (run: () => Promise<unknown>) => async () => {
  const t0 = performance.now();
  await run();
  return [performance.now() - t0];
};

async function main(): Promise<void> {
  const runtime = await benchRuntime(flags.device);
  const model = await createModel(runtime, { seed: 0 });
  /** The same model on the CPU EP, timed against a GPU in the same run. */
  const cpuModel = runtime.device!.name === 'cpu' ? undefined : await createModel(cpuRuntime, { seed: 0 });
  const data = image(SIDE);
  const input = { data, shape: [SIDE, SIDE], axes: 'YX' };
  const defaults = recording(model);
  const small = recording(model);
  const tiledDefault = () => predict(input, defaults.run, { model: facts });
  const smallOptions: PredictOptions = {
    model: facts,
    tileSize: [SMALL_TILE, SMALL_TILE],
    tileOverlap: [SMALL_OVERLAP, SMALL_OVERLAP],
  };
  const tiledSmall = () => predict(input, small.run, smallOptions);
  const untiled = () => model.predict(data, [1, 1, SIDE, SIDE]);
  const cpu = cpuModel && {
    untiled: () => cpuModel.predict(data, [1, 1, SIDE, SIDE]),
    tiledDefault: () => predict(input, recording(cpuModel).run, { model: facts }),
  };

  // Warm-up: session creation and ORT's first-run allocations for every shape.
  await untiled();
  await tiledDefault();
  await tiledSmall();
  await cpu?.untiled();
  await cpu?.tiledDefault();
  const timed = await interleave(ROUNDS, {
    untiled: once(untiled),
    tiled: once(tiledDefault),
    tiledSmall: once(tiledSmall),
    cpuUntiled: cpu && once(cpu.untiled),
    cpuTiled: cpu && once(cpu.tiledDefault),
  });
  await model.dispose();
  await cpuModel?.dispose();

  const dir = mkdtempSync(join(tmpdir(), 'bench-predict-'));
  let stream: { peakRssMiB: number; seconds: number; tile: number[] };
  try {
    const source = join(dir, 'input.zarr');
    await writeInput(source, STREAM_SIDE);
    await settle();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        import.meta.filename,
        '--stream-child',
        '--device',
        runtime.device!.name,
        source,
        join(dir, 'output.zarr'),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`the streaming child failed (exit ${child.status})`);
    stream = JSON.parse(child.stdout.trim().split('\n').pop()!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const tiled = median(timed.tiled);
  const untiledMedian = median(timed.untiled);
  const summary = {
    [`tiled${SIDE}Ms`]: round(tiled),
    [`untiled${SIDE}Ms`]: round(untiledMedian),
    tilingOverhead: round(tiled / untiledMedian, 3),
    [`stream${STREAM_SIDE}PeakRssMiB`]: round(stream.peakRssMiB),
    ...(cpu
      ? {
          [`cpuTiled${SIDE}Ms`]: round(median(timed.cpuTiled)),
          [`cpuUntiled${SIDE}Ms`]: round(median(timed.cpuUntiled)),
          speedupOverCpu: round(median(timed.cpuTiled) / tiled, 3),
          untiledSpeedupOverCpu: round(median(timed.cpuUntiled) / untiledMedian, 3),
        }
      : {}),
    ...(quick ? { quick: { side: SIDE, smallTile: SMALL_TILE, streamSide: STREAM_SIDE } } : {}),
    ...deviceFields(runtime),
  };
  const pixels = SIDE * SIDE;
  const row = (what: string, tile: string, ms: number[], untiledOnSameDevice = timed.untiled) => ({
    what,
    tile,
    runs: ms.length,
    ms: round(median(ms)),
    'ns/px': round((median(ms) * 1e6) / pixels),
    vsUntiled: round(median(ms) / median(untiledOnSameDevice), 3),
  });
  console.table([
    row(`untiled ${SIDE}²`, `${SIDE}²`, timed.untiled),
    row(`predict ${SIDE}², default tiles`, defaults.tile().join('×'), timed.tiled),
    row(
      `predict ${SIDE}², ${SMALL_TILE}² overlap ${SMALL_OVERLAP}`,
      small.tile().join('×'),
      timed.tiledSmall,
    ),
    ...(cpu
      ? [
          row(`cpu EP: untiled ${SIDE}²`, `${SIDE}²`, timed.cpuUntiled, timed.cpuUntiled),
          row(
            `cpu EP: predict ${SIDE}², default tiles`,
            defaults.tile().join('×'),
            timed.cpuTiled,
            timed.cpuUntiled,
          ),
        ]
      : []),
    {
      what: `stream ${STREAM_SIDE}² OME-Zarr → OME-Zarr`,
      tile: stream.tile.join('×'),
      runs: 1,
      ms: round(stream.seconds * 1000),
      'ns/px': round((stream.seconds * 1e9) / STREAM_SIDE ** 2),
      peakRssMiB: round(stream.peakRssMiB),
    },
  ]);
  console.log(JSON.stringify(summary));
}

if (flags['stream-child']) await streamChild(positionals[0]!, positionals[1]!);
else await main();
