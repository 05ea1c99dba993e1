import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import { workerOrt } from '../../web/src/backend.js';

/** A stand-in for onnxruntime-web whose sessions log their runs; `webgpu` sessions fail to load. */
function fakeOrt(log: string[]): Runtime['ort'] {
  return {
    Tensor: class {} as unknown as Runtime['ort']['Tensor'],
    InferenceSession: {
      async create(_model, options) {
        const providers = (options?.executionProviders ?? []) as string[];
        log.push(`create ${providers.join(',')}`);
        if (providers.includes('webgpu')) throw new Error('no kernel for Resize');
        return { run: async () => log.push('run') } as never;
      },
    },
  };
}

describe('workerOrt', () => {
  it('lets queued messages through before each run', async () => {
    const log: string[] = [];
    const session = await workerOrt(fakeOrt(log), () => {}).InferenceSession.create(new Uint8Array());
    const channel = new MessageChannel();
    channel.port1.onmessage = () => log.push('stop message');
    channel.port2.postMessage(null);
    await session.run({});
    channel.port1.close();
    expect(log).toEqual(['create ', 'stop message', 'run']);
  });

  it('loads a graph WebGPU rejects on WebAssembly and says so', async () => {
    const log: string[] = [];
    const reasons: string[] = [];
    const ort = workerOrt(fakeOrt(log), (reason) => reasons.push(reason));
    await ort.InferenceSession.create(new Uint8Array(), { executionProviders: ['webgpu', 'wasm'] });
    expect(log).toEqual(['create webgpu,wasm', 'create wasm']);
    expect(reasons).toEqual(['no kernel for Resize']);
  });

  it('passes other load errors on', async () => {
    const ort = workerOrt(
      {
        ...fakeOrt([]),
        InferenceSession: {
          create: () => Promise.reject(new Error('bad graph')),
        },
      },
      () => {},
    );
    await expect(
      ort.InferenceSession.create(new Uint8Array(), { executionProviders: ['wasm'] }),
    ).rejects.toThrow('bad graph');
  });
});
