/** onnxruntime-node as the engine's runtime (the browser-safe engine never imports it). */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { defaultSessionOptions, type Runtime } from './runtime.js';

/** onnxruntime-node with the session options measured best for training on CPU. */
export function nodeRuntime(threads = availableParallelism()): Runtime {
  return {
    name: 'onnxruntime-node',
    ort: ort as unknown as Runtime['ort'],
    sessionOptions: defaultSessionOptions(threads),
  };
}
