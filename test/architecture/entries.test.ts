/**
 * The command line and the web app are clients of the package's public entries, not of its internals: the CLI
 * imports `src/index.ts`, `src/node.ts` and `src/config/` (for its option parsing); the web app imports the
 * browser entry by name, `careamics-js`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts'))
    .map((name) => join(folder, name));
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\sfrom\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => m[1]!);
}

/** Imports of `folder`'s files that leave it for something not in `allowed` (paths relative to the root). */
function strayImports(folder: string, allowed: (target: string) => boolean): string[] {
  const stray: string[] = [];
  for (const file of sourceFiles(folder)) {
    for (const spec of specifiers(file)) {
      if (!spec.startsWith('.')) {
        if (!allowed(spec)) stray.push(`${file} → ${spec}`);
        continue;
      }
      const target = relative(root, resolve(root, dirname(file), spec));
      if (!target.startsWith(`${folder}/`) && !allowed(target)) stray.push(`${file} → ${target}`);
    }
  }
  return stray;
}

describe('clients of the public entries', () => {
  it('src/cli imports only the package entries, src/config and packages', () => {
    const entries = ['src/index.js', 'src/node.js', 'src/config/index.js'];
    const stray = strayImports('src/cli', (t) => entries.includes(t) || !t.startsWith('src/'));
    expect(stray).toEqual([]);
  });

  it('web/src imports only careamics-js and packages', () => {
    const stray = strayImports('web/src', (t) => !t.startsWith('src/') && !t.startsWith('web/'));
    expect(stray).toEqual([]);
  });

  it('would notice a stray import', () => {
    // The scan itself: a file of the CLI that reached into the engine would be listed.
    expect(specifiers('test/architecture/entries.test.ts')).toContain('node:fs');
    const stray = strayImports('src/cli', (t) => t === 'src/node.js' || !t.startsWith('src/'));
    expect(stray.some((s) => s.endsWith('src/index.js') || s.endsWith('src/config/index.js'))).toBe(true);
  });
});
