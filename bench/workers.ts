/**
 * npm run bench:workers — the three ways to predict one image, each timed as a user runs it (the `careamics`
 * command, process start and model load included): one process, `--workers N` (N processes, cores/N threads
 * each), and `--queue` (a throwaway redis-server, N `careamics worker` processes started beforehand, then
 * `careamics predict --queue --wait`). The model is CAREamics' default N2V UNet (2D, depth 2, 32 filters)
 * trained one epoch (the weights do not change the time); the image is `--side`² float32 (default 1024) in
 * 256² tiles, overlap 48, to OME-Zarr (256² chunks). All outputs are checked byte-identical. Prints a table,
 * then as its LAST line the JSON summary. `--quick`: 512², one round.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CAREamist, createN2VConfig, openImage, writeImage } from '../src/node.js';
import { countTiles, partitionRegions, planTiles, restrictGrid } from '../src/prediction/index.js';
import { median, round } from './lib.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    side: { type: 'string' },
    workers: { type: 'string', default: '2' },
    rounds: { type: 'string' },
  },
});
const SIDE = Number(flags.side ?? (flags.quick ? 512 : 1024));
const WORKERS = Number(flags.workers);
const ROUNDS = Number(flags.rounds ?? (flags.quick ? 1 : 2));
const BIN = fileURLToPath(new URL('../bin/careamics.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'careamics-bench-workers-'));
const p = (...parts: string[]) => join(dir, ...parts);

async function setup(): Promise<void> {
  const side = 128;
  const train = Float32Array.from({ length: side * side }, (_, i) => Math.sin(i * 0.37) + (i % 7) / 7);
  await writeImage(p('train.tif'), { data: train, shape: [side, side] }, { axes: 'YX' });
  const config = createN2VConfig({
    experimentName: 'bench',
    dataType: 'tiff',
    axes: 'YX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 1,
  });
  await new CAREamist(config, { workDir: p('run') }).train({ trainSource: p('train.tif') });
  const data = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.013) + ((i * 7919) % 1000) / 1000;
  await writeImage(p('image.tif'), { data, shape: [SIDE, SIDE] }, { axes: 'YX' });
}

const PREDICT = ['--format', 'zarr', '--tile-size', '256', '256', '--tile-overlap', '48', '48'];
/** Queue jobs of 512² (two chunks a side), so that the image makes jobs for every worker. */
const QUEUE_REGION = Math.min(512, SIDE / 2);
const QUEUE_SPLIT = ['--region-size', String(QUEUE_REGION)];

/** Tiles predicted by one process, and by the queue's regions (tiles across a region edge are predicted twice). */
function tileCounts(): { one: number; queue: number } {
  const grid = planTiles([SIDE, SIDE], [256, 256], [48, 48], 4);
  const regions = partitionRegions([SIDE, SIDE], [QUEUE_REGION, QUEUE_REGION]);
  const queue = regions.reduce((n, r) => {
    const ranges = r.start.map((s, i) => [s, r.stop[i]!] as [number, number]);
    return n + countTiles(restrictGrid(grid, ranges));
  }, 0);
  return { one: countTiles(grid), queue };
}

function careamics(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`careamics ${args.join(' ')}: ${result.stderr}`);
  return performance.now() - started;
}

async function pixels(path: string): Promise<Buffer> {
  const { data } = await (await openImage(path)).read();
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let text = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) resolve();
    });
  });
}

async function queueRound(round: number): Promise<number | undefined> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const redis = spawn('redis-server', [
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  await new Promise<void>((resolve) => {
    redis.stdout.on('data', (c: Buffer) => c.toString().includes('Ready to accept') && resolve());
  });
  const url = `redis://127.0.0.1:${port}/0`;
  const workers = Array.from({ length: WORKERS }, () =>
    spawn(process.execPath, [BIN, 'worker', '--queue', url, '--threads', String(threadsEach)]),
  );
  try {
    await Promise.all(workers.map((w) => waitForLine(w, /taking jobs/)));
    return careamics([
      'predict',
      p('run'),
      p('image.tif'),
      ...PREDICT,
      ...QUEUE_SPLIT,
      '-o',
      p(`queue${round}`),
      '--queue',
      url,
      '--wait',
    ]);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    redis.kill('SIGKILL');
  }
}

const threadsEach = Math.max(1, Math.floor(availableParallelism() / WORKERS));

await setup();
const times: Record<'one' | 'workers' | 'queue', number[]> = { one: [], workers: [], queue: [] };
const load = loadavg()[0]!;
for (let r = 0; r < ROUNDS; r++) {
  times.one.push(careamics(['predict', p('run'), p('image.tif'), ...PREDICT, '-o', p(`one${r}`)]));
  times.workers.push(
    careamics([
      'predict',
      p('run'),
      p('image.tif'),
      ...PREDICT,
      '-o',
      p(`workers${r}`),
      '--workers',
      String(WORKERS),
    ]),
  );
  const queued = await queueRound(r);
  if (queued !== undefined) times.queue.push(queued);
}
const reference = await pixels(p('one0', 'image_denoised.zarr'));
const identical =
  (await pixels(p('workers0', 'image_denoised.zarr'))).equals(reference) &&
  (times.queue.length === 0 || (await pixels(p('queue0', 'image_denoised.zarr'))).equals(reference));
rmSync(dir, { recursive: true, force: true });

const ms = (values: number[]) => (values.length ? round(median(values), 0) : undefined);
const summary = {
  side: SIDE,
  workers: WORKERS,
  cores: availableParallelism(),
  threadsPerWorker: threadsEach,
  rounds: ROUNDS,
  loadAtStart: round(load, 2),
  oneProcessMs: ms(times.one),
  workersMs: ms(times.workers),
  queueMs: ms(times.queue),
  workersSpeedup: round(median(times.one) / median(times.workers), 2),
  queueSpeedup: times.queue.length ? round(median(times.one) / median(times.queue), 2) : undefined,
  identical,
  tilesOneProcess: tileCounts().one,
  tilesQueue: tileCounts().queue,
  queueRegion: QUEUE_REGION,
};
console.log(
  `${SIDE}² float32, 256² tiles (overlap 48) → OME-Zarr; ${summary.cores} cores, load ${summary.loadAtStart}`,
);
console.log(`one process            ${summary.oneProcessMs} ms`);
console.log(
  `--workers ${WORKERS} (${threadsEach} thr)  ${summary.workersMs} ms  (×${summary.workersSpeedup})`,
);
console.log(
  `--queue, ${WORKERS} workers     ${summary.queueMs ?? 'skipped (no redis-server)'} ms  (×${summary.queueSpeedup})`,
);
console.log(
  `queue jobs ${QUEUE_REGION}²: ${summary.tilesQueue} tiles predicted vs ${summary.tilesOneProcess} in one process`,
);
console.log(`outputs identical: ${identical}`);
console.log(JSON.stringify(summary));
