import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBmzError } from '../../src/bmz/index.js';
import { importBmzFile, writeBmzFile } from '../../src/bmz/node.js';
import type { Model } from '../../src/engine/index.js';
import { exportTiny, tinyModel } from './fixtures.js';

describe('BMZ file helpers (Node)', () => {
  let dir: string;
  let model: Model;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bmz-'));
    model = await tinyModel();
  });
  afterAll(async () => {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a package atomically (no temporary file left) and imports it back', async () => {
    const path = join(dir, 'model.zip');
    await writeBmzFile(path, await exportTiny(model));
    expect(await readdir(dir)).toEqual(['model.zip']);
    const imported = await importBmzFile(path);
    expect(imported.source).toBe('model.zip');
    expect(imported.facts.depth).toBe(2);
  });

  it('names the file when it is not a package', async () => {
    const path = join(dir, 'notes.zip');
    await writeFile(path, 'hello');
    const err = await importBmzFile(path).catch((e: unknown) => e);
    expect(isBmzError(err, 'NotAZip')).toBe(true);
    expect((err as Error).message).toContain('notes.zip');
  });
});
