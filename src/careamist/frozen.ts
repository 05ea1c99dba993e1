/**
 * Models that predict only: a BioImage Model Zoo package (its ONNX weights with its own pre- and
 * post-processing) or a bare ONNX graph (normalized with statistics the caller gives). Neither can be trained:
 * their batch norm is folded into the convolutions.
 */
import onnxProto from 'onnx-proto';
import {
  type BmzPredictor,
  canonicalAxisIds,
  createBmzPredictor,
  type ImportedBmz,
  splitSampleStandardization,
  testBmz,
} from '../bmz/index.js';
import type { Configuration } from '../config/index.js';
import { groupedMoments } from '../data/index.js';
import { createSession, type DeviceInfo, type Runtime, runSession } from '../engine/index.js';
import type { ImageSource } from '../io/types.js';
import { type Pn2vOutput, unetHalo } from '../models/index.js';
import {
  type ModelFacts,
  type Normalization,
  type PredictFn,
  resolveLayout,
  type Standardization,
} from '../prediction/index.js';
import { CAREamistError, TiledModel } from './tiled.js';

/** A package's leading `zero_mean_unit_variance`, computed on the whole image before tiling. */
interface WholeImageStandardization {
  /** Each sample (S, T, [Z] index: bioimage.io's batch) its own statistics, unless the step reduces batch. */
  perSample: boolean;
  /** Each channel its own statistics, unless the step reduces channel. */
  perChannel: boolean;
  eps: number;
}

export class FrozenModel extends TiledModel {
  private constructor(
    readonly kind: 'bmz' | 'onnx',
    /** Where the model came from, for messages. */
    readonly source: string,
    readonly facts: ModelFacts,
    readonly axes: string | undefined,
    readonly normalization: Normalization | undefined,
    private readonly run: PredictFn,
    private readonly release: () => Promise<void>,
    readonly device: DeviceInfo | undefined,
    /** The imported package, for BMZ models: its description, test tensors and statistics. */
    readonly bmz?: ImportedBmz,
    private readonly wholeImage?: WholeImageStandardization,
  ) {
    super();
  }

  /** bioimage.io's per-sample statistics are the whole sample's, not a tile's: computed before tiling. */
  protected override async standardizationFor(
    source: ImageSource,
    signal?: AbortSignal,
  ): Promise<Standardization | undefined> {
    if (!this.wholeImage) return undefined;
    const { perSample, perChannel, eps } = this.wholeImage;
    const layout = resolveLayout(source.axes, source.shape, this.facts, source.name);
    const sampleAxes = perSample ? layout.iterAxes : [];
    const channelAxes = perChannel && layout.channelAxis >= 0 ? [layout.channelAxis] : [];
    const moments = await groupedMoments(source, [...sampleAxes, ...channelAxes], { signal });
    const groupChannels = channelAxes.length === 1 ? source.shape[layout.channelAxis]! : 1;
    const samples = moments.mean.length / groupChannels;
    const per = (values: number[]) =>
      Array.from({ length: samples }, (_, k) =>
        Array.from(
          { length: this.facts.inChannels },
          (_, c) => values[k * groupChannels + (groupChannels === 1 ? 0 : c)]!,
        ),
      );
    return { mean: per(moments.mean), std: per(moments.std), eps };
  }

  /** The CAREamics configuration a package carries (`careamics.yaml`), when it has one. */
  get config(): Configuration | undefined {
    return this.bmz?.config;
  }

  protected network(pn2vOutput?: Pn2vOutput): PredictFn {
    if (pn2vOutput !== undefined)
      throw new CAREamistError(
        `pn2vOutput: a ${this.kind} model's graph is fixed (a pn2v export already holds its output); predict from the checkpoint to choose`,
      );
    return this.run;
  }

  dispose(): Promise<void> {
    return this.release();
  }

