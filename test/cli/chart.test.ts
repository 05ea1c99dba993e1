import { describe, expect, it } from 'vitest';
import { asciiChart, lossChartSvg, lossSeries, svgToPng } from '../../src/cli/chart.js';
import { bar, eta, formatDuration, ProgressBar } from '../../src/cli/progress.js';
import type { EpochRecord } from '../../src/training/trainer.js';
import { captureStream } from './helpers.js';

const record = (epoch: number, train: number, val: number | null): EpochRecord => ({
  epoch,
  step: epoch * 10,
  train_loss: train,
  val_loss: val,
  lr: 1e-3,
  seconds: 1,
});

describe('asciiChart', () => {
  const history = [record(0, 1, 1.2), record(1, 0.5, 0.8), record(2, 0.25, 0.7)];

  it('puts the largest value on the top row and the smallest on the bottom row', () => {
    const lines = asciiChart(lossSeries(history), { width: 21, height: 5 }).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ ?1\.20 ┤o/);
    expect(lines[4]).toMatch(/^0\.250 ┤.*\*$/);
    expect(lines[0].indexOf('o')).toBe(lines[4].indexOf('┤') + 1);
    expect(lines.at(-3)).toContain(`└${'─'.repeat(21)}`);
    expect(lines.at(-2)).toMatch(/epoch 1 +3$/);
    expect(lines.at(-1)).toContain('* train   o val');
  });

  it('draws only the training loss when there is no validation', () => {
    const chart = asciiChart(lossSeries([record(0, 2, null), record(1, 1, null)]), { width: 10, height: 3 });
    expect(chart).not.toContain('o val');
    expect(chart.split('\n')[0]).toMatch(/┤\*/);
  });

  it('handles a single epoch and a flat curve', () => {
    const chart = asciiChart(lossSeries([record(0, 1, 1)]), { height: 3 });
    expect(chart).toContain('@');
    expect(asciiChart([])).toBe('(no losses to plot)\n');
  });
});

describe('losses.png', () => {
  it('renders vega-lite to SVG without a canvas, then to PNG', async () => {
    const svg = await lossChartSvg([record(0, 1, 1.2), record(1, 0.5, 0.8)], 'run: losses');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('run: losses');
    const png = await svgToPng(svg);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});

describe('progress', () => {
  it('formats bars, durations and ETAs', () => {
    expect(bar(5, 10, 10)).toBe('[█████░░░░░]');
    expect(bar(20, 10, 4)).toBe('[████]');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(Number.NaN)).toBe('?');
    expect(eta(10, 5, 20)).toBe(30);
  });

  it('prints throttled plain lines when not on a terminal', () => {
    let now = 0;
    const out = captureStream(false);
    const progress = new ProgressBar(out, () => now);
    progress.update('a');
    now = 1000;
    progress.update('b');
    progress.update('c', true);
    now = 7000;
    progress.update('d');
    progress.log('epoch done');
    expect(out.text).toBe('a\nc\nd\nepoch done\n');
  });

  it('redraws in place on a terminal and keeps logged lines above the bar', () => {
    let now = 0;
    const out = captureStream(true);
    const progress = new ProgressBar(out, () => now);
    progress.update('step 1');
    now = 200;
    progress.update('step 2');
    progress.log('epoch 1');
    progress.done();
    expect(out.text).toBe('\r\x1b[2Kstep 1\r\x1b[2Kstep 2\r\x1b[2Kepoch 1\n\r\x1b[2Kstep 2\r\x1b[2K');
  });
});
