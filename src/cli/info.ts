/** `careamics info FILE`: what an image, a configuration or a model (work dir, checkpoint, ONNX, BMZ zip) holds. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { Configuration, RecognisedShape, UNetConfig } from '../config/index.js';
import {
  CAREamist,
  type FrozenModel,
  imageStatistics,
  loadModel,
  type Normalization,
  nodeRuntime,
  onnxFacts,
  openImage,
  type PathKind,
  pathKind,
} from '../node.js';
import { axesOption, type CliContext, loadedAs, readConfig } from './shared.js';

type Info = Record<string, string | number | boolean | null | undefined>;

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(5));
const list = (values: readonly number[]) => `[${values.map(num).join(', ')}]`;

async function imageInfo(path: string, axes?: string): Promise<Info> {
  const source = await openImage(path, axes === undefined ? {} : { axes });
  const stats = await imageStatistics(source);
  return {
    image: path,
    shape: source.shape.join(' × '),
    axes: `${source.axes}${axes === undefined ? ' (from the file, or guessed from the shape; override with --axes)' : ''}`,
    dtype: source.dtype,
    min: num(stats.min),
    max: num(stats.max),
    mean: num(stats.mean),
    std: num(stats.std),
  };
}

function architectureInfo(m: UNetConfig): string {
  return [
    `UNet, depth ${m.depth}, ${m.num_channels_init} initial filters, ${m.conv_dims}D`,
    `${m.in_channels} → ${m.num_classes} channel(s)${m.independent_channels ? ' (independent)' : ''}`,
    m.use_batch_norm ? 'batch norm' : 'no batch norm',
    ...(m.n2v2 ? ['N2V2 (blur-pool, no top skip)'] : []),
  ].join(', ');
}

function configInfo(c: Configuration): Info {
  const a = c.algorithm_config;
  const d = c.data_config;
  const struct = a.algorithm === 'n2v' ? a.n2v_config.struct_mask : null;
  const patch = 'patch_size' in d.patching ? ` patch ${d.patching.patch_size.join('×')},` : '';
  return {
    experiment: c.experiment_name,
    algorithm: `${a.algorithm}${a.model.n2v2 ? ' (N2V2)' : ''}${struct ? ` (structN2V ${struct.axes}, span ${struct.span})` : ''}, loss ${a.loss}`,
    architecture: architectureInfo(a.model),
    data: `axes ${d.axes},${patch} batch ${d.batch_size}, ${d.data_type}`,
    max_epochs: Number(c.training_config.trainer_params.max_epochs ?? 30),
  };
}

/** `0.0.10 to 0.0.15 shape (config version 0.1.0)`: which CAREamics releases write a configuration like this one. */
function recognisedInfo(r: RecognisedShape): string {
  const shape = r.releases === null ? 'no single release’s shape' : `${r.releases} shape`;
  return `${shape} (${r.configVersion === null ? 'no config version' : `config version ${r.configVersion}`})`;
}

function normalizationInfo(n: Normalization | undefined): string | undefined {
  if (!n) return undefined;
  const target =
    n.targetMean && n.targetStd ? `; target mean ${list(n.targetMean)}, std ${list(n.targetStd)}` : '';
  return `mean ${list(n.mean)}, std ${list(n.std)}${target}`;
}

function trainingInfo(model: CAREamist): string | undefined {
  const losses = model.getLosses();
  if (losses.train_epoch.length === 0) return undefined;
  const vals = losses.val_epoch.filter((v): v is number => v !== null);
  const best = vals.length > 0 ? `, best val_loss ${num(Math.min(...vals))}` : '';
  return `${losses.train_epoch.length} epoch(s), last train_loss ${num(losses.train_epoch.at(-1)!)}${best}`;
}

function bmzInfo(model: FrozenModel): Info {
  const bmz = model.bmz!;
  const { rdf, facts } = bmz;
  const n = bmz.normalization;
  return {
    name: String(rdf.name ?? ''),
    description: String(rdf.description ?? ''),
    authors: Array.isArray(rdf.authors)
      ? rdf.authors.map((a) => String((a as { name?: string }).name)).join('; ')
      : '',
    format_version: String(rdf.format_version),
    input: `${facts.inChannels} channel(s) × ${facts.axes}, size ${facts.minSize.join('×')} + n·${facts.step.join('×')}`,
    ...(model.config ? configInfo(model.config) : {}),
    normalization: normalizationInfo(
      n && { mean: n.means, std: n.stds, targetMean: n.targetMeans, targetStd: n.targetStds },
    ),
  };
}

