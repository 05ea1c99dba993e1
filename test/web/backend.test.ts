import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import { describeAdapter, findAdapter, pickAdapter, workerOrt } from '../../web/src/backend.js';

/** A stand-in for onnxruntime-web whose sessions log their runs; `webgpu` sessions fail to load, or to run. */
function fakeOrt(log: string[], webgpuFails: 'load' | 'run' = 'load'): Runtime['ort'] {
  return {
    Tensor: class {} as unknown as Runtime['ort']['Tensor'],
    InferenceSession: {
      async create(_model, options) {
        const providers = (options?.executionProviders ?? []) as string[];
        const onGpu = providers.includes('webgpu');
        log.push(`create ${providers.join(',')}`);
        if (onGpu && webgpuFails === 'load') throw new Error('no kernel for Resize');
        return {
          outputNames: [onGpu ? 'gpu' : 'cpu'],
          run: async () => {
            log.push(`run ${providers.join(',')}`);
            if (onGpu) throw new Error('[WebGPU] Kernel "[Conv] c1" failed. Error: Unsupported data type: 1');
            return { y: providers.join(',') };
          },
          release: async () => log.push(`release ${providers.join(',')}`),
        } as never;
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
    expect(log).toEqual(['create ', 'stop message', 'run ']);
  });

  it('loads a graph WebGPU rejects on WebAssembly and says so', async () => {
    const log: string[] = [];
    const reasons: string[] = [];
    const ort = workerOrt(fakeOrt(log), (reason) => reasons.push(reason));
    await ort.InferenceSession.create(new Uint8Array(), { executionProviders: ['webgpu', 'wasm'] });
    expect(log).toEqual(['create webgpu,wasm', 'create wasm']);
    expect(reasons).toEqual(['could not load a model graph: no kernel for Resize']);
  });

  it('reruns a graph whose first run fails on WebGPU on WebAssembly, and keeps it there', async () => {
    const log: string[] = [];
    const reasons: string[] = [];
    const ort = workerOrt(fakeOrt(log, 'run'), (reason) => reasons.push(reason));
    const session = await ort.InferenceSession.create(new Uint8Array(), {
      executionProviders: ['webgpu', 'wasm'],
    });
    expect(session.outputNames).toEqual(['gpu']);
    expect(await session.run({})).toEqual({ y: 'wasm' });
    expect(await session.run({})).toEqual({ y: 'wasm' });
    expect(session.outputNames).toEqual(['cpu']);
    await session.release();
    expect(log).toEqual([
      'create webgpu,wasm',
      'run webgpu,wasm',
      'release webgpu,wasm',
      'create wasm',
      'run wasm',
      'run wasm',
      'release wasm',
    ]);
    expect(reasons).toEqual([
      'could not run a model graph: [WebGPU] Kernel "[Conv] c1" failed. Error: Unsupported data type: 1',
    ]);
  });

  it('passes on the run errors of a WebGPU graph that once ran', async () => {
    let runs = 0;
    const ort = workerOrt(
      {
        ...fakeOrt([]),
        InferenceSession: {
          create: async () =>
            ({
              run: async () => {
                runs += 1;
                if (runs > 1) throw new Error('device lost');
                return {};
              },
            }) as never,
        },
      },
      () => {},
    );
    const session = await ort.InferenceSession.create(new Uint8Array(), { executionProviders: ['webgpu'] });
    await session.run({});
    await expect(session.run({})).rejects.toThrow('device lost');
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

describe('adapters', () => {
  const swiftshader = { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true };

  it('names an adapter by vendor and architecture, and marks software ones', () => {
    expect(describeAdapter(swiftshader)).toEqual({
      name: 'webgpu',
      adapter: 'google swiftshader (software)',
      software: true,
    });
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader' }).software).toBe(true);
    expect(describeAdapter({ vendor: 'nvidia', architecture: 'ampere' })).toEqual({
      name: 'webgpu',
      adapter: 'nvidia ampere',
      software: false,
    });
    expect(describeAdapter({ vendor: 'intel', architecture: 'gen-12lp' }, true).software).toBe(true);
  });

  it('finds the default adapter, or says why there is none', async () => {
    const gpu = (info: object | null) => ({
      requestAdapter: async () => info && { info, requestDevice: async () => ({ destroy() {} }) },
    });
    expect(await findAdapter(gpu({ vendor: 'apple', architecture: 'metal-3' }))).toMatchObject({
      adapter: 'apple metal-3',
    });
    expect(await findAdapter(gpu(null))).toBe('the browser offers no adapter');
    expect(await findAdapter(undefined)).toBe('this browser has no WebGPU');
  });

  it('auto takes hardware adapters only; webgpu takes any', () => {
    const software = describeAdapter(swiftshader);
    const hardware = describeAdapter({ vendor: 'amd', architecture: 'rdna-3' });
    expect(pickAdapter('auto', hardware)).toBe(hardware);
    expect(pickAdapter('auto', software)).toMatch(/no hardware WebGPU adapter.*google swiftshader/);
    expect(pickAdapter('webgpu', software)).toBe(software);
    expect(pickAdapter('webgpu', 'the browser offers no adapter')).toBe(
      'WebGPU unavailable: the browser offers no adapter',
    );
  });
});
