/**
 * Running an imported package: preprocessing, the ONNX graph in an injected ONNX Runtime, postprocessing;
 * and bioimage.io's test (test input → test output within the package's tolerance).
 */
import type { InferenceSession } from 'onnxruntime-common';
import { createSession, type Runtime } from '../engine/runtime.js';
import type { ModelFacts } from '../prediction/types.js';
import { BmzError } from './errors.js';
import type { BmzModelFacts, BmzTolerance, ImportedBmz } from './import.js';
import { compileProcessing, type ProcessingStep } from './processing.js';
import { canonicalAxisIds, canonicalShape, modelShape } from './tensors.js';
import type { Tensor } from './types.js';

export interface BmzPredictor {
  facts: BmzModelFacts;
  /** The facts `predict` of `src/prediction` tiles with (pass no normalization there: `predict` here applies it). */
  tiling: ModelFacts;
  /** Raw (B, C, [Z,] Y, X) in, restored (B, outChannels, [Z,] Y, X) out; sizes must be `min + n·step`. */
  predict(data: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; shape: number[] }>;
  /** Releases the ONNX Runtime session. */
  dispose(): Promise<void>;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function checkShape(facts: BmzModelFacts, data: Float32Array, shape: readonly number[]): void {
  const rank = 2 + facts.minSize.length;
  const layout = `(B, ${facts.inChannels}, ${facts.axes.split('').join(', ')})`;
  if (shape.length !== rank || shape[1] !== facts.inChannels || product(shape) !== data.length)
    throw new BmzError(
      'InvalidInput',
      `input must be ${layout} with matching data, got [${shape}] (${data.length} values)`,
    );
  shape.slice(2).forEach((size, i) => {
    const { minSize, step } = facts;
    const ok =
      step[i] === 0 ? size === minSize[i] : size >= minSize[i] && (size - minSize[i]) % step[i] === 0;
    if (!ok)
      throw new BmzError(
        'InvalidInput',
        `${facts.axes[i]} size ${size} is not valid: use ${step[i] === 0 ? minSize[i] : `${minSize[i]} + n·${step[i]}`}`,
      );
  });
}

/**
 * Compiles the package's ONNX graph and processing into a predictor. `preprocessing` replaces the package's
 * (its steps after a whole-sample standardization the caller applies itself).
 */
export async function createBmzPredictor(
  imported: ImportedBmz,
  runtime: Runtime,
  options: { preprocessing?: readonly ProcessingStep[] } = {},
): Promise<BmzPredictor> {
  const { input, output, facts } = imported;
  const pre = compileProcessing(options.preprocessing ?? input.processing, 'inputs[0].preprocessing');
  const post = compileProcessing(output.processing, 'outputs[0].postprocessing');
  const inAxes = canonicalAxisIds(input);
  const outAxes = canonicalAxisIds(output);
  if (!imported.onnx)
    throw new BmzError(
      'NoOnnxWeights',
      "no ONNX weights (CAREamics' UNet state dict only: load it as a CAREamist)",
      {
        file: imported.source,
      },
    );
  let session: InferenceSession;
  try {
    session = await createSession(runtime, imported.onnx, `${imported.source}: weights.onnx`);
  } catch (cause) {
    throw new BmzError(
      'NoOnnxWeights',
      `${runtime.name} cannot load the ONNX weights: ${(cause as Error).message}`,
      {
        file: imported.source,
        cause,
      },
    );
  }

  /** Runs samples [start, start + count) through pre → ONNX → post. */
  const run = async (data: Float32Array, shape: readonly number[], start: number, count: number) => {
    const sample = product(shape.slice(1));
    const batch = [count, ...shape.slice(1)];
    const x = { data: data.slice(start * sample, (start + count) * sample), shape: batch, axes: inAxes };
    pre(x);
    const fed = new runtime.ort.Tensor('float32', x.data, modelShape(input, batch));
    const results = await session.run({ [session.inputNames[0]]: fed });
    const y = results[session.outputNames[0]];
    const yShape = canonicalShape(output, y.dims, 'ONNX output');
    const out = { data: Float32Array.from(y.data as Float32Array), shape: yShape, axes: outAxes };
    post(out);
    return out;
  };

  return {
    facts,
    tiling: {
      depth: facts.depth ?? 0,
      inChannels: facts.inChannels,
      outChannels: facts.outChannels,
      is3D: facts.is3D,
      receptiveFieldHalo: Math.max(0, ...facts.halo),
    },
    async predict(data, shape) {
      checkShape(facts, data, shape);
      const perRun = input.singleSample ? 1 : shape[0];
      const parts: { data: Float32Array; shape: number[] }[] = [];
      for (let start = 0; start < shape[0]; start += perRun)
        parts.push(await run(data, shape, start, perRun));
      if (parts.length === 1) return { data: parts[0].data, shape: parts[0].shape };
      const merged = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
      let offset = 0;
      for (const p of parts) {
        merged.set(p.data, offset);
        offset += p.data.length;
      }
      return { data: merged, shape: [shape[0], ...parts[0].shape.slice(1)] };
    },
    async dispose() {
      await session.release();
    },
  };
}

export interface BmzTestResult {
  passed: boolean;
  maxAbsDiff: number;
  /** Elements outside |out − expected| ≤ absolute + relative·|expected|. */
  mismatched: number;
  tolerance: BmzTolerance;
}

/** Compares `actual` with `expected` under bioimage.io's reproducibility rule. */
export function compareToTestOutput(
  actual: Tensor,
  expected: Tensor,
  tolerance: BmzTolerance,
): BmzTestResult {
  if (actual.shape.join() !== expected.shape.join())
    return { passed: false, maxAbsDiff: Infinity, mismatched: expected.data.length, tolerance };
  let maxAbsDiff = 0;
  let mismatched = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const diff = Math.abs(actual.data[i] - expected.data[i]);
    if (!(diff <= tolerance.absolute + tolerance.relative * Math.abs(expected.data[i]))) mismatched++;
    if (!(diff <= maxAbsDiff)) maxAbsDiff = diff;
  }
  const allowed = (tolerance.mismatchedPerMillion * expected.data.length) / 1e6;
  return { passed: mismatched <= allowed, maxAbsDiff, mismatched, tolerance };
}

/** bioimage.io's model test: runs the test input and compares with the test output. */
export async function testBmz(imported: ImportedBmz, runtime: Runtime): Promise<BmzTestResult> {
  const { testInput, testOutput } = imported;
  if (!testInput || !testOutput)
    throw new BmzError('MissingFile', 'the package has no test tensors to test with', { file: 'rdf.yaml' });
  const predictor = await createBmzPredictor(imported, runtime);
  try {
    const actual = await predictor.predict(testInput.data, testInput.shape);
    return compareToTestOutput(actual, testOutput, imported.tolerance);
  } finally {
    await predictor.dispose();
  }
}
