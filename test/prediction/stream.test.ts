import { describe, expect, it } from 'vitest';
import { ArraySource, ArrayWriter } from '../../src/io/memory.js';
import type { NDArray, Region } from '../../src/io/types.js';
import {
  type AxesArray,
  isPredictionError,
  outputLayout,
  type PredictFn,
  predict,
  predictToWriter,
} from '../../src/prediction/index.js';
import { boxModel, counted, identityModel, recordingSource, recordingWriter } from './fakes.js';

const input: AxesArray = {
  data: Float32Array.from({ length: 2 * 512 * 96 }, (_, i) => Math.cos(i * 0.11) * 30 + (i % 13)),
  shape: [2, 512, 96],
  axes: 'SYX',
};
const imageSize = 512 * 96;
const model = { depth: 2, inChannels: 1, outChannels: 1, is3D: false };
const options = { model, tileSize: [32, 32], tileOverlap: [8, 8], batchSize: 2 };

const anyOrder = { adjacentYX: false };

/** io's in-memory writer, with the array it assembled once closed. */
function memoryWriter(axes: string, shape: number[]) {
  let closed: NDArray | undefined;
  const writer = new ArrayWriter({ axes, shape, dtype: 'float32', rules: anyOrder }, async (array) => {
    closed = array;
  });
  return Object.assign(writer, { result: () => closed! });
}

function harness(outputAxes?: string) {
  const log: string[] = [];
  const { source, stats: reads } = recordingSource(new ArraySource(input, { axes: input.axes }), log);
  const layout = outputLayout(input.axes, input.shape, 1);
  const axes = outputAxes ?? layout.axes;
  const shape = [...axes].map((letter) => layout.shape[layout.axes.indexOf(letter)]!);
  const inner = memoryWriter(axes, shape);
  const { writer, stats: writes } = recordingWriter(inner, log);
  return { log, source, reads, inner, writer, writes };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('predictToWriter', () => {
  it('reads and writes one row of tiles at a time and matches predict', async () => {
    const { log, source, reads, inner, writer, writes } = harness();
    await predictToWriter(source, writer, boxModel(2), options);
    const expected = await predict(input, boxModel(2), options);
    expect(Array.from(inner.result().data)).toEqual(Array.from(expected.data));
    // One band is 32 rows × 96 columns of one sample: 1/16 of an image plane, 1/32 of the data.
    expect(reads.maxRead).toBe(32 * 96);
    expect(writes.maxWrite).toBeLessThanOrEqual(32 * 96);
    expect(reads.maxRead).toBeLessThan(imageSize / 10);
    expect(writes.timesWritten.every((n) => n === 1)).toBe(true);
    expect(writes.closed).toBe(true);
    // Writes start long before the reads end: output leaves as rows complete.
    expect(log.indexOf('write')).toBeLessThan(log.lastIndexOf('read') / 4);
  });

  it('writes in the writer axis order', async () => {
    const { source, inner, writer } = harness('XSY');
    await predictToWriter(source, writer, identityModel(2), options);
    const out = inner.result();
    // out[x, s, y] = input[s, y, x]
    expect(out.data[(5 * 2 + 1) * 512 + 300]).toBe(input.data[(1 * 512 + 300) * 96 + 5]);
  });

  it('aborts the writer when the signal fires mid-way and stops calling the model', async () => {
    const { source, writer, writes } = harness();
    const controller = new AbortController();
    const { model: counting, calls } = counted(identityModel(2));
    const err = await caught(
      predictToWriter(source, writer, counting, {
        ...options,
        signal: controller.signal,
        onProgress: (done) => {
          if (done >= 6) controller.abort();
        },
      }),
    );
    expect((err as Error).name).toBe('AbortError');
    expect(calls()).toBe(3);
    expect(writes.aborted).toBe(true);
    expect(writes.closed).toBe(false);
  });

  it('aborts the writer when the model fails', async () => {
    const { source, writer, writes } = harness();
    const failing: PredictFn = async () => {
      throw new Error('out of memory');
    };
    const err = await caught(predictToWriter(source, writer, failing, options));
    expect((err as Error).message).toBe('out of memory');
    expect(writes.aborted).toBe(true);
  });

  it('refuses a batch size that is not a positive integer', async () => {
    const { source, writer } = harness();
    const err = await caught(predictToWriter(source, writer, identityModel(2), { ...options, batchSize: 0 }));
    expect(isPredictionError(err, 'InvalidOption')).toBe(true);
  });

  it('refuses a writer whose shape does not fit the prediction', async () => {
    const { source } = harness();
    const wrong = memoryWriter('SYX', [2, 512, 95]);
    const { writer, stats } = recordingWriter(wrong, []);
    const err = await caught(predictToWriter(source, writer, identityModel(2), options));
    expect(isPredictionError(err, 'WriterMismatch')).toBe(true);
    expect(err).toMatchObject({ shape: [2, 512, 95], expected: [2, 512, 96] });
    expect(stats.aborted).toBe(true);
  });

  it('refuses a source that reads a region of the wrong shape', async () => {
    const { source, writer, writes } = harness();
    const short = {
      ...source,
      read: async (region?: Region) => {
        const full = await source.read(region);
        return { ...full, shape: [...full.shape.slice(0, -1), full.shape.at(-1)! - 1] };
      },
    };
    const err = await caught(predictToWriter(short, writer, identityModel(2), options));
    expect(isPredictionError(err, 'SourceShape')).toBe(true);
    expect(err).toMatchObject({ shape: [1, 32, 95], expected: [1, 32, 96] });
    expect(writes.aborted).toBe(true);
  });
});
