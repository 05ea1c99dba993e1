import type { Device } from 'careamics-js';
import type { Algorithm, StructAxis, TrainSettings } from '../protocol.js';

interface Props {
  settings: TrainSettings;
  is3D: boolean;
  disabled: boolean;
  onChange(settings: TrainSettings): void;
}

/** Algorithm and training settings, CAREamics' defaults preset. */
export function Settings({ settings, is3D, disabled, onChange }: Props) {
  const set = <K extends keyof TrainSettings>(key: K, value: TrainSettings[K]) =>
    onChange({ ...settings, [key]: value });
  const number = (
    key: 'patchSize' | 'patchSizeZ' | 'batchSize' | 'epochs' | 'valPatches' | 'structSpan' | 'seed',
    label: string,
    step = 1,
  ) => (
    <label>
      {label}
      <input
        type="number"
        min={1}
        step={step}
        value={settings[key]}
        data-testid={key}
        onInput={(e) => set(key, Number(e.currentTarget.value))}
      />
    </label>
  );
  return (
    <fieldset class="settings" disabled={disabled}>
      <legend>Training</legend>
      <label>
        Algorithm
        <select
          value={settings.algorithm}
          data-testid="algorithm"
          onChange={(e) => set('algorithm', e.currentTarget.value as Algorithm)}
        >
          <option value="n2v">Noise2Void</option>
          <option value="n2v2">N2V2 (no checkerboard)</option>
          <option value="structn2v">structN2V (striped noise)</option>
        </select>
      </label>
      {settings.algorithm === 'structn2v' && (
        <>
          <label>
            Mask axis
            <select
              value={settings.structAxis}
              onChange={(e) => set('structAxis', e.currentTarget.value as StructAxis)}
            >
              <option value="horizontal">horizontal</option>
              <option value="vertical">vertical</option>
            </select>
          </label>
          {number('structSpan', 'Mask span')}
        </>
      )}
      {number('patchSize', 'Patch size (YX)', 8)}
      {is3D && number('patchSizeZ', 'Patch size (Z)', 4)}
      {number('batchSize', 'Batch size')}
      {number('epochs', 'Epochs')}
      {number('valPatches', 'Validation patches')}
      {number('seed', 'Seed')}
      <label title="Auto: a hardware GPU through WebGPU when there is one, else WebAssembly. WebGPU: any adapter, a software one (a CPU emulating a GPU: slow) too">
        Device
        <select
          value={settings.device}
          data-testid="device"
          onChange={(e) => set('device', e.currentTarget.value as Device)}
        >
          <option value="auto">auto (GPU when there is one)</option>
          <option value="webgpu">WebGPU (any adapter)</option>
          <option value="cpu">WebAssembly (CPU)</option>
        </select>
      </label>
    </fieldset>
  );
}
