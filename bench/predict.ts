/**
 * npm run bench:predict — tiled prediction with the CAREamics N2V default UNet (2D, depth 2, 32 filters, batch
 * norm; seeded random initial weights, BN statistics at their initial values):
 * - 2048² float32: `predict` with what a user gets by default (automatic tiles from the default 512 MiB budget,
 *   overlap twice the receptive-field halo) and with CAREamics' usual 256² tiles / 48 overlap, against one
 *   untiled `model.predict` of the whole image (medians of BENCH_ROUNDS alternating runs, after a warm-up);
 * - 8192² float32 streamed from OME-Zarr to OME-Zarr with `predictToWriter` (default budget) in a child
 *   process, whose peak RSS (VmHWM) is read from /proc. The input is written to disk chunk row by chunk row.
 * Prints a table, then as its LAST line the JSON summary. BENCH_ROUNDS (default 3) and BENCH_STREAM_SIDE
 * (default 8192) shorten a trial run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { median, nodeRuntime, peakRssMiB, round, settle } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIDE = 2048;
const STREAM_SIDE = Number(process.env.BENCH_STREAM_SIDE ?? 8192);
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
  const model = await createModel(nodeRuntime, { seed: 0 });
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

async function timed(run: () => Promise<unknown>): Promise<number> {
  await settle();
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const model = await createModel(nodeRuntime, { seed: 0 });
  const data = image(SIDE);
  const input = { data, shape: [SIDE, SIDE], axes: 'YX' };
  const defaults = recording(model);
  const small = recording(model);
  const tiledDefault = () => predict(input, defaults.run, { model: facts });
  const options256: PredictOptions = { model: facts, tileSize: [256, 256], tileOverlap: [48, 48] };
  const tiled256 = () => predict(input, small.run, options256);
  const untiled = () => model.predict(data, [1, 1, SIDE, SIDE]);

  // Warm-up: session creation and ORT's first-run allocations for every shape.
  await untiled();
  await tiledDefault();
  await tiled256();
  const ms = { tiled: [] as number[], tiled256: [] as number[], untiled: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    ms.untiled.push(await timed(untiled));
    ms.tiled.push(await timed(tiledDefault));
    ms.tiled256.push(await timed(tiled256));
  }
  await model.dispose();

  const dir = mkdtempSync(join(tmpdir(), 'bench-predict-'));
  let stream: { peakRssMiB: number; seconds: number; tile: number[] };
  try {
    const source = join(dir, 'input.zarr');
    await writeInput(source, STREAM_SIDE);
    await settle();
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--stream-child', source, join(dir, 'output.zarr')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`the streaming child failed (exit ${child.status})`);
    stream = JSON.parse(child.stdout.trim().split('\n').pop()!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const tiled2048Ms = median(ms.tiled);
  const untiled2048Ms = median(ms.untiled);
  const summary = {
    tiled2048Ms: round(tiled2048Ms),
    untiled2048Ms: round(untiled2048Ms),
    tilingOverhead: round(tiled2048Ms / untiled2048Ms, 3),
    stream8192PeakRssMiB: round(stream.peakRssMiB),
  };
  const pixels = SIDE * SIDE;
  console.table([
    {
      what: `untiled ${SIDE}²`,
      tile: `${SIDE}²`,
      runs: ms.untiled.length,
      ms: summary.untiled2048Ms,
      'ns/px': round((untiled2048Ms * 1e6) / pixels),
      vsUntiled: 1,
    },
    {
      what: `predict ${SIDE}², default tiles`,
      tile: defaults.tile().join('×'),
      runs: ms.tiled.length,
      ms: summary.tiled2048Ms,
      'ns/px': round((tiled2048Ms * 1e6) / pixels),
      vsUntiled: summary.tilingOverhead,
    },
    {
      what: `predict ${SIDE}², 256² overlap 48`,
      tile: small.tile().join('×'),
      runs: ms.tiled256.length,
      ms: round(median(ms.tiled256)),
      'ns/px': round((median(ms.tiled256) * 1e6) / pixels),
      vsUntiled: round(median(ms.tiled256) / untiled2048Ms, 3),
    },
    {
      what: `stream ${STREAM_SIDE}² OME-Zarr → OME-Zarr`,
      tile: stream.tile.join('×'),
      runs: 1,
      ms: round(stream.seconds * 1000),
      'ns/px': round((stream.seconds * 1e9) / STREAM_SIDE ** 2),
      peakRssMiB: summary.stream8192PeakRssMiB,
    },
  ]);
  console.log(JSON.stringify(summary));
}

if (process.argv[2] === '--stream-child') await streamChild(process.argv[3]!, process.argv[4]!);
else await main();