async function modelInfo(path: string, kind: PathKind, loaded: CAREamist | FrozenModel): Promise<Info> {
  const kinds: Partial<Record<PathKind, string>> = {
    run: 'work dir',
    checkpoint: 'checkpoint',
    bmz: 'BMZ package',
  };
  const info: Info = { model: path, kind: kinds[kind] };
  if (kind === 'bmz') info.loads_as = loadedAs(loaded);
  if (loaded instanceof CAREamist) {
    Object.assign(info, configInfo(loaded.config));
    info.parameters = loaded.engineModel?.parameterCount;
    info.normalization = normalizationInfo(loaded.normalization);
    info.training = trainingInfo(loaded);
    const l = loaded.lightning;
    if (l) info.lightning = `epoch ${l.epoch}, global_step ${l.globalStep} (${l.epochsDone} epoch(s) done)`;
    if (kind === 'bmz') await frozenPackageInfo(path, info);
    return info;
  }
  return Object.assign(info, await packageInfo(loaded));
}

/** The package's description and bioimage.io's test, run on its ONNX weights. */
async function packageInfo(loaded: FrozenModel): Promise<Info> {
  const test = await loaded.testPackage(nodeRuntime());
  return {
    ...bmzInfo(loaded),
    test: `${test.passed ? 'passed' : 'FAILED'} (max |Δ| ${test.maxAbsDiff.toExponential(1)})`,
  };
}

/** A trainable package's ONNX side, when it has one: what `--frozen` would load and its test. */
async function frozenPackageInfo(path: string, info: Info): Promise<void> {
  const frozen = await loadModel(path, { frozen: true }).catch(() => undefined);
  if (!frozen) {
    info.onnx = "none (CAREamics' state dict only)";
    return;
  }
  try {
    const { name, description, authors, format_version, test } = await packageInfo(frozen as FrozenModel);
    Object.assign(info, {
      name,
      description,
      authors,
      format_version,
      test,
      onnx: 'also packaged (--frozen)',
    });
  } finally {
    await frozen.dispose();
  }
}

async function onnxInfo(path: string): Promise<Info> {
  const f = onnxFacts(new Uint8Array(await readFile(path)), path);
  return {
    model: path,
    kind: 'ONNX',
    architecture: `${f.is3D ? 3 : 2}D, ${f.inChannels} → ${f.outChannels} channel(s), depth ${f.depth} (from the graph)`,
    weights: `${f.weights} values (batch norm folded into the convolutions)`,
    opset: f.opset,
    normalization: 'not stored in .onnx files; give --mean and --std to predict',
  };
}

function render(info: Info): string {
  const rows = Object.entries(info).filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
}

export function infoCommand(ctx: CliContext): Command {
  return new Command('info')
    .description('describe an image (shape, dtype, axes, statistics), a config or a model')
    .argument('<file>', 'image, config YAML, work dir, .safetensors or .ckpt, .onnx or BMZ .zip')
    .option('--axes <axes>', 'axes of an image (default: from the file, else guessed)', axesOption)
    .option('--json', 'print JSON instead of text')
    .action(async (path: string, o: { axes?: string; json?: boolean }) => {
      const kind = await pathKind(path);
      let info: Info;
      if (kind === 'image') info = await imageInfo(path, o.axes);
      else if (kind === 'config') {
        const { config, warnings, recognised } = await readConfig(path);
        info = {
          config: path,
          careamics_version: recognisedInfo(recognised),
          ...configInfo(config),
          warnings: warnings.join('; '),
        };
      } else if (kind === 'onnx') info = await onnxInfo(path);
      else {
        const loaded = await loadModel(path);
        try {
          info = await modelInfo(path, kind, loaded);
        } finally {
          await loaded.dispose();
        }
      }
      ctx.io.stdout.write(o.json ? `${JSON.stringify(info, null, 2)}\n` : render(info));
    });
}
