import { type NoiseModel, noiseModelMoments } from 'careamics-js';

const W = 360;
const H = 180;
const PAD = { left: 52, right: 12, top: 12, bottom: 28 };
const POINTS = 48;

/** A fitted noise model: the observation's mean ± std against the signal, over the model's signal range. */
export function NoiseModelPlot({ model, pairs }: { model: NoiseModel; pairs: number }) {
  const [lo, hi] = model.model_type === 'GaussianNoiseModel' ? [0, 1] : [model.min_signal, model.max_signal];
  const signals = Array.from({ length: POINTS }, (_, i) => lo + ((hi - lo) * i) / (POINTS - 1));
  const { mean, std } = noiseModelMoments(model, signals);
  const top = Math.max(...signals.map((_, i) => mean[i]! + std[i]!));
  const bottom = Math.min(...signals.map((_, i) => mean[i]! - std[i]!));
  const span = top > bottom ? top - bottom : 1;
  const x = (s: number) => PAD.left + ((s - lo) / (hi - lo || 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - bottom) / span) * (H - PAD.top - PAD.bottom);
  const path = (offset: (i: number) => number) =>
    signals.map((s, i) => `${x(s).toFixed(1)},${y(mean[i]! + offset(i)).toFixed(1)}`).join(' ');
  const band = `${path((i) => std[i]!)} ${path((i) => -std[i]!)
    .split(' ')
    .reverse()
    .join(' ')}`;
  const stds = Array.from(std);
  const summary =
    model.model_type === 'GaussianNoiseModel'
      ? `σ ${model.sigma.toPrecision(3)}`
      : `${model.n_gaussian} Gaussian${model.n_gaussian > 1 ? 's' : ''}, ${pairs} pixel pairs; noise std ` +
        `${Math.min(...stds).toPrecision(3)}–${Math.max(...stds).toPrecision(3)} over signal ` +
        `${lo.toPrecision(4)}–${hi.toPrecision(4)}`;
  return (
    <figure class="noise-model" data-testid="noise-model">
      <svg
        class="loss-chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label="noise model: mean ± std vs signal"
      >
        <rect x={PAD.left} y={PAD.top} width={W - PAD.left - PAD.right} height={H - PAD.top - PAD.bottom} />
        <polygon points={band} fill="#2563eb" fill-opacity="0.2" stroke="none" />
        <polyline points={path(() => 0)} fill="none" stroke="#2563eb" stroke-width="2" />
        <text x={PAD.left - 6} y={PAD.top + 4} text-anchor="end">
          {top.toPrecision(3)}
        </text>
        <text x={PAD.left - 6} y={H - PAD.bottom} text-anchor="end">
          {bottom.toPrecision(3)}
        </text>
        <text x={PAD.left} y={H - 8}>
          {lo.toPrecision(3)}
        </text>
        <text x={W - PAD.right} y={H - 8} text-anchor="end">
          {hi.toPrecision(3)}
        </text>
        <text x={(W + PAD.left) / 2} y={H - 8} text-anchor="middle">
          signal → observation mean ± std
        </text>
      </svg>
      <figcaption data-testid="noise-model-summary">{summary}</figcaption>
    </figure>
  );
}
