/**
 * Runs in a child process whose environment points the Vulkan loader at SwiftShader (set before start: the
 * loader reads it once). For each case: one training step with the same state and batch on the CPU and on
 * WebGPU, then predictions with the same weights; prints the largest differences as one JSON line.
 */
import type { UNetConfig } from '../../src/config/index.js';
import {
  buildTrainingGraph,
  createModel,
  createSession,
  describeModel,
  type Runtime,
  runSession,
} from '../../src/engine/index.js';
import { nodeRuntime, nodeRuntimeOn } from '../../src/engine/node.js';
import { DEFAULT_UNET, initialBuffers, initialParameters } from '../../src/models/index.js';
import { mulberry32 } from '../helpers/gradcheck.js';

interface Case {
  name: string;
  architecture: Partial<UNetConfig>;
  shape: number[];
  /** Also compare an SGD-with-momentum step (its update is the gradient, scaled: no Adam normalization). */
  sgd?: boolean;
}

const CASES: Case[] = [
  { name: 'n2v-2d-default', architecture: {}, shape: [2, 1, 16, 16], sgd: true },
  { name: 'n2v2-2d', architecture: { n2v2: true }, shape: [2, 1, 16, 16] },
  {
    name: 'n2v-3d-small',
    architecture: { conv_dims: 3, depth: 1, num_channels_init: 8 },
    shape: [1, 1, 4, 8, 8],
  },
];

const only = process.argv[2];
const random = (n: number, seed: number) => {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => next() * 2 - 1);
};

/**
 * Updates as params_out − params carry the parameter's float32 rounding (1 ulp of a weight near 1 is 1.2e-7, a
 * tenth of an Adam step of 1e-3): differences within two ulps of the parameter count as equal.
 */
function updateDiff(
  a: Float32Array,
  b: Float32Array,
  params: Float32Array,
  keep: (i: number) => boolean,
): number {
  const update = (out: Float32Array, i: number) => out[i]! - params[i]!;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < params.length; i++) {
    if (!keep(i)) continue;
    const ulps = 2 * 2 ** -23 * Math.max(Math.abs(params[i]!), Math.abs(a[i]!));
    diff = Math.max(diff, Math.abs(update(a, i) - update(b, i)) - ulps);
    scale = Math.max(scale, Math.abs(update(b, i)));
  }
  return Math.max(0, diff) / scale;
}

/** max |a − b| / (max |b| over the tensor), or over the given indices only. */
function relativeDiff(a: Float32Array, b: Float32Array, keep?: (i: number) => boolean): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (keep && !keep(i)) continue;
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

async function trainStep(
  runtime: Runtime,
  graph: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
) {
  const session = await createSession(runtime, graph, 'the training graph');
  try {
    return await runSession(runtime, session, feeds);
  } finally {
    await session.release();
  }
}

