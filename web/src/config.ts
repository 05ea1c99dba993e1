/** The web form's settings as a CAREamics configuration. */
import { type Configuration, createN2VConfig, createPN2VConfig, type NoiseModel } from 'careamics-js';
import type { TrainSettings } from './protocol.js';

/** CAREamics' defaults for the form (the factories' epochs; the patch and batch of the N2V examples). */
export const DEFAULT_SETTINGS: TrainSettings = {
  algorithm: 'n2v',
  structAxis: 'horizontal',
  structSpan: 5,
  patchSize: 64,
  patchSizeZ: 16,
  batchSize: 16,
  epochs: 30,
  valPatches: 8,
  device: 'auto',
  seed: 42,
};

export function configFor(
  settings: TrainSettings,
  name: string,
  axes: string,
  shape: readonly number[],
  /** Given: the pn2v configuration of the same settings, with this noise model. */
  noiseModel?: NoiseModel,
): Configuration {
  const c = axes.indexOf('C');
  const p = settings.patchSize;
  const options: Parameters<typeof createN2VConfig>[0] = {
    experimentName: name.replace(/\.[^.]*$/, '').replace(/[^\w-]+/g, '_') || 'web',
    dataType: 'array',
    axes,
    patchSize: axes.includes('Z') ? [settings.patchSizeZ, p, p] : [p, p],
    batchSize: settings.batchSize,
    numEpochs: settings.epochs,
    nValPatches: settings.valPatches,
    useN2V2: settings.algorithm === 'n2v2',
    structN2VAxis: settings.algorithm === 'structn2v' ? settings.structAxis : 'none',
    structN2VSpan: settings.structSpan,
    seed: settings.seed,
    ...(c >= 0 ? { nChannels: shape[c] } : {}),
  };
  return noiseModel ? createPN2VConfig({ ...options, noiseModel }) : createN2VConfig(options);
}
