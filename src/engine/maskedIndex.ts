/**
 * The masked pixels of a batch as flat spatial indices per patch and channel, for the pn2v loss's gather.
 * Their number per patch varies (the stratified grid drops points past the border, and a replacement equal to the
 * original is not masked), and a graph's input shape is fixed, so rows are padded with unmasked pixels (weight 0
 * in the loss) to a power of two: a session serves every batch whose rows fit, and few sizes ever get built.
 */
export interface MaskedIndices {
  /** (rows, perRow) int64, row-major. */
  data: BigInt64Array;
  perRow: number;
}

/** `mask` is (rows, pixels) row-major, 0 or 1; `minPerRow` lets a caller keep the size a session was built for. */
export function maskedIndices(
  mask: Float32Array,
  rows: number,
  pixels: number,
  minPerRow = 0,
): MaskedIndices {
  let most = 0;
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let p = r * pixels; p < (r + 1) * pixels; p++) if (mask[p] !== 0) n++;
    most = Math.max(most, n);
  }
  const perRow = Math.min(pixels, Math.max(minPerRow, 2 ** Math.ceil(Math.log2(Math.max(most, 8)))));
  const data = new BigInt64Array(rows * perRow);
  for (let r = 0; r < rows; r++) {
    const row = mask.subarray(r * pixels, (r + 1) * pixels);
    let j = r * perRow;
    for (let p = 0; p < pixels; p++) if (row[p] !== 0) data[j++] = BigInt(p);
    for (let p = 0; j < (r + 1) * perRow; p++) if (row[p] === 0) data[j++] = BigInt(p);
  }
  return { data, perRow };
}