const cpu = nodeRuntime(2);
const gpu = await nodeRuntimeOn('webgpu', 2);
const results: Record<string, unknown>[] = [];
for (const c of CASES.filter((c) => !only || c.name === only)) {
  const started = performance.now();
  const d = describeModel({ ...DEFAULT_UNET, ...c.architecture });
  const graph = buildTrainingGraph(d, {
    inputShape: c.shape,
    loss: 'n2v',
    optimizer: { name: 'Adam' },
    exposeGradients: true,
  });
  const size = c.shape.reduce((a, b) => a * b, 1);
  const mask = Float32Array.from(random(size, 3), (v) => (v > 0.6 ? 1 : 0));
  const params = initialParameters(d.parameters, d.parameterLayout, 7);
  const feeds = {
    input: { data: random(size, 1), dims: c.shape },
    target: { data: random(size, 2), dims: c.shape },
    mask: { data: mask, dims: c.shape },
    params: { data: params, dims: [params.length] },
    ...(d.bufferLayout.size > 0
      ? { buffers: { data: initialBuffers(d.buffers, d.bufferLayout), dims: [d.bufferLayout.size] } }
      : {}),
    exp_avg: { data: new Float32Array(params.length), dims: [params.length] },
    exp_avg_sq: { data: new Float32Array(params.length), dims: [params.length] },
    lr: { data: Float32Array.of(1e-3), dims: [] },
    step: { data: Float32Array.of(1), dims: [] },
  };
  const onCpu = await trainStep(cpu, graph, feeds);
  const onGpu = await trainStep(gpu, graph, feeds);
  // A conv bias right before batch norm has a gradient of exactly zero in exact arithmetic (the mean removes
  // it); what remains is rounding noise, which Adam scales to ±lr with the noise's sign on each device.
  const noiseOnly = new Set<number>();
  for (const e of d.parameterLayout.entries) {
    if (d.architecture.use_batch_norm && /\.conv\d\.bias$/.test(e.name)) {
      const { offset, size: n } = d.parameterLayout.get(e.name);
      for (let i = offset; i < offset + n; i++) noiseOnly.add(i);
    }
  }
  const signal = (i: number) => !noiseOnly.has(i);
  const gradScale = onCpu.grads!.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let gradDiff = 0;
  for (let i = 0; i < onCpu.grads!.data.length; i++) {
    gradDiff = Math.max(gradDiff, Math.abs(onCpu.grads!.data[i]! - onGpu.grads!.data[i]!));
  }
  // Adam's first step is lr·g/(|g| + eps): for |g| near eps it turns rounding into visible differences, so the
  // update is compared where the gradient carries signal (≥ 1e-3 of the largest), and SGD's update everywhere.
  const strong = (i: number) => signal(i) && Math.abs(onCpu.grads!.data[i]!) >= 1e-3 * gradScale;
  let sgdUpdateDiff: number | undefined;
  if (c.sgd) {
    const sgdGraph = buildTrainingGraph(d, {
      inputShape: c.shape,
      loss: 'n2v',
      optimizer: { name: 'SGD', parameters: { momentum: 0.9 } },
    });
    const { exp_avg: _, exp_avg_sq: __, ...common } = feeds;
    const sgdFeeds = {
      ...common,
      momentum_buffer: { data: new Float32Array(params.length), dims: [params.length] },
    };
    const sgdCpu = await trainStep(cpu, sgdGraph, sgdFeeds);
    const sgdGpu = await trainStep(gpu, sgdGraph, sgdFeeds);
    sgdUpdateDiff = updateDiff(sgdGpu.params_out.data, sgdCpu.params_out.data, params, signal);
  }

  // Prediction: the same weights on both devices, then the weights after two WebGPU steps on both.
  const predictShape = [1, ...c.shape.slice(1, 2), ...c.shape.slice(2).map((s) => s * 2)];
  const image = random(
    predictShape.reduce((a, b) => a * b, 1),
    9,
  );
  const cpuModel = await createModel(cpu, { architecture: c.architecture, seed: 7 });
  const gpuModel = await createModel(gpu, { architecture: c.architecture, seed: 7 });
  const predictions = async () => {
    const a = await cpuModel.predict(
      image.subarray(
        0,
        predictShape.reduce((x, y) => x * y, 1),
      ),
      predictShape,
    );
    const b = await gpuModel.predict(
      image.subarray(
        0,
        predictShape.reduce((x, y) => x * y, 1),
      ),
      predictShape,
    );
    return relativeDiff(b.data, a.data);
  };
  const predictBefore = await predictions();
  const batch = { input: feeds.input.data, target: feeds.target.data, mask, shape: c.shape };
  const gpuLosses = [await gpuModel.trainStep(batch), await gpuModel.trainStep(batch)];
  // The GPU model's state stayed on the device between its steps; a plain model trained the same way (its
  // state uploaded and downloaded every step) must agree exactly, and reading the state back must not change it.
  const staysOnDevice = (() => {
    try {
      void gpuModel.state;
      return false;
    } catch {
      return true;
    }
  })();
  await gpuModel.syncState();
  const roundTrip = await createModel(
    { ...gpu, device: { name: 'cpu', adapter: 'host round trip' } },
    {
      architecture: c.architecture,
      seed: 7,
    },
  );
  const roundTripLosses = [await roundTrip.trainStep(batch), await roundTrip.trainStep(batch)];
  const residentDiff = relativeDiff(gpuModel.state.params, roundTrip.state.params);
  await roundTrip.dispose();
  cpuModel.loadState(gpuModel.saveState());
  const predictAfter = await predictions();
  await cpuModel.dispose();
  await gpuModel.dispose();

  results.push({
    case: c.name,
    loss: [onCpu.loss.data[0], onGpu.loss.data[0]],
    lossDiff: Math.abs(onCpu.loss.data[0]! - onGpu.loss.data[0]!) / Math.abs(onCpu.loss.data[0]!),
    gradDiff: gradDiff / gradScale,
    adamUpdateDiff: updateDiff(onGpu.params_out.data, onCpu.params_out.data, params, strong),
    sgdUpdateDiff,
    noiseOnlyParameters: noiseOnly.size,
    weakGradients: params.reduce((n, _, i) => n + (signal(i) && !strong(i) ? 1 : 0), 0),
    exp_avg_sq: relativeDiff(onGpu.exp_avg_sq_out.data, onCpu.exp_avg_sq_out.data, signal),
    buffersDiff: onCpu.buffers_out ? relativeDiff(onGpu.buffers_out!.data, onCpu.buffers_out.data) : 0,
    predictBefore,
    predictAfter,
    gpuLosses,
    staysOnDevice,
    roundTripLosses,
    residentDiff,
    seconds: (performance.now() - started) / 1000,
  });
}
console.log(JSON.stringify({ device: gpu.device, results }));
