import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A hidden sibling of `path`: same directory, so the final rename cannot cross file systems. */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `parts` to `path` atomically: into a temp file in the same directory, fsync, then rename over `path`.
 * Readers never see a half-written image; the temp file is removed on failure.
 */
export async function writeFileAtomic(path: string, parts: Iterable<Uint8Array>): Promise<void> {
  const temp = temporarySibling(path);
  try {
    const handle = await open(temp, 'wx');
    try {
      for (const part of parts) {
        let written = 0;
        while (written < part.length) {
          const { bytesWritten } = await handle.write(part, written, part.length - written);
          written += bytesWritten;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
