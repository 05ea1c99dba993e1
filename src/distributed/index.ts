/**
 * Prediction beyond one process (Node only): `predictWithWorkers` shares an image's regions among N processes on
 * one machine; `enqueuePrediction` / `startQueueWorker` / `queueStatus` run them over any number of machines on
 * BullMQ (Redis). Every way writes exactly the single-process prediction.
 */
export { DistributedError, type DistributedErrorTag, isDistributedError } from './errors.js';
export { type JobTiling, type RegionJob, runTiling } from './job.js';
export { predictWithWorkers, threadsPerWorker, type WorkersOptions } from './pool.js';
export {
  type EnqueuedRun,
  type EnqueueOptions,
  enqueuePrediction,
  QUEUE_NAME,
  type QueueWorkerOptions,
  queueStatus,
  type RunStatus,
  startQueueWorker,
  waitForRun,
} from './queue.js';
export { parseQueueUrl, type RedisTarget } from './redis.js';
