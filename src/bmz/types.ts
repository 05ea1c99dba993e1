/** A float32 array in careamics-js' model layout: (B, C, [Z,] Y, X), C order. */
export interface Tensor {
  data: Float32Array;
  shape: readonly number[];
}
