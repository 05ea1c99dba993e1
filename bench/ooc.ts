/**
 * npm run bench:ooc — out-of-core training. Trains N2V (CAREamics' default UNet, 64² patches, batch 16) with
 * `careamics train` in a child process on a synthetic noisy OME-Zarr several times the memory budget
 * (`--memory-budget`, default 1 GiB), reading patches on demand, and the same training in memory on a subset that
 * fits (the first planes, as a TIFF). The child's peak RSS is VmHWM from /proc; steps per second come from the
 * run's trainer.json (training seconds only: the statistics pass is reported apart, in the wall time).
 *
 * Flags: `--size 8GiB` (data size, default 8 GiB; `--size 1GiB` for a quick run), `--budget 1GiB`,
 * `--steps 200`, `--rounds 3` (alternating runs of each; medians, the highest peak RSS), `--subset 256MiB` (the
 * in-memory reference), `--cache DIR` (default: careamics-bench-ooc under
 * the OS temp dir). The data is generated once, plane by plane (never whole in memory), into the cache dir and
 * reused. Prints a table, then as its LAST line the JSON summary
 * `{peakRssMiB, stepsPerSecOoc, stepsPerSecInMemory, ratio, ...}`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { byteSize } from '../src/cli/shared.js';
import { createN2VConfig, saveConfigYaml } from '../src/config/index.js';
import { RandomPatching } from '../src/data/patching.js';
import { Rng } from '../src/data/random.js';
import { createOmeZarrPath, openOmeZarrPath, writeImage } from '../src/io/node/index.js';
import { chunkCacheBytes } from '../src/training/dataset.js';
import { OnDemandPatches } from '../src/training/patchProvider.js';
import { median, round } from './lib.js';

const { values: flags } = parseArgs({
  options: {
    size: { type: 'string', default: '8GiB' },
    budget: { type: 'string', default: '1GiB' },
    steps: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    subset: { type: 'string', default: '256MiB' },
    cache: { type: 'string', default: join(tmpdir(), 'careamics-bench-ooc') },
  },
});

const SIDE = 2048;
const PLANE_BYTES = SIDE * SIDE * 4;
const planes = Math.max(1, Math.round(byteSize(flags.size) / PLANE_BYTES));
const subsetPlanes = Math.max(1, Math.min(planes, Math.floor(byteSize(flags.subset) / PLANE_BYTES)));
const steps = Number(flags.steps);
const rounds = Number(flags.rounds);
const cache = flags.cache;
mkdirSync(cache, { recursive: true });
const GiB = 2 ** 30;

/** A noisy float32 plane: smooth structure plus Gaussian noise (from a precomputed table, for speed). */
const noise = (() => {
  const rng = new Rng(1);
  return Float32Array.from({ length: 1 << 22 }, () => rng.normal(0, 20));
})();
function noisyPlane(index: number, rng: Rng): Float32Array {
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    const offset = rng.integer(0, noise.length - SIDE);
    const row = y * SIDE;
    for (let x = 0; x < SIDE; x++) {
      const checker = ((x >> 5) + (y >> 5) + index) & 1;
      out[row + x] =
        300 + 80 * Math.sin((x + index) / 9) * Math.cos(y / 13) + 90 * checker + noise[offset + x];
    }
  }
  return out;
}

