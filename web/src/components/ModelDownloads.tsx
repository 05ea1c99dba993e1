/** Downloads of a model trained here or loaded from a checkpoint, and the normalization its ONNX export expects. */
export function ModelDownloads(props: {
  normalization?: { mean: number[]; std: number[] };
  disabled: boolean;
  onOnnx: () => void;
  onCheckpoint: () => void;
}) {
  const { normalization } = props;
  const format = (values: number[]) => values.map((v) => v.toPrecision(5)).join(', ');
  return (
    <>
      <div class="buttons">
        <button
          type="button"
          data-testid="download-onnx"
          disabled={props.disabled}
          title="The prediction network; inputs are normalized with the training mean and std"
          onClick={props.onOnnx}
        >
          Download model (ONNX)
        </button>
        <button
          type="button"
          data-testid="download-checkpoint"
          disabled={props.disabled}
          title="Weights, configuration and statistics: npx careamics predict <file> <image> loads it, and so does this page"
          onClick={props.onCheckpoint}
        >
          Download checkpoint
        </button>
      </div>
      {normalization && (
        <p class="note" data-testid="normalization">
          The ONNX model expects (x − mean) / std with mean {format(normalization.mean)} and std{' '}
          {format(normalization.std)}; the checkpoint carries them.
        </p>
      )}
    </>
  );
}
