import type { Plugin } from 'vite';

/** Modules a browser bundle must never contain: Node built-ins (`node:*`) and ORT's native Node binding. */
export function isNodeOnly(id: string): boolean {
  return id.startsWith('node:') || id === 'onnxruntime-node' || id.startsWith('onnxruntime-node/');
}

/**
 * Fails the build when anything imports a Node-only module, naming the importer: the library's browser entry
 * (`src/index.ts`) promises to be browser-safe, and this is where that promise is checked.
 */
export function noNodeImports(): Plugin {
  return {
    name: 'careamics:no-node-imports',
    enforce: 'pre',
    resolveId(id, importer) {
      if (isNodeOnly(id)) {
        this.error(
          `"${id}" is Node-only and cannot be bundled for the browser (imported by ${importer ?? 'an entry'})`,
        );
      }
      return null;
    },
  };
}
