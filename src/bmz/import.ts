/**
 * `importBmz`: reads a BioImage Model Zoo package (format 0.5, ONNX weights, or CAREamics' UNet state dict
 * without them), verifying every file hash, and returns what prediction and tiling need. careamics-js packages,
 * CAREamics' and other 0.5 models with the supported processing steps (see `SUPPORTED_PROCESSING`) load alike.
 */
import { strFromU8, unzipSync } from 'fflate';
import { parse } from 'yaml';
import { type Configuration, loadConfigYaml, type UNetConfig } from '../config/index.js';
import { decodeNpy } from '../io/npy.js';
import { BmzError } from './errors.js';
import { sha256Hex } from './hash.js';
import { BMZ_EPS, compileProcessing, type ProcessingStep } from './processing.js';
import type { BmzNormalization } from './rdf.js';
import { canonicalShape, parseTensor, type SpatialAxis, type TensorSpec } from './tensors.js';
import type { Tensor } from './types.js';

/** What tiling needs to know about a model; sizes and halo are per spatial axis, (Z,) Y, X. */
export interface BmzModelFacts {
  /** log2 of the size step when it is a power of two (a UNet's depth), else undefined. */
  depth: number | undefined;
  inChannels: number;
  outChannels: number;
  is3D: boolean;
  /** Spatial axis letters, `YX` or `ZYX`. */
  axes: string;
  minSize: number[];
  /** 0 where the size is fixed. */
  step: number[];
  halo: number[];
}

/** bioimage.io's reproducibility check: |out − expected| ≤ absolute + relative·|expected|. */
export interface BmzTolerance {
  relative: number;
  absolute: number;
  mismatchedPerMillion: number;
}

export interface ImportedBmz {
  /** Where the package came from, for messages. */
  source: string;
  rdf: Record<string, unknown>;
  /** The ONNX weights; absent when the package has only CAREamics' UNet state dict. */
  onnx?: Uint8Array;
  /** CAREamics' UNet state dict (a `torch.save` file), when the package carries one (with or without ONNX). */
  careamicsStateDict?: Uint8Array;
  input: TensorSpec;
  output: TensorSpec;
  facts: BmzModelFacts;
  /** Mean/std pre- and postprocessing as statistics, when the package normalizes that way. */
  normalization?: BmzNormalization;
  /** The attached `careamics.yaml`, when there is one and it is valid. */
  config?: Configuration;
  architecture?: UNetConfig;
  /** Test tensors as (B, C, [Z,] Y, X) float32. */
  testInput?: Tensor;
  testOutput?: Tensor;
  tolerance: BmzTolerance;
  warnings: string[];
}

const RDF_NAMES = ['rdf.yaml', 'bioimageio.yaml'];
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
const normalizePath = (s: string) => s.replace(/^\.\//, '');

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** An entry name that would land outside the package's folder if extracted: `..` segments, absolute paths. */
const escapesFolder = (name: string) => /^([/\\]|[a-z]:)/i.test(name) || name.split(/[/\\]/).includes('..');

/** The package's files; refuses a damaged archive in one line, and entries escaping the package's folder. */
function unzip(bytes: Uint8Array, source: string): Record<string, Uint8Array> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (cause) {
    const zipLike = ZIP_MAGIC.every((b, i) => bytes[i] === b);
    const what = zipLike ? 'a truncated or damaged zip archive' : 'not a zip archive';
    throw new BmzError('NotAZip', `${what} (${(cause as Error).message})`, { file: source, cause });
  }
  const escaping = Object.keys(files).find(escapesFolder);
  if (escaping !== undefined)
    throw new BmzError('UnsafeEntry', `the entry "${escaping}" points outside the package; refusing it`, {
      file: source,
    });
  return files;
}

function readRdf(files: Record<string, Uint8Array>): { name: string; rdf: Record<string, unknown> } {
  const name =
    RDF_NAMES.find((n) => n in files) ??
    Object.keys(files).find((n) => !n.includes('/') && n.endsWith('.bioimageio.yaml'));
  if (!name) throw new BmzError('MissingFile', 'the package has no model description', { file: 'rdf.yaml' });
  let rdf: unknown;
  try {
    rdf = parse(strFromU8(files[name]));
  } catch (cause) {
    throw new BmzError('BadYaml', `malformed YAML: ${(cause as Error).message}`, { file: name, cause });
  }
  if (!isRecord(rdf)) throw new BmzError('BadYaml', 'the YAML is not a mapping', { file: name });
  if (rdf.type !== 'model')
    throw new BmzError('InvalidRdf', `type is "${rdf.type}", not "model"`, { file: name });
  if (typeof rdf.format_version !== 'string' || !rdf.format_version.startsWith('0.5.'))
    throw new BmzError('InvalidRdf', `format_version ${rdf.format_version} is not supported (0.5.x only)`, {
      file: name,
    });
  return { name, rdf };
}

