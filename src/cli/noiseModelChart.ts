/**
 * `nm.png`: a fitted noise model against the data it was fitted on. Left, the observation against the signal:
 * the model's mean ± std as a band, the data's binned mean ± std as points with bars. Right, the noise std
 * against the signal, model (line) and data (points): where the curves part, the model misdescribes the noise.
 */
import {
  binnedStatistics,
  type NoiseModel,
  noiseModelMoments,
  type SignalObservationPairs,
} from '../index.js';
import { svgToPng, vegaLiteSvg } from './chart.js';

const WIDTH = 340;
const HEIGHT = 260;

/** The chart's vega-lite specification. */
export function noiseModelChartSpec(
  model: NoiseModel,
  pairs: SignalObservationPairs,
  title: string,
): Record<string, unknown> {
  const bins = binnedStatistics(pairs, 40);
  const low = bins[0]?.signal ?? 0;
  const high = bins.at(-1)?.signal ?? 1;
  const grid = Array.from({ length: 101 }, (_, i) => low + ((high - low) * i) / 100);
  const { mean, std } = noiseModelMoments(model, grid);
  const curve = grid.map((signal, i) => ({
    signal,
    mean: mean[i]!,
    low: mean[i]! - std[i]!,
    high: mean[i]! + std[i]!,
    std: std[i]!,
  }));
  const data = bins.map((b) => ({
    signal: b.signal,
    mean: b.observationMean,
    low: b.observationMean - b.observationStd,
    high: b.observationMean + b.observationStd,
    std: b.observationStd,
  }));
  const x = { field: 'signal', type: 'quantitative', title: 'signal', scale: { zero: false } };
  const modelColour = '#1f77b4';
  const dataColour = '#d62728';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' },
    hconcat: [
      {
        width: WIDTH,
        height: HEIGHT,
        title: 'observation: model mean ± std (band), data (points)',
        layer: [
          {
            data: { values: curve },
            mark: { type: 'area', opacity: 0.25, color: modelColour },
            encoding: {
              x,
              y: { field: 'low', type: 'quantitative', title: 'observation' },
              y2: { field: 'high' },
            },
          },
          {
            data: { values: curve },
            mark: { type: 'line', color: modelColour },
            encoding: { x, y: { field: 'mean', type: 'quantitative' } },
          },
          {
            data: { values: data },
            mark: { type: 'rule', color: dataColour },
            encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
          },
          {
            data: { values: data },
            mark: { type: 'point', filled: true, color: dataColour },
            encoding: { x, y: { field: 'mean', type: 'quantitative' } },
          },
        ],
      },
      {
        width: WIDTH,
        height: HEIGHT,
        title: 'noise std: model (line), data (points)',
        layer: [
          {
            data: { values: curve },
            mark: { type: 'line', color: modelColour },
            encoding: { x, y: { field: 'std', type: 'quantitative', title: 'std of observation − signal' } },
          },
          {
            data: { values: data },
            mark: { type: 'point', filled: true, color: dataColour },
            encoding: { x, y: { field: 'std', type: 'quantitative' } },
          },
        ],
      },
    ],
  };
}

/** The chart as PNG bytes. */
export async function noiseModelChartPng(
  model: NoiseModel,
  pairs: SignalObservationPairs,
  title: string,
): Promise<Uint8Array> {
  return svgToPng(await vegaLiteSvg(noiseModelChartSpec(model, pairs, title)));
}