/** The data set, written plane by plane into a temp folder renamed into place: an interrupted run leaves none. */
async function ensureZarr(): Promise<string> {
  const path = join(cache, `noisy-${planes}x${SIDE}x${SIDE}.zarr`);
  if (existsSync(path)) return path;
  process.stderr.write(`generating ${path} (${round((planes * PLANE_BYTES) / GiB, 2)} GiB)…\n`);
  const writer = await createOmeZarrPath(path, {
    shape: [planes, SIDE, SIDE],
    dtype: 'float32',
    axes: 'SYX',
    chunks: [1, 256, 256],
  });
  const rng = new Rng(2);
  try {
    for (let s = 0; s < planes; s++) {
      await writer.write({ start: [s, 0, 0], stop: [s + 1, SIDE, SIDE] }, noisyPlane(s, rng));
      if (s % 32 === 31) process.stderr.write(`  ${s + 1}/${planes} planes\n`);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return path;
}

/** The first planes as a TIFF, for the in-memory reference. */
async function ensureSubset(zarr: string): Promise<string> {
  const path = join(cache, `subset-${subsetPlanes}of${planes}x${SIDE}x${SIDE}.tif`);
  if (existsSync(path)) return path;
  const source = await openOmeZarrPath(zarr);
  const array = await source.read({ start: [0, 0, 0], stop: [subsetPlanes, SIDE, SIDE] });
  await writeImage(path, array, { axes: 'SYX' });
  return path;
}

function writeConfig(name: string, dataType: 'zarr' | 'tiff'): string {
  const config = createN2VConfig({
    experimentName: name,
    dataType,
    axes: 'SYX',
    patchSize: [64, 64],
    batchSize: 16,
    numEpochs: 1,
    numSteps: steps,
    seed: 3,
    nValPatches: 16,
  });
  const path = join(cache, `${name}.yml`);
  writeFileSync(path, saveConfigYaml(config));
  return path;
}

interface RunResult {
  peakRssMiB: number;
  stepsPerSec: number;
  wallSeconds: number;
  trainSeconds: number;
  steps: number;
  stderr: string;
}

/** `careamics train` in a child, its VmHWM polled from /proc until it exits. */
async function train(config: string, source: string, workDir: string): Promise<RunResult> {
  rmSync(workDir, { recursive: true, force: true });
  const cli = join(import.meta.dirname, '..', 'bin', 'careamics.js');
  const args = [cli, 'train', config, '--train-source', source, '--work-dir', workDir];
  const started = performance.now();
  const child = spawn(process.execPath, [...args, '--memory-budget', flags.budget], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let peakKiB = 0;
  const poll = setInterval(() => {
    try {
      const match = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
    } catch {
      // The child has exited between polls.
    }
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`careamics train exited with ${code}:\n${stderr}`);
  const state = JSON.parse(readFileSync(join(workDir, 'trainer.json'), 'utf8'));
  const trainSeconds = state.history.reduce((t: number, r: { seconds: number }) => t + r.seconds, 0);
  return {
    peakRssMiB: peakKiB / 1024,
    stepsPerSec: state.globalStep / trainSeconds,
    wallSeconds: (performance.now() - started) / 1000,
    trainSeconds,
    steps: state.globalStep,
    stderr,
  };
}

/**
 * What a step waits for without read-ahead: the mean time to read and decode one batch of 16 random 64² patches
 * through a cache of a quarter of the budget (the data being larger than the cache, most chunks are misses), on
 * the main thread, as training does it.
 */
async function readMsPerBatch(zarr: string): Promise<{ ms: number; hitRate: number }> {
  const source = await openOmeZarrPath(zarr);
  const provider = new OnDemandPatches(
    { train: { inputs: [source] }, val: { inputs: [source] } },
    chunkCacheBytes(byteSize(flags.budget)),
  );
  const rng = new Rng(5);
  const patching = new RandomPatching([source], [64, 64], rng);
  const batches = Array.from({ length: 40 }, () =>
    Array.from({ length: 16 }, () => patching.getPatchSpec(rng.integer(0, patching.nPatches))),
  );
  const started = performance.now();
  for (const specs of batches) await provider.read('train', specs);
  const { hits, misses } = provider.cache;
  return { ms: (performance.now() - started) / batches.length, hitRate: hits / (hits + misses) };
}

const zarr = await ensureZarr();
const subset = await ensureSubset(zarr);
const reads = await readMsPerBatch(zarr);
// Alternating rounds, medians: on a shared machine the load changes between runs.
const oocRuns: RunResult[] = [];
const inMemoryRuns: RunResult[] = [];
for (let r = 0; r < rounds; r++) {
  oocRuns.push(await train(writeConfig('ooc', 'zarr'), zarr, join(cache, 'run-ooc')));
  inMemoryRuns.push(await train(writeConfig('in-memory', 'tiff'), subset, join(cache, 'run-in-memory')));
  process.stderr.write(
    `round ${r + 1}/${rounds}: ${round(oocRuns[r]!.stepsPerSec, 3)} vs ${round(inMemoryRuns[r]!.stepsPerSec, 3)} steps/s\n`,
  );
}
const medianOf = (runs: RunResult[], key: keyof Omit<RunResult, 'stderr'>) =>
  median(runs.map((run) => run[key]));
const ooc = {
  stepsPerSec: medianOf(oocRuns, 'stepsPerSec'),
  peakRssMiB: Math.max(...oocRuns.map((run) => run.peakRssMiB)),
  wallSeconds: medianOf(oocRuns, 'wallSeconds'),
};
const inMemory = {
  stepsPerSec: medianOf(inMemoryRuns, 'stepsPerSec'),
  peakRssMiB: Math.max(...inMemoryRuns.map((run) => run.peakRssMiB)),
  wallSeconds: medianOf(inMemoryRuns, 'wallSeconds'),
};

const dataGiB = (planes * PLANE_BYTES) / GiB;
const summary = {
  dataGiB: round(dataGiB, 2),
  budgetGiB: round(byteSize(flags.budget) / GiB, 2),
  subsetGiB: round((subsetPlanes * PLANE_BYTES) / GiB, 2),
  steps,
  rounds,
  peakRssMiB: round(ooc.peakRssMiB),
  peakRssInMemoryMiB: round(inMemory.peakRssMiB),
  stepsPerSecOoc: round(ooc.stepsPerSec, 3),
  stepsPerSecInMemory: round(inMemory.stepsPerSec, 3),
  ratio: round(ooc.stepsPerSec / inMemory.stepsPerSec, 3),
  wallSecondsOoc: round(ooc.wallSeconds),
  wallSecondsInMemory: round(inMemory.wallSeconds),
  readMsPerBatch: round(reads.ms),
  cacheHitRate: round(reads.hitRate, 3),
  stepMsInMemory: round(1000 / inMemory.stepsPerSec),
};
console.log(
  `data          ${summary.dataGiB} GiB (${planes} × ${SIDE}² float32), budget ${summary.budgetGiB} GiB`,
);
console.log(
  `out of core   ${summary.stepsPerSecOoc} steps/s, peak RSS ${summary.peakRssMiB} MiB, wall ${summary.wallSecondsOoc} s`,
);
console.log(
  `in memory     ${summary.stepsPerSecInMemory} steps/s on ${summary.subsetGiB} GiB, peak RSS ${summary.peakRssInMemoryMiB} MiB, wall ${summary.wallSecondsInMemory} s`,
);
console.log(
  `one batch     read in ${summary.readMsPerBatch} ms (cache hit rate ${summary.cacheHitRate}) vs a ${summary.stepMsInMemory} ms step`,
);
console.log(JSON.stringify(summary));