/** Every `{source, sha256?}` in the description (the free-form `config` aside), plus documentation and covers. */
function fileReferences(rdf: Record<string, unknown>): { source: string; sha256?: string }[] {
  const refs: { source: string; sha256?: string }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isRecord(v)) {
      if (typeof v.source === 'string')
        refs.push({ source: v.source, sha256: typeof v.sha256 === 'string' ? v.sha256 : undefined });
      for (const value of Object.values(v)) walk(value);
    }
  };
  for (const [key, value] of Object.entries(rdf)) if (key !== 'config') walk(value);
  if (typeof rdf.documentation === 'string') refs.push({ source: rdf.documentation });
  if (Array.isArray(rdf.covers))
    for (const c of rdf.covers) if (typeof c === 'string') refs.push({ source: c });
  return refs.filter((r) => !isUrl(r.source));
}

async function verifyFiles(rdf: Record<string, unknown>, files: Record<string, Uint8Array>): Promise<void> {
  for (const { source, sha256 } of fileReferences(rdf)) {
    const bytes = files[normalizePath(source)];
    if (!bytes)
      throw new BmzError('MissingFile', 'listed in rdf.yaml but not in the package', { file: source });
    if (sha256 === undefined) continue;
    const actual = await sha256Hex(bytes);
    if (actual !== sha256.toLowerCase())
      throw new BmzError('HashMismatch', `sha256 is ${actual}, rdf.yaml says ${sha256}`, { file: source });
  }
}

/** `from <import_from> import <callable>` (or `<source>:<callable>`), for messages. */
function architectureName(architecture: unknown): string {
  if (!isRecord(architecture)) return 'no architecture';
  const from = architecture.import_from ?? architecture.source;
  return `${typeof from === 'string' ? `${from}.` : ''}${String(architecture.callable)}`;
}

/** CAREamics' UNet, as CAREamics' BMZ export names it (`careamics.models.unet`, callable `UNet`). */
const isCareamicsUNet = (architecture: unknown) =>
  isRecord(architecture) &&
  architecture.callable === 'UNet' &&
  typeof architecture.import_from === 'string' &&
  /^careamics\.models(\.|$)/.test(architecture.import_from);

function packagedFile(files: Record<string, Uint8Array>, source: string, what: string): Uint8Array {
  if (isUrl(source))
    throw new BmzError('MissingFile', `${what} given by URL; download the full package`, { file: source });
  return files[normalizePath(source)];
}

/** The ONNX weights and CAREamics' UNet state dict, either or both; a package with neither is refused. */
function packagedWeights(
  rdf: Record<string, unknown>,
  files: Record<string, Uint8Array>,
): { onnx?: Uint8Array; careamicsStateDict?: Uint8Array } {
  const weights = isRecord(rdf.weights) ? rdf.weights : {};
  const { onnx, pytorch_state_dict: torch } = weights;
  const careamicsStateDict =
    isRecord(torch) && typeof torch.source === 'string' && isCareamicsUNet(torch.architecture)
      ? packagedFile(files, torch.source, 'PyTorch weights')
      : undefined;
  if (isRecord(onnx) && typeof onnx.source === 'string') {
    if (onnx.external_data != null)
      throw new BmzError('NoOnnxWeights', 'ONNX weights with external data are not supported', {
        file: onnx.source,
      });
    return { onnx: packagedFile(files, onnx.source, 'ONNX weights'), careamicsStateDict };
  }
  if (careamicsStateDict) return { careamicsStateDict };
  const formats = Object.keys(weights).filter((k) => weights[k] != null);
  const torchNote = isRecord(torch)
    ? `; its pytorch_state_dict architecture ${architectureName(torch.architecture)} is not CAREamics' UNet`
    : '';
  throw new BmzError(
    'NoOnnxWeights',
    `no ONNX weights (the package has: ${formats.join(', ') || 'none'})${torchNote}`,
    { file: 'rdf.yaml' },
  );
}

function testTensor(descr: unknown, spec: TensorSpec, files: Record<string, Uint8Array>, where: string) {
  const ref = isRecord(descr) && isRecord(descr.test_tensor) ? descr.test_tensor : undefined;
  if (!ref || typeof ref.source !== 'string' || isUrl(ref.source)) return undefined;
  const file = normalizePath(ref.source);
  try {
    const array = decodeNpy(files[file], file);
    const data = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
    return { data, shape: canonicalShape(spec, array.shape, where) };
  } catch (cause) {
    if (cause instanceof BmzError) throw cause;
    throw new BmzError('InvalidRdf', `cannot read the test tensor: ${(cause as Error).message}`, {
      file,
      cause,
    });
  }
}

function tolerance(rdf: Record<string, unknown>, outputId: string): BmzTolerance {
  const config = isRecord(rdf.config) && isRecord(rdf.config.bioimageio) ? rdf.config.bioimageio : {};
  const entries = Array.isArray(config.reproducibility_tolerance) ? config.reproducibility_tolerance : [];
  const applies = (list: unknown, value: string) =>
    !Array.isArray(list) || list.length === 0 || list.includes(value);
  const t = entries.find(
    (e) => isRecord(e) && applies(e.output_ids, outputId) && applies(e.weights_formats, 'onnx'),
  );
  const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
  return {
    relative: num(t?.relative_tolerance, 1e-3),
    absolute: num(t?.absolute_tolerance, 1e-3),
    mismatchedPerMillion: num(t?.mismatched_elements_per_million, 100),
  };
}

