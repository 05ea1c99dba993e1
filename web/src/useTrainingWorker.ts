import type { Device } from 'careamics-js';
import { useEffect, useRef } from 'preact/hooks';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * The worker that trains and predicts. ORT's backend is chosen once per worker, so `switchDevice` replaces the worker
 * when the device changes. Messages go to the latest `onMessage` (it closes over the component's current state).
 */
export function useTrainingWorker(
  initialDevice: Device,
  onMessage: (message: FromWorker) => void,
  onFailure: (message: string) => void,
) {
  const worker = useRef<Worker | undefined>(undefined);
  const device = useRef(initialDevice);
  const handlers = useRef({ onMessage, onFailure });
  handlers.current = { onMessage, onFailure };

  const start = (wanted: Device) => {
    worker.current?.terminate();
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<FromWorker>) => handlers.current.onMessage(e.data);
    w.onerror = (e) => handlers.current.onFailure(`the training worker failed: ${e.message}`);
    worker.current = w;
    device.current = wanted;
  };

  useEffect(() => {
    start(initialDevice);
    return () => worker.current?.terminate();
  }, []);

  return {
    send: (message: ToWorker) => worker.current!.postMessage(message),
    /** Starts a fresh worker when `wanted` differs from the current worker's device. */
    switchDevice: (wanted: Device) => {
      if (wanted !== device.current) start(wanted);
    },
  };
}
