import type { ComponentChildren } from 'preact';

/** A progress bar with its caption (training steps, prediction tiles, noise-model fitting). */
export function ProgressBar(props: {
  testId: string;
  value: number;
  max: number;
  children: ComponentChildren;
}) {
  return (
    <div class="progress" data-testid={props.testId}>
      <progress value={props.value} max={props.max} />
      <span>{props.children}</span>
    </div>
  );
}
