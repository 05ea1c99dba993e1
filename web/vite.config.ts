import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { noNodeImports } from './noNodeImports.js';

const browserEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** Cross-origin isolation: without it browsers refuse SharedArrayBuffer and ORT runs single-threaded. */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [noNodeImports(), preact()],
  // The app is a client of the package's browser entry, built from source here.
  resolve: { alias: [{ find: /^careamics-js$/, replacement: browserEntry }] },
  worker: { format: 'es', plugins: () => [noNodeImports()] },
  // ORT locates its .wasm/.mjs through the URLs we give it; pre-bundling would break that.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
});
