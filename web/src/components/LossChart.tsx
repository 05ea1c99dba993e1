import type { EpochRecord } from 'careamics-js';

const W = 360;
const H = 180;
const PAD = { left: 52, right: 12, top: 12, bottom: 28 };

/** Train and validation loss per epoch as an SVG line chart (no chart library for two polylines). */
export function LossChart({ history, epochs }: { history: EpochRecord[]; epochs: number }) {
  const values = history.flatMap((r) => [r.train_loss, ...(r.val_loss === null ? [] : [r.val_loss])]);
  const lo = values.length > 0 ? Math.min(...values) : 0;
  const hi = values.length > 0 ? Math.max(...values) : 1;
  const span = hi > lo ? hi - lo : Math.abs(hi) || 1;
  const xMax = Math.max(epochs, history.length, 2);
  const x = (epoch: number) => PAD.left + ((epoch - 1) / (xMax - 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - lo) / span) * (H - PAD.top - PAD.bottom);
  const line = (pick: (r: EpochRecord) => number | null) =>
    history
      .filter((r) => pick(r) !== null)
      .map((r) => `${x(r.epoch + 1).toFixed(1)},${y(pick(r)!).toFixed(1)}`)
      .join(' ');
  const series = [
    { name: 'train', color: '#2563eb', pick: (r: EpochRecord) => r.train_loss },
    { name: 'val', color: '#ea580c', pick: (r: EpochRecord) => r.val_loss },
  ];
  return (
    <svg
      class="loss-chart"
      data-testid="loss-chart"
      data-points={history.length}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label="loss per epoch"
    >
      <rect x={PAD.left} y={PAD.top} width={W - PAD.left - PAD.right} height={H - PAD.top - PAD.bottom} />
      <text x={PAD.left - 6} y={PAD.top + 4} text-anchor="end">
        {values.length > 0 ? hi.toPrecision(3) : ''}
      </text>
      <text x={PAD.left - 6} y={H - PAD.bottom} text-anchor="end">
        {values.length > 0 ? lo.toPrecision(3) : ''}
      </text>
      <text x={PAD.left} y={H - 8}>
        1
      </text>
      <text x={W - PAD.right} y={H - 8} text-anchor="end">
        {xMax}
      </text>
      <text x={(W + PAD.left) / 2} y={H - 8} text-anchor="middle">
        epoch
      </text>
      {series.map((s) => (
        <g key={s.name} stroke={s.color} fill={s.color}>
          <polyline points={line(s.pick)} fill="none" stroke-width="2" />
          {history
            .filter((r) => s.pick(r) !== null)
            .map((r) => (
              <circle key={r.epoch} cx={x(r.epoch + 1)} cy={y(s.pick(r)!)} r="2.5" />
            ))}
        </g>
      ))}
      {series.map((s, i) => (
        <text key={s.name} x={W - PAD.right - 4} y={PAD.top + 14 + i * 14} text-anchor="end" fill={s.color}>
          {s.name} loss
        </text>
      ))}
    </svg>
  );
}
