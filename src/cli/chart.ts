/**
 * Loss curves: an ASCII chart for the terminal, and `losses.png` drawn by vega-lite → vega's headless SVG
 * renderer (no canvas) → resvg (a prebuilt native binary shipped in its npm package).
 */
import type { EpochRecord } from '../index.js';

export interface Series {
  name: string;
  marker: string;
  /** One value per epoch; `null` where there is none (no validation). */
  values: readonly (number | null)[];
}

const OVERLAP = '@';

/** The train and validation loss per epoch as chart series (validation only when there is one). */
export function lossSeries(history: readonly EpochRecord[]): Series[] {
  const series: Series[] = [{ name: 'train', marker: '*', values: history.map((r) => r.train_loss) }];
  if (history.some((r) => r.val_loss !== null)) {
    series.push({ name: 'val', marker: 'o', values: history.map((r) => r.val_loss) });
  }
  return series;
}

/** The value of `values` at fractional index `x`, linearly between neighbours; null next to a gap. */
function interpolate(values: readonly (number | null)[], x: number): number | null {
  const i = Math.floor(x);
  const a = values[i];
  const b = values[Math.min(i + 1, values.length - 1)];
  if (a === null || a === undefined || b === null || b === undefined) return null;
  return a + (b - a) * (x - i);
}

/**
 * A plain-text line chart of `series` against epoch: `height` rows, `width` columns of plot, a y axis with
 * the min, middle and max values, the first and last epoch below, and a legend.
 */
export function asciiChart(
  series: readonly Series[],
  options: { width?: number; height?: number } = {},
): string {
  const height = options.height ?? 10;
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const finite = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (n === 0 || finite.length === 0) return '(no losses to plot)\n';
  const width = Math.max(2, Math.min(options.width ?? 60, n === 1 ? 2 : Number.POSITIVE_INFINITY));
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  for (const s of series) {
    for (let col = 0; col < width; col++) {
      const v = interpolate(s.values, n === 1 ? 0 : (col * (n - 1)) / (width - 1));
      if (v === null || !Number.isFinite(v)) continue;
      const row = Math.round(((hi - v) / (hi - lo)) * (height - 1));
      const cell = grid[row][col];
      grid[row][col] = cell === ' ' || cell === s.marker ? s.marker : OVERLAP;
    }
  }
  const labels = new Map([
    [0, hi],
    [Math.floor((height - 1) / 2), (hi + lo) / 2],
    [height - 1, lo],
  ]);
  const labelWidth = Math.max(...[...labels.values()].map((v) => formatValue(v).length));
  const lines = grid.map((cells, row) => {
    const label = labels.has(row)
      ? formatValue(labels.get(row)!).padStart(labelWidth)
      : ' '.repeat(labelWidth);
    return `${label} ${labels.has(row) ? '┤' : '│'}${cells.join('')}`.trimEnd();
  });
  const pad = ' '.repeat(labelWidth + 1);
  lines.push(`${pad}└${'─'.repeat(width)}`);
  const first = '1';
  const last = String(n);
  const axis = `epoch ${first}${' '.repeat(Math.max(1, width - first.length - last.length - 6))}${last}`;
  lines.push(`${pad} ${axis}`);
  const legend = series.map((s) => `${s.marker} ${s.name}`).join('   ');
  lines.push(`${pad} ${legend}${series.length > 1 ? `   ${OVERLAP} both` : ''}`);
  return `${lines.join('\n')}\n`;
}

function formatValue(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(3);
}

/** The vega-lite specification of the loss chart. */
export function lossChartSpec(history: readonly EpochRecord[], title: string): Record<string, unknown> {
  const values = lossSeries(history).flatMap((s) =>
    s.values.flatMap((loss, i) => (loss === null ? [] : [{ epoch: i + 1, loss, series: s.name }])),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: 280,
    background: 'white',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' },
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'loss', type: 'quantitative', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** The loss chart as SVG text, rendered by vega without a browser or canvas. */
export function lossChartSvg(history: readonly EpochRecord[], title: string): Promise<string> {
  return vegaLiteSvg(lossChartSpec(history, title));
}

/** A vega-lite specification as SVG text, rendered by vega without a browser or canvas. */
export async function vegaLiteSvg(specification: Record<string, unknown>): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const { spec } = vegaLite.compile(specification as never);
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG to PNG at twice the SVG's size. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
}
