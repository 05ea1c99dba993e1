import { DataError } from './errors.js';

/** Where the channel axis sits in a C-order array: `outer` blocks of `channels` runs of `inner` values. */
export interface ChannelLayout {
  outer: number;
  channels: number;
  inner: number;
}

export function checkAxes(shape: readonly number[], axes: string): void {
  if (axes.length !== shape.length) {
    throw new DataError('AxesMismatch', `axes "${axes}" do not match shape [${shape.join(', ')}]`);
  }
  if (new Set(axes).size !== axes.length || !/^[STCZYX]+$/.test(axes) || !axes.includes('YX')) {
    throw new DataError('InvalidAxes', `axes "${axes}" must be distinct letters of STCZYX with YX adjacent`);
  }
}

/** The channel layout of an array with the given axes (no `C` axis means one channel). */
export function channelLayout(shape: readonly number[], axes: string): ChannelLayout {
  checkAxes(shape, axes);
  const c = axes.indexOf('C');
  const prod = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  if (c < 0) return { outer: prod(0, shape.length), channels: 1, inner: 1 };
  return { outer: prod(0, c), channels: shape[c], inner: prod(c + 1, shape.length) };
}

/** Calls `fn(channel, start, end)` for every contiguous run of one channel's values. */
export function forEachChannelRun(
  layout: ChannelLayout,
  fn: (channel: number, start: number, end: number) => void,
): void {
  const { outer, channels, inner } = layout;
  if (inner === 1 && channels === 1) {
    fn(0, 0, outer);
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < channels; ch++) {
      const start = (o * channels + ch) * inner;
      fn(ch, start, start + inner);
    }
  }
}
