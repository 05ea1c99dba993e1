import type { TargetedEvent } from 'preact';
import { useState } from 'preact/hooks';

const IMAGE_ACCEPT = '.tif,.tiff,.png,.npy';
const MODEL_ACCEPT = '.safetensors,.zip';

/** A file input's change handler that passes on the chosen file. */
const withChosenFile = (use: (file: File) => void) => (e: TargetedEvent<HTMLInputElement>) => {
  const file = e.currentTarget.files?.[0];
  if (file) use(file);
};

/** The drop zone and file input for an image, and the file input for a trained model. */
export function FilePickers(props: {
  disabled: boolean;
  onImage: (file: File) => void;
  onModel: (file: File) => void;
}) {
  const [dragging, setDragging] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer?.files[0];
    if (file) props.onImage(file);
  };
  return (
    <>
      <label
        class={`drop${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <strong>Drop an image here</strong> or click to choose (TIFF, PNG, NPY)
        <input
          type="file"
          accept={IMAGE_ACCEPT}
          data-testid="file"
          disabled={props.disabled}
          onChange={withChosenFile(props.onImage)}
        />
      </label>
      <label class="load-model">
        …or load a trained model (checkpoint .safetensors, BMZ .zip) to denoise without training
        <input
          type="file"
          accept={MODEL_ACCEPT}
          data-testid="model-file"
          disabled={props.disabled}
          onChange={withChosenFile(props.onModel)}
        />
      </label>
    </>
  );
}