const repeat = (v: unknown, n: number): number[] =>
  Array.isArray(v) ? v.map(Number) : new Array(n).fill(Number(v));

/** Mean/std statistics from `fixed_zero_mean_unit_variance` and its inverse (scale_linear or CAREamics' form). */
function normalizationOf(pre: ProcessingStep[], post: ProcessingStep[], cin: number, cout: number) {
  const norm = pre.find((s) => s.id === 'fixed_zero_mean_unit_variance')?.kwargs;
  if (!norm) return undefined;
  const out: BmzNormalization = { means: repeat(norm.mean, cin), stds: repeat(norm.std, cin) };
  const inverse = post.find((s) => s.id === 'scale_linear' || s.id === 'fixed_zero_mean_unit_variance');
  if (inverse?.id === 'scale_linear') {
    out.targetStds = repeat(inverse.kwargs?.gain ?? 1, cout).map((g) => g - BMZ_EPS);
    out.targetMeans = repeat(inverse.kwargs?.offset ?? 0, cout);
  } else if (inverse) {
    // CAREamics writes y·(std+eps)+mean as (y − m')/(s'+eps) with m' = −mean/(std+eps), s' = 1/(std+eps) − eps.
    const s = repeat(inverse.kwargs?.std, cout);
    out.targetStds = s.map((v) => 1 / (v + BMZ_EPS) - BMZ_EPS);
    out.targetMeans = repeat(inverse.kwargs?.mean, cout).map((m, i) => -m / (s[i] + BMZ_EPS));
  }
  return out;
}

function attachedConfig(rdf: Record<string, unknown>, files: Record<string, Uint8Array>, warnings: string[]) {
  const attachments = Array.isArray(rdf.attachments) ? rdf.attachments : [];
  const ref = attachments.find(
    (a) => isRecord(a) && typeof a.source === 'string' && /(^|\/)careamics\.yaml$/.test(a.source),
  );
  if (!isRecord(ref)) return undefined;
  const file = normalizePath(String(ref.source));
  try {
    const { config, warnings: w } = loadConfigYaml(strFromU8(files[file]));
    warnings.push(...w.map((m) => `${file}: ${m}`));
    return config;
  } catch (err) {
    warnings.push(`${file}: not a valid CAREamics configuration, ignored (${(err as Error).message})`);
    return undefined;
  }
}

function factsOf(input: TensorSpec, output: TensorSpec): BmzModelFacts {
  const step = input.spatial.map((s) => s.step);
  const depths = step.map((s) => Math.log2(s));
  const depth = depths.every((d) => Number.isInteger(d) && d === depths[0]) ? depths[0] : undefined;
  return {
    depth,
    inChannels: input.channelNames.length,
    outChannels: output.channelNames.length,
    is3D: input.spatial.length === 3,
    axes: input.spatial.map((s) => s.id.toUpperCase()).join(''),
    minSize: input.spatial.map((s) => s.min),
    step,
    halo: output.spatial.map((s) => s.halo),
  };
}

/**
 * Opens a package (zip bytes). Throws `BmzError` naming the file when it is not a zip, rdf.yaml is missing or
 * malformed, a listed file is missing or its sha256 differs, there are neither ONNX weights nor CAREamics' UNet
 * state dict, or a processing step or axis layout is not supported.
 */
export async function importBmz(zip: Uint8Array, source = '<memory>'): Promise<ImportedBmz> {
  const files = unzip(zip, source);
  const { rdf } = readRdf(files);
  await verifyFiles(rdf, files);
  const weights = packagedWeights(rdf, files);
  const inputs = Array.isArray(rdf.inputs) ? rdf.inputs : [];
  const outputs = Array.isArray(rdf.outputs) ? rdf.outputs : [];
  if (inputs.length !== 1 || outputs.length !== 1)
    throw new BmzError(
      'UnsupportedAxes',
      `${inputs.length} inputs and ${outputs.length} outputs; careamics-js runs one of each`,
      {
        file: 'rdf.yaml',
      },
    );
  const input = parseTensor(inputs[0], 'inputs[0]', 'inputs', new Map());
  const refs = new Map<string, SpatialAxis>(input.spatial.map((s) => [`${input.id}.${s.id}`, s]));
  const output = parseTensor(outputs[0], 'outputs[0]', 'outputs', refs);
  compileProcessing(input.processing, 'inputs[0].preprocessing');
  compileProcessing(output.processing, 'outputs[0].postprocessing');
  const warnings: string[] = [];
  const config = attachedConfig(rdf, files, warnings);
  const facts = factsOf(input, output);
  return {
    source,
    rdf,
    ...weights,
    input,
    output,
    facts,
    normalization: normalizationOf(input.processing, output.processing, facts.inChannels, facts.outChannels),
    config,
    architecture: config?.algorithm_config.model,
    testInput: testTensor(inputs[0], input, files, 'inputs[0].test_tensor'),
    testOutput: testTensor(outputs[0], output, files, 'outputs[0].test_tensor'),
    tolerance: tolerance(rdf, output.id),
    warnings,
  };
}
