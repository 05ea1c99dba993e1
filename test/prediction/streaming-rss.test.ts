/**
 * Streaming prediction keeps memory bounded: a 4096² float32 OME-Zarr (64 MiB, 4× the 16 MiB budget) goes
 * through a real UNet (CAREamics UNet at depth 2 with 8 filters, one ORT thread) into an OME-Zarr output in a
 * child process, so only that process's memory counts. The input is written here, one row of chunks at a time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/index.js';
import { createOmeZarrPath, openOmeZarrPath } from '../../src/io/node/index.js';
import { nodeRuntime } from '../../src/node.js';
import { type AxisTile, planTiles, resolveOverlap } from '../../src/prediction/index.js';
import { SMALL_UNET, smallUNetFacts } from './streaming-rss.shared.js';

const MiB = 1024 ** 2;
const SIDE = 4096;
const BUDGET = 16 * MiB;
/**
 * Memory a streamed prediction needs whatever the image size: ORT's session and arena, the Blosc WASM heap (a
 * 512² image through the same budget grows 71–80 MiB), plus band-sized buffers that are already garbage: V8
 * collects ArrayBuffers only once about 64 MiB of external memory has piled up since the last collection, so a
 * long stream may peak up to that much higher (measured 100–135 MiB for 4096²). Holding every output row until
 * the end instead of writing it grows 230 MiB, which this bound still fails.
 */
const FIXED_OVERHEAD = 144 * MiB;
const CHILD = join(import.meta.dirname, 'streaming-rss.child.ts');

const pixel = (y: number, x: number) =>
  Math.sin(y * 0.05) * Math.cos(x * 0.031) + ((y * 31 + x * 17) % 7) * 0.1;

async function writeInput(path: string, side: number): Promise<void> {
  const writer = await createOmeZarrPath(path, {
    shape: [side, side],
    dtype: 'float32',
    axes: 'YX',
    chunks: [256, 256],
  });
  for (let y0 = 0; y0 < side; y0 += 256) {
    const band = new Float32Array(256 * side);
    for (let i = 0; i < band.length; i++) band[i] = pixel(y0 + Math.floor(i / side), i % side);
    await writer.write({ start: [y0, 0], stop: [y0 + 256, side] }, band);
  }
  await writer.close();
}

interface ChildReport {
  baselineKiB: number;
  peakKiB: number;
  tileShape: number[];
  tiles: number;
}

async function streamInChild(input: string, output: string): Promise<ChildReport & { grownBytes: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ input, output, budgetBytes: BUDGET })],
    { cwd: join(import.meta.dirname, '..', '..'), maxBuffer: MiB },
  );
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport;
  return { ...report, grownBytes: (report.peakKiB - report.baselineKiB) * 1024 };
}

// Peak RSS comes from /proc/self/status.
describe.skipIf(process.platform !== 'linux')('predictToWriter from OME-Zarr to OME-Zarr', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streaming-rss-'));
    await writeInput(join(dir, 'small.zarr'), 512);
    await writeInput(join(dir, 'large.zarr'), SIDE);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams an image 4× the memory budget with peak RSS under the budget plus a fixed overhead', async () => {
    const small = await streamInChild(join(dir, 'small.zarr'), join(dir, 'small-out.zarr'));
    expect(small.grownBytes).toBeLessThan(FIXED_OVERHEAD);

    const large = await streamInChild(join(dir, 'large.zarr'), join(dir, 'large-out.zarr'));
    const report = `peak − baseline: ${(small.grownBytes / MiB).toFixed(0)} MiB for 512², ${(large.grownBytes / MiB).toFixed(0)} MiB for ${SIDE}² (${large.tiles} tiles of ${large.tileShape.join('×')})`;
    expect(large.grownBytes, report).toBeLessThan(BUDGET + FIXED_OVERHEAD);

    // The stitched output equals direct predictions of the tiles it is made of (corners and middle).
    const source = await openOmeZarrPath(join(dir, 'large.zarr'));
    const output = await openOmeZarrPath(join(dir, 'large-out.zarr'));
    expect(output.shape).toEqual([SIDE, SIDE]);
    const model = await createModel(nodeRuntime(1), { architecture: SMALL_UNET, seed: 1 });
    const [tileY, tileX] = large.tileShape as [number, number];
    const overlap = resolveOverlap(large.tileShape, undefined, smallUNetFacts.receptiveFieldHalo);
    const [rows, cols] = planTiles([SIDE, SIDE], large.tileShape, overlap, 4) as [AxisTile[], AxisTile[]];
    const picks = (tiles: AxisTile[]) => [tiles[0]!, tiles[tiles.length >> 1]!, tiles[tiles.length - 1]!];
    for (const ty of picks(rows)) {
      for (const tx of picks(cols)) {
        const tile = await source.read({
          start: [ty.start, tx.start],
          stop: [ty.start + tileY, tx.start + tileX],
        });
        const direct = await model.predict(tile.data as Float32Array, [1, 1, tileY, tileX]);
        const stitched = await output.read({
          start: [ty.stitchStart, tx.stitchStart],
          stop: [ty.stitchStart + ty.cropSize, tx.stitchStart + tx.cropSize],
        });
        let maxDiff = 0;
        for (let y = 0; y < ty.cropSize; y++) {
          for (let x = 0; x < tx.cropSize; x++) {
            const expected = direct.data[(ty.cropStart + y) * tileX + tx.cropStart + x]!;
            maxDiff = Math.max(maxDiff, Math.abs(stitched.data[y * tx.cropSize + x]! - expected));
          }
        }
        expect(maxDiff, `tile at (${ty.start}, ${tx.start})`).toBeLessThan(1e-5);
      }
    }
    // Every row was written (a row left at the fill value would be all zeros).
    const column = await output.read({ start: [0, SIDE / 2], stop: [SIDE, SIDE / 2 + 1] });
    expect(column.data.every((v) => v !== 0)).toBe(true);
    await model.dispose();
  });
});
