import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBmzError } from '../../src/bmz/index.js';
import type { Model } from '../../src/engine/index.js';
import { type FrozenModel, loadModel, writeFileAtomic } from '../../src/node.js';
import { exportTiny, tinyModel } from './fixtures.js';

describe('BMZ packages on disk (Node)', () => {
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
    await writeFileAtomic(path, [await exportTiny(model)]);
    expect(await readdir(dir)).toEqual(['model.zip']);
    const loaded = (await loadModel(path)) as FrozenModel;
    expect(loaded.kind).toBe('bmz');
    expect(loaded.bmz?.source).toBe(path);
    expect(loaded.facts.depth).toBe(2);
    await loaded.dispose();
  });

  it('names the file when it is not a package', async () => {
    const path = join(dir, 'notes.zip');
    await writeFile(path, 'hello');
    const err = await loadModel(path).catch((e: unknown) => e);
    expect(isBmzError(err, 'NotAZip')).toBe(true);
    expect((err as Error).message).toContain('notes.zip');
  });
});
