/** The web form's settings as a CAREamics configuration. */
import { type Configuration, createN2VConfig } from 'careamics-js';
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
};

export function configFor(
  settings: TrainSettings,
  name: string,
  axes: string,
  shape: readonly number[],
): Configuration {
  const c = axes.indexOf('C');
  const p = settings.patchSize;
  return createN2VConfig({
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
    ...(c >= 0 ? { nChannels: shape[c] } : {}),
  });
}
