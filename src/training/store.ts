/**
 * Where a training run keeps its files (config, checkpoints, trainer state, losses). In Node a folder written
 * atomically (`src/training/node.ts`); in the browser, memory. Paths are relative, with `/` separators.
 */
export interface RunStore {
  /** Replaces the file at `path` as a whole: readers see the old or the new content, never a mix. */
  write(path: string, content: Uint8Array | string): Promise<void>;
  read(path: string): Promise<Uint8Array | undefined>;
  remove(path: string): Promise<void>;
  /** Where the files are, for messages (a folder, or "memory"). */
  readonly location: string;
}

export class MemoryStore implements RunStore {
  readonly location = 'memory';
  readonly files = new Map<string, Uint8Array>();

  async write(path: string, content: Uint8Array | string): Promise<void> {
    this.files.set(path, typeof content === 'string' ? new TextEncoder().encode(content) : content.slice());
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    return this.files.get(path);
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}
