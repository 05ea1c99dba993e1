/**
 * A `--workers` process: its own ONNX Runtime session (the threads it is given), predicting the regions the
 * parent sends and sending back what it would write. Started by `predictWithWorkers`, never by hand.
 */
import type { Region, TypedArray } from '../io/index.js';
import { forwardingWriter, predictRegion, type RegionJob, WorkerCache } from './job.js';
import type { ChildMessage, ParentMessage } from './pool.js';

const send = (message: ChildMessage) => process.send!(message);
let cache: WorkerCache | undefined;

process.on('message', async (message: ParentMessage) => {
  if (message.type === 'init') {
    cache = new WorkerCache(message.threads);
    return;
  }
  const { id, job, output } = message;
  try {
    const writes: { region: Region; data: TypedArray }[] = [];
    const writer = forwardingWriter(output, (region, data) => writes.push({ region, data }));
    let tiles = 0;
    await predictRegion(cache!, job as RegionJob, writer, { onProgress: (done) => (tiles = done) });
    send({ type: 'done', id, writes, tiles });
  } catch (err) {
    send({ type: 'failed', id, message: (err as Error).message });
  }
});
process.on('disconnect', () => {
  void cache?.dispose().finally(() => process.exit(0));
});
