import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { extractPlane, percentiles, sliceAxes, toRgba } from '../image.js';

export interface ShownImage {
  data: ArrayLike<number>;
  shape: readonly number[];
  axes: string;
}

const SIZE = 512;

/** The YX plane at `index` drawn with 1–99.8 % percentile contrast into a canvas of the plane's size. */
function renderPlane(image: ShownImage, index: Record<string, number>): HTMLCanvasElement {
  const plane = extractPlane(image.data, image.shape, image.axes, index);
  const [low, high] = percentiles(plane.data, [1, 99.8]);
  const canvas = document.createElement('canvas');
  canvas.width = plane.width;
  canvas.height = plane.height;
  canvas.getContext('2d')!.putImageData(new ImageData(toRgba(plane, low!, high!), plane.width), 0, 0);
  return canvas;
}

function label(ctx: CanvasRenderingContext2D, text: string, x: number): void {
  ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.fillRect(x, 6, 68, 20);
  ctx.fillStyle = '#facc15';
  ctx.font = '13px sans-serif';
  ctx.fillText(text, x + 6, 21);
}

/**
 * A canvas viewer: a slider per non-YX axis, wheel zoom about the cursor, drag to pan and, once a prediction
 * exists, a split slider with the input on the left and the prediction on the right.
 */
export function Viewer({ image, prediction }: { image: ShownImage; prediction?: ShownImage }) {
  const [index, setIndex] = useState<Record<string, number>>({});
  const [view, setView] = useState({ zoom: 1, x: 0, y: 0 });
  const [split, setSplit] = useState(50);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const drag = useRef<{ x: number; y: number } | undefined>(undefined);
  const before = useMemo(() => renderPlane(image, index), [image, index]);
  const after = useMemo(() => prediction && renderPlane(prediction, index), [prediction, index]);

  useEffect(() => {
    setView({ zoom: 1, x: 0, y: 0 });
    setIndex({});
  }, [image.shape, image.axes]);

  useEffect(() => {
    const ctx = canvasRef.current!.getContext('2d')!;
    const fit = Math.min(SIZE / before.width, SIZE / before.height);
    const scale = fit * view.zoom;
    const left = SIZE / 2 + view.x - (before.width * scale) / 2;
    const top = SIZE / 2 + view.y - (before.height * scale) / 2;
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = '#111';
    ctx.fillRect(0, 0, SIZE, SIZE);
    ctx.drawImage(before, left, top, before.width * scale, before.height * scale);
    if (!after) return;
    const splitX = (split / 100) * SIZE;
    ctx.save();
    ctx.beginPath();
    ctx.rect(splitX, 0, SIZE - splitX, SIZE);
    ctx.clip();
    ctx.drawImage(after, left, top, after.width * scale, after.height * scale);
    ctx.restore();
    ctx.fillStyle = '#facc15';
    ctx.fillRect(splitX - 1, 0, 2, SIZE);
    label(ctx, 'input', 6);
    label(ctx, 'denoised', SIZE - 74);
  }, [before, after, view, split]);

  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const rect = canvasRef.current!.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * SIZE - SIZE / 2;
    const py = ((e.clientY - rect.top) / rect.height) * SIZE - SIZE / 2;
    setView((v) => {
      const zoom = Math.min(64, Math.max(0.25, v.zoom * Math.exp(-e.deltaY * 0.002)));
      const k = zoom / v.zoom;
      return { zoom, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
    });
  };
  const onPointerDown = (e: PointerEvent) => {
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY };
  };
  const onPointerMove = (e: PointerEvent) => {
    if (!drag.current) return;
    const rect = canvasRef.current!.getBoundingClientRect();
    const k = SIZE / rect.width;
    const dx = (e.clientX - drag.current.x) * k;
    const dy = (e.clientY - drag.current.y) * k;
    drag.current = { x: e.clientX, y: e.clientY };
    setView((v) => ({ ...v, x: v.x + dx, y: v.y + dy }));
  };

  return (
    <div class="viewer">
      <canvas
        ref={canvasRef}
        width={SIZE}
        height={SIZE}
        data-testid="viewer"
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={() => {
          drag.current = undefined;
        }}
        onDblClick={() => setView({ zoom: 1, x: 0, y: 0 })}
      />
      {prediction && (
        <label class="slider">
          before / after
          <input
            type="range"
            min={0}
            max={100}
            value={split}
            data-testid="split"
            onInput={(e) => setSplit(Number(e.currentTarget.value))}
          />
        </label>
      )}
      {sliceAxes(image.axes).map((axis) => {
        const size = image.shape[image.axes.indexOf(axis)]!;
        return (
          <label class="slider" key={axis}>
            {axis} {(index[axis] ?? 0) + 1}/{size}
            <input
              type="range"
              min={0}
              max={size - 1}
              value={index[axis] ?? 0}
              disabled={size < 2}
              data-testid={`slider-${axis}`}
              onInput={(e) => setIndex({ ...index, [axis]: Number(e.currentTarget.value) })}
            />
          </label>
        );
      })}
      <p class="hint">Wheel to zoom, drag to pan, double-click to reset. Contrast: 1–99.8 percentile.</p>
    </div>
  );
}
