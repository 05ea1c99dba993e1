import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { isNodeOnly, noNodeImports } from '../../web/noNodeImports.js';

describe('noNodeImports', () => {
  const root = mkdtempSync(join(tmpdir(), 'careamics-web-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const bundle = (source: string) => {
    writeFileSync(join(root, 'entry.js'), source);
    return build({
      root,
      logLevel: 'silent',
      configFile: false,
      plugins: [noNodeImports()],
      build: { write: false, lib: { entry: join(root, 'entry.js'), formats: ['es'] } },
    });
  };

  it('names Node-only modules', () => {
    expect(['node:fs', 'node:path/posix', 'onnxruntime-node'].every(isNodeOnly)).toBe(true);
    expect(['onnxruntime-web', 'fflate', './node.js', 'nodejs'].some(isNodeOnly)).toBe(false);
  });

  it('fails a build that imports node:*', async () => {
    await expect(
      bundle("import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n"),
    ).rejects.toThrow(/"node:fs" is Node-only .*entry\.js/);
  });

  it('fails a build that imports onnxruntime-node', async () => {
    await expect(bundle("export * from 'onnxruntime-node';\n")).rejects.toThrow(
      /"onnxruntime-node" is Node-only/,
    );
  });

  it('lets a browser-safe module through', async () => {
    await expect(bundle('export const x = 1;\n')).resolves.toBeDefined();
  });
});