  /** A BMZ package's model, with its processing steps; tiles follow its input size rule. */
  static async fromBmz(bmz: ImportedBmz, runtime: Runtime): Promise<FrozenModel> {
    const { facts } = bmz;
    if (facts.step.every((s) => s === 0)) {
      throw new CAREamistError(
        `${bmz.source}: inputs[0] has a fixed size [${facts.minSize}]; careamics-js tiles models whose input size grows in steps (min + n·step), not fixed-size ones`,
      );
    }
    if (facts.depth === undefined) {
      throw new CAREamistError(
        `${bmz.source}: the input size step [${facts.step}] is not a power of two; cannot tile this model`,
      );
    }
    const standardization = splitSampleStandardization(bmz.input.processing, 'inputs[0].preprocessing');
    const wholeImage =
      standardization && wholeImageStandardization(bmz, standardization.axes, standardization.eps);
    const predictor: BmzPredictor = await createBmzPredictor(bmz, runtime, {
      preprocessing: standardization?.rest,
    });
    return new FrozenModel(
      'bmz',
      bmz.source,
      predictor.tiling,
      bmz.config?.data_config.axes,
      undefined,
      (batch, shape) => predictor.predict(batch, shape),
      () => predictor.dispose(),
      runtime.device,
      bmz,
      wholeImage,
    );
  }

  /** A bare ONNX UNet (e.g. `careamist.exportOnnx()`), normalized with the training statistics given. */
  static async fromOnnx(
    bytes: Uint8Array,
    source: string,
    runtime: Runtime,
    normalization: Normalization,
  ): Promise<FrozenModel> {
    const facts = onnxFacts(bytes, source);
    const session = await createSession(runtime, bytes, source);
    const [inputName] = session.inputNames;
    const [outputName] = session.outputNames;
    return new FrozenModel(
      'onnx',
      source,
      facts,
      undefined,
      normalization,
      async (batch, shape) => {
        const out = await runSession(runtime, session, { [inputName]: { data: batch, dims: shape } });
        return { data: out[outputName].data, shape: [...out[outputName].dims] };
      },
      () => session.release(),
      runtime.device,
    );
  }

  /** bioimage.io's test of a package: its test input reproduces its test output. */
  async testPackage(runtime: Runtime) {
    if (!this.bmz) throw new CAREamistError(`${this.source}: only BMZ packages carry a test`);
    return testBmz(this.bmz, runtime);
  }
}

/** Which statistics a step reducing `axes` (default all but batch) asks for; spatial axes must all be reduced. */
function wholeImageStandardization(
  bmz: ImportedBmz,
  axes: string[] | undefined,
  eps: number,
): WholeImageStandardization {
  const [batch, channel, ...spatial] = canonicalAxisIds(bmz.input);
  const reduced = axes ?? [channel!, ...spatial];
  const kept = spatial.filter((id) => !reduced.includes(id));
  if (kept.length > 0) {
    throw new CAREamistError(
      `${bmz.source}: inputs[0].preprocessing zero_mean_unit_variance keeps axes [${kept}] apart; careamics-js standardizes over whole images (all of ${spatial.join(', ')})`,
    );
  }
  return { perSample: !reduced.includes(batch!), perChannel: !reduced.includes(channel!), eps };
}

export interface OnnxFacts extends ModelFacts {
  /** Weight values in the graph's initializers. */
  weights: number;
  opset: number;
}

/** Facts of an ONNX UNet from its graph: channels and rank from the input, depth from the upsampling nodes. */
export function onnxFacts(bytes: Uint8Array, source: string): OnnxFacts {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new CAREamistError(`${source}: not a valid ONNX file (${(cause as Error).message})`, { cause });
  }
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const input = graph?.input?.find((i) => !initializers.has(i.name));
  const dims = input?.type?.tensorType?.shape?.dim ?? [];
  const output = graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4 && dims.length !== 5) {
    throw new CAREamistError(
      `${source}: the input "${input?.name}" must be (B, C, [Z,] Y, X), it has ${dims.length} axes`,
    );
  }
  const count = (ops: string[]) => (graph?.node ?? []).filter((n) => ops.includes(n.opType ?? '')).length;
  const depth = count(['Resize', 'Upsample', 'ConvTranspose']) || count(['MaxPool']);
  const staticDim = (d: onnxProto.onnx.TensorShapeProto.IDimension | undefined) =>
    d?.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : undefined;
  const inChannels = staticDim(dims[1]);
  if (inChannels === undefined) {
    throw new CAREamistError(`${source}: the input's channel axis has no fixed size`);
  }
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
