import type { DType } from 'careamics-js';

/** What was read from the opened file, with its axes editable (the one thing a reader may have guessed wrong). */
export function ImageInfo(props: {
  name: string;
  shape: number[];
  dtype: DType;
  range: [number, number];
  axesText: string;
  axesInvalid: boolean;
  disabled: boolean;
  onAxes: (text: string) => void;
}) {
  return (
    <dl class="info" data-testid="info">
      <dt>File</dt>
      <dd>{props.name}</dd>
      <dt>Shape</dt>
      <dd data-testid="shape">{props.shape.join(' × ')}</dd>
      <dt>Type</dt>
      <dd>{props.dtype}</dd>
      <dt>Range</dt>
      <dd>
        {props.range[0].toPrecision(4)} … {props.range[1].toPrecision(4)}
      </dd>
      <dt>Axes</dt>
      <dd>
        <input
          class={props.axesInvalid ? 'invalid' : ''}
          value={props.axesText}
          data-testid="axes"
          disabled={props.disabled}
          onInput={(e) => props.onAxes(e.currentTarget.value)}
          title="Letters from STCZYX, one per dimension, e.g. ZYX or SYX"
        />
      </dd>
    </dl>
  );
}
