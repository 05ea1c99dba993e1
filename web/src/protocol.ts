/** Messages between the page and the training worker. */
import type { Device, EpochRecord, NoiseModel, StepProgress } from 'careamics-js';

/** What the page asks for a BioImage Model Zoo package. */
export interface BmzDetails {
  name: string;
  authors: string[];
  description: string;
}

export type Algorithm = 'n2v' | 'n2v2' | 'structn2v';
export type StructAxis = 'horizontal' | 'vertical';

export interface TrainSettings {
  algorithm: Algorithm;
  structAxis: StructAxis;
  structSpan: number;
  /** YX patch edge (square), and the Z patch edge for 3-D images. */
  patchSize: number;
  patchSizeZ: number;
  batchSize: number;
  epochs: number;
  /** Patches held out for validation (CAREamics' `n_val_patches`). */
  valPatches: number;
  /** `auto`: a hardware WebGPU adapter if there is one, else WebAssembly; `webgpu`: any adapter, software too. */
  device: Device;
  /** Seeds patching, masking, augmentation and the initial weights: the same image and settings give the same model. */
  seed: number;
}

export type ToWorker =
  | { type: 'train'; file: Blob; name: string; axes: string; settings: TrainSettings }
  | { type: 'stop' }
  | { type: 'load-model'; file: Blob; name: string; device: Device }
  | { type: 'predict'; file: Blob; name: string; axes: string }
  /** Bootstraps a noise model from the held N2V model and the image, trains pn2v with `settings`, predicts MMSE. */
  | { type: 'improve-pn2v'; file: Blob; name: string; axes: string; settings: TrainSettings }
  | { type: 'export-onnx'; pn2v?: boolean }
  | { type: 'export-checkpoint'; pn2v?: boolean }
  | { type: 'export-bmz'; details: BmzDetails };

export type FromWorker =
  | { type: 'backend'; note: string }
  | { type: 'step'; progress: StepProgress }
  | { type: 'epoch'; record: EpochRecord }
  | {
      type: 'trained';
      stopped: boolean;
      /** Per-channel mean and std that inputs of the exported ONNX model are normalized with. */
      normalization?: { mean: number[]; std: number[] };
    }
  | {
      type: 'loaded';
      name: string;
      kind: 'checkpoint' | 'bmz';
      /** The axes the model was trained on, when known. */
      axes?: string;
      normalization?: { mean: number[]; std: number[] };
    }
  | { type: 'predict-progress'; done: number; total: number }
  | { type: 'predicted'; data: Float32Array; shape: number[]; axes: string }
  | { type: 'model'; format: 'onnx' | 'safetensors' | 'zip'; bytes: Uint8Array; pn2v?: boolean }
  | { type: 'pn2v-stage'; stage: 'bootstrapping' | 'training' | 'predicting' }
  | { type: 'fit-progress'; epoch: number; epochs: number; loss: number }
  | { type: 'noise-model'; model: NoiseModel; pairs: number; warnings: string[] }
  | { type: 'pn2v-predicted'; data: Float32Array; shape: number[]; axes: string }
  | { type: 'pn2v-stopped' }
  | { type: 'error'; message: string };
