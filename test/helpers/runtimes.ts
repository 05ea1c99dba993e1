import * as ortNode from 'onnxruntime-node';
import { defaultSessionOptions, type Runtime } from '../../src/engine/runtime.js';

export const nodeRuntime: Runtime = {
  name: 'onnxruntime-node',
  ort: ortNode as unknown as Runtime['ort'],
  sessionOptions: defaultSessionOptions(2),
};

/** onnxruntime-web's wasm backend, run inside Node (single-threaded: no cross-origin isolation here). */
export async function webRuntime(): Promise<Runtime> {
  const ortWeb = await import('onnxruntime-web');
  ortWeb.env.wasm.numThreads = 1;
  return {
    name: 'onnxruntime-web',
    ort: ortWeb as unknown as Runtime['ort'],
    sessionOptions: { executionProviders: ['wasm'] },
  };
}
