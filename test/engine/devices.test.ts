/**
 * Devices without a GPU: `auto` picks the CPU, a graph the device cannot load runs on the fallback with a
 * warning, and a GPU that fails in the middle of training leaves the last checkpoint whole.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CAREamist,
  createModel,
  createN2VConfig,
  describeAdapter,
  nodeRuntime,
  nodeRuntimeOn,
  RUN_FILES,
  type Runtime,
} from '../../src/node.js';
import { addNoise, cleanImage, source } from '../training/synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'careamics-devices-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** No GPU here, and no software driver named in the environment: what CI and this machine have. */
const noAdapter = describeAdapter() === undefined;

describe('device choice', () => {
  it.skipIf(!noAdapter)('auto runs on the CPU when there is no hardware adapter', async () => {
    const runtime = await nodeRuntimeOn('auto', 1);
    expect(runtime.device).toMatchObject({ name: 'cpu' });
    expect(runtime.sessionOptions?.executionProviders).toBeUndefined();
  });

  it.skipIf(process.arch !== 'x64')(
    'the CPU runtime has the blocked conv kernels of its CPU (AVX2: 8, AVX-512: 16)',
    async () => {
      expect([8, 16]).toContain(await nodeRuntime(1).nchwcBlock!());
    },
  );

  it.skipIf(!noAdapter)('webgpu without an adapter fails in one line that names the way out', async () => {
    const err = (await nodeRuntimeOn('webgpu', 1).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^no WebGPU adapter \(.+\); --device cpu works$/);
    expect(err.message).not.toContain('\n');
  });

  it('a graph the device cannot load runs on the fallback, and says so once per graph', async () => {
    const warnings: string[] = [];
    const cpu = nodeRuntime(1);
    // A device whose provider cannot load anything: the fallback must carry the model.
    const broken: Runtime = {
      ...cpu,
      sessionOptions: { executionProviders: ['no-such-provider'] },
      device: { name: 'webgpu', adapter: 'a provider that loads nothing' },
      fallback: { name: 'the CPU', sessionOptions: cpu.sessionOptions!, warn: (m) => warnings.push(m) },
    };
    const model = await createModel(broken, { architecture: { depth: 1, num_channels_init: 4 }, seed: 1 });
    const shape = [2, 1, 16, 16];
    const data = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
    const mask = Float32Array.from({ length: 512 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const first = await model.trainStep({ input: data, target: data, mask, shape });
    await model.trainStep({ input: data, target: data, mask, shape });
    expect(Number.isFinite(first)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /the train graph for \[2,1,16,16\]: webgpu cannot run it \(.+\); running it on the CPU/,
    );
    await model.dispose();
  });
});

describe('a device that fails in the middle of training', () => {
  it('reports the error and keeps the last checkpoint whole, with no half-written file', async () => {
    const cpu = nodeRuntime(1);
    let runs = 0;
    /** ONNX Runtime whose sessions fail from the 7th run on, as a GPU that was lost would. */
    const failing: Runtime = {
      ...cpu,
      ort: {
        Tensor: cpu.ort.Tensor,
        InferenceSession: {
          async create(bytes, options) {
            const session = await cpu.ort.InferenceSession.create(bytes, options);
            const run = session.run.bind(session);
            return Object.assign(session, {
              run: ((...args: Parameters<typeof run>) => {
                runs++;
                if (runs >= 7) return Promise.reject(new Error('GPU device lost (simulated)'));
                return run(...args);
              }) as typeof session.run,
            });
          },
        },
      },
    };
    const workDir = join(tmp, 'lost');
    const clean = cleanImage(128, 128);
    const careamist = new CAREamist(
      createN2VConfig({
        experimentName: 'lost',
        dataType: 'array',
        axes: 'YX',
        patchSize: [32, 32],
        batchSize: 4,
        numEpochs: 5,
        seed: 3,
      }),
      { workDir, runtime: failing },
    );
    const err = (await careamist
      .train({ trainSource: [source(addNoise(clean, 20, 1), [128, 128])] })
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/GPU device lost/);
    // 16 patches, 8 withheld: an epoch is 2 steps and 2 validation batches. Epoch 1 was saved; epoch 2 failed.
    const files = readdirSync(workDir, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const resumed = await CAREamist.load(workDir);
    expect(resumed.getLosses().train_epoch).toHaveLength(1);
    expect(files).toContain(RUN_FILES.lastCheckpoint);
    await resumed.dispose();
  });
});
