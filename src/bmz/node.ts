/** Node file helpers for BMZ packages (the rest of `src/bmz/` is browser-safe). */
import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type ImportedBmz, importBmz } from './import.js';

/** Reads and imports a package from disk; errors name the path. */
export async function importBmzFile(path: string): Promise<ImportedBmz> {
  return importBmz(new Uint8Array(await readFile(path)), basename(path));
}

/** Writes package bytes atomically: to a temporary file next to `path`, then renamed over it. */
export async function writeBmzFile(path: string, zip: Uint8Array): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temp, zip, { flush: true });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
