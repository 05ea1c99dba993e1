/**
 * What a MODEL argument is (a work dir, a checkpoint, an ONNX file, a BMZ zip, a config or an image), and the
 * one shape every model takes for prediction: a `PredictFn`, the facts tiling needs, and the normalization
 * applied around it.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { type BmzModelFacts, createBmzPredictor, type ImportedBmz } from '../bmz/index.js';
import { importBmzFile } from '../bmz/node.js';
import { type Runtime, runSession } from '../engine/index.js';
import { unetHalo } from '../models/index.js';
import { CAREamist, nodeRuntime, toPredictionNormalization } from '../node.js';
import type { ModelFacts, Normalization, PredictFn } from '../prediction/index.js';
import { CliError, UsageError } from './errors.js';

export type PathKind = 'run' | 'checkpoint' | 'onnx' | 'bmz' | 'config' | 'image';

/** Classifies a path by what is on disk: folders by their content, files by extension. */
export async function pathKind(path: string): Promise<PathKind> {
  const info = await stat(path).catch((cause) => {
    throw new CliError(`${path}: no such file or directory`, { cause });
  });
  const ext = extname(path).toLowerCase();
  if (info.isDirectory()) {
    if (/\.zarr\/?$/i.test(path)) return 'image';
    if (await stat(join(path, 'checkpoints', 'last.safetensors')).catch(() => undefined)) return 'run';
    throw new CliError(
      `${path}: a folder without checkpoints/last.safetensors (not a trained work dir; train into it first)`,
    );
  }
  if (ext === '.safetensors') return 'checkpoint';
  if (ext === '.onnx') return 'onnx';
  if (ext === '.zip') return 'bmz';
  if (ext === '.yaml' || ext === '.yml') return 'config';
  return 'image';
}

export interface LoadedModel {
  kind: 'run' | 'checkpoint' | 'onnx' | 'bmz';
  facts: ModelFacts;
  /** The axes the model was trained on, the default for images; unknown for bare ONNX. */
  axes?: string;
  /** Applied around `predictFn` by tiling; absent when the model normalizes itself (BMZ). */
  normalization?: Normalization;
  predictFn: PredictFn;
  careamist?: CAREamist;
  bmz?: ImportedBmz;
  dispose(): Promise<void>;
}

/** Mean and std per channel given on the command line for an ONNX model. */
export interface ManualNormalization {
  mean?: number[];
  std?: number[];
}

export async function loadModel(path: string, manual: ManualNormalization = {}): Promise<LoadedModel> {
  const kind = await pathKind(path);
  if (kind === 'config') {
    throw new UsageError(
      `${path}: a configuration, not a trained model; train it first (careamics train ${path} …)`,
    );
  }
  if (kind === 'image') {
    throw new UsageError(
      `${path}: not a model; give a work dir, a .safetensors checkpoint, an .onnx file or a BMZ .zip`,
    );
  }
  if (kind !== 'onnx' && (manual.mean ?? manual.std) !== undefined) {
    throw new UsageError('--mean and --std apply to .onnx models only; the others carry their statistics');
  }
  if (kind === 'onnx') return loadOnnx(path, manual);
  if (kind === 'bmz') return loadBmz(path);
  return loadCheckpoint(path, kind);
}

async function loadCheckpoint(path: string, kind: 'run' | 'checkpoint'): Promise<LoadedModel> {
  const careamist = await CAREamist.load(path);
  const stats = careamist.statistics;
  const model = careamist.engineModel;
  if (!stats || !model) throw new CliError(`${path}: the checkpoint has no normalization statistics`);
  return {
    kind,
    facts: careamist.modelFacts,
    axes: careamist.config.data_config.axes,
    normalization: toPredictionNormalization(stats),
    predictFn: (batch, shape) => model.predict(batch, shape),
    careamist,
    dispose: async () => undefined,
  };
}

function bmzFacts(facts: BmzModelFacts, source: string): ModelFacts {
  if (facts.depth === undefined) {
    throw new CliError(
      `${source}: the input size step [${facts.step}] is not a power of two; cannot tile this model`,
    );
  }
  return {
    depth: facts.depth,
    inChannels: facts.inChannels,
    outChannels: facts.outChannels,
    is3D: facts.is3D,
    receptiveFieldHalo: Math.max(0, ...facts.halo),
  };
}

async function loadBmz(path: string): Promise<LoadedModel> {
  const bmz = await importBmzFile(path);
  const predictor = await createBmzPredictor(bmz, nodeRuntime());
  return {
    kind: 'bmz',
    facts: bmzFacts(bmz.facts, path),
    axes: bmz.config?.data_config.axes,
    predictFn: async (batch, shape) => {
      const out = await predictor.predict(batch, shape);
      return { data: out.data, shape: [...out.shape] };
    },
    bmz,
    dispose: () => predictor.dispose(),
  };
}

/** Facts of an ONNX UNet from its graph: channels and rank from the input, depth from the upsampling nodes. */
export function onnxFacts(
  bytes: Uint8Array,
  source: string,
): ModelFacts & { weights: number; opset: number } {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new CliError(`${source}: not a valid ONNX file (${(cause as Error).message})`, { cause });
  }
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const input = graph?.input?.find((i) => !initializers.has(i.name));
  const dims = input?.type?.tensorType?.shape?.dim ?? [];
  const output = graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4 && dims.length !== 5) {
    throw new CliError(
      `${source}: the input "${input?.name}" must be (B, C, [Z,] Y, X), it has ${dims.length} axes`,
    );
  }
  const count = (ops: string[]) => (graph?.node ?? []).filter((n) => ops.includes(n.opType ?? '')).length;
  const depth = count(['Resize', 'Upsample', 'ConvTranspose']) || count(['MaxPool']);
  const staticDim = (d: onnxProto.onnx.TensorShapeProto.IDimension | undefined) =>
    d?.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : undefined;
  const inChannels = staticDim(dims[1]);
  if (inChannels === undefined) throw new CliError(`${source}: the input's channel axis has no fixed size`);
  const weights = (graph?.initializer ?? []).reduce(
    (n, t) => n + (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1),
    0,
  );
  return {
    depth,
    inChannels,
    outChannels: staticDim(output[1]) ?? inChannels,
    is3D: dims.length === 5,
    receptiveFieldHalo: unetHalo({ depth, n2v2: false }),
    weights,
    opset: Number(model.opsetImport?.find((o) => !o.domain)?.version ?? 0),
  };
}

async function loadOnnx(path: string, manual: ManualNormalization): Promise<LoadedModel> {
  if (manual.mean === undefined || manual.std === undefined) {
    throw new UsageError(
      `${path}: an .onnx model needs --mean and --std (the training statistics); work dirs, checkpoints and BMZ zips carry them`,
    );
  }
  const bytes = new Uint8Array(await readFile(path));
  const facts = onnxFacts(bytes, path);
  const runtime: Runtime = nodeRuntime();
  const session = await runtime.ort.InferenceSession.create(bytes, runtime.sessionOptions).catch((cause) => {
    throw new CliError(`${path}: ONNX Runtime cannot load it (${(cause as Error).message.split('\n')[0]})`, {
      cause,
    });
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  return {
    kind: 'onnx',
    facts,
    normalization: { mean: manual.mean, std: manual.std },
    predictFn: async (batch, shape) => {
      const out = await runSession(runtime, session, { [inputName]: { data: batch, dims: shape } });
      return { data: out[outputName].data, shape: [...out[outputName].dims] };
    },
    dispose: () => session.release(),
  };
}
