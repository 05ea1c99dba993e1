/**
 * Child process of `streaming-rss.test.ts`: streams an OME-Zarr image through a small real UNet into an OME-Zarr
 * output with `predictToWriter` and automatic tiles, and prints one JSON line with its peak resident memory
 * (VmHWM, KiB) before and after the prediction and the tiles used. Argument: JSON `{ input, output, budgetBytes }`.
 */
import { readFileSync } from 'node:fs';
import { createModel } from '../../src/engine/index.js';
import { createOmeZarrPath, openOmeZarrPath } from '../../src/io/node/index.js';
import { nodeRuntime } from '../../src/node.js';
import { predictToWriter } from '../../src/prediction/index.js';
import { SMALL_UNET, smallUNetFacts } from './streaming-rss.shared.js';

function peakKiB(): number {
  const match = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/);
  if (!match) throw new Error('no VmHWM in /proc/self/status');
  return Number(match[1]);
}

const args = JSON.parse(process.argv[2]!) as { input: string; output: string; budgetBytes: number };
// One thread: on two busy cores ORT's spinning worker threads cost more than they bring.
const model = await createModel(nodeRuntime(1), { architecture: SMALL_UNET, seed: 1 });
const source = await openOmeZarrPath(args.input);
const writer = await createOmeZarrPath(args.output, {
  shape: source.shape,
  dtype: 'float32',
  axes: source.axes,
});
const baselineKiB = peakKiB();
let tileShape: number[] = [];
let tiles = 0;
await predictToWriter(
  source,
  writer,
  (batch, shape) => {
    tileShape = shape.slice(2);
    return model.predict(batch, shape);
  },
  {
    model: smallUNetFacts,
    memoryBudgetBytes: args.budgetBytes,
    onProgress: (_, total) => {
      tiles = total;
    },
  },
);
console.log(JSON.stringify({ baselineKiB, peakKiB: peakKiB(), tileShape, tiles }));
