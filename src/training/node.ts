/** A run folder on disk; every write is atomic (`writeFileAtomic` from the io layer). */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/node/atomic.js';
import type { RunStore } from './store.js';

export class FolderStore implements RunStore {
  constructor(readonly location: string) {}

  async write(path: string, content: Uint8Array | string): Promise<void> {
    const target = join(this.location, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, [
      typeof content === 'string' ? new TextEncoder().encode(content) : content,
    ]);
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.location, path)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  remove(path: string): Promise<void> {
    return rm(join(this.location, path), { force: true });
  }
}
