import { mkdir, rename, rm, stat } from 'node:fs/promises';
import FileSystemStore from '@zarrita/storage/fs';
import { IoError } from '../errors.js';
import {
  createOmeZarr,
  type OmeZarrWriteOptions,
  type OmeZarrWriter,
  openOmeZarr,
  openOmeZarrWriter,
  type ZarrSource,
} from '../zarr.js';
import { temporarySibling } from './atomic.js';

/** Opens an OME-Zarr folder (v2 or v3) on disk; chunks are read from files only when a region needs them. */
export async function openOmeZarrPath(path: string, options: { axes?: string } = {}): Promise<ZarrSource> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory())
    throw new IoError('FileNotFound', path, 'no such folder (an OME-Zarr image is a folder)');
  return openOmeZarr(new FileSystemStore(path), { ...options, name: path });
}

/**
 * Creates an OME-Zarr folder written chunk by chunk into a temp folder beside `path`, renamed into place on
 * `close()` and deleted on `abort()`, so a crashed prediction never leaves a half-written image at `path`.
 */
export async function createOmeZarrPath(
  path: string,
  options: Omit<OmeZarrWriteOptions, 'onAbort' | 'onClose'>,
): Promise<OmeZarrWriter> {
  const temp = temporarySibling(path);
  try {
    return await createOmeZarr(new FileSystemStore(temp), {
      name: path,
      ...options,
      onAbort: () => rm(temp, { recursive: true, force: true }),
      onClose: async () => {
        await rm(path, { recursive: true, force: true });
        await rename(temp, path);
      },
    });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** A writer onto an OME-Zarr folder that exists (another process created it): writes regions, renames nothing. */
export async function openOmeZarrWriterPath(path: string): Promise<OmeZarrWriter> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory())
    throw new IoError('FileNotFound', path, 'no such folder (an OME-Zarr image is a folder)');
  return openOmeZarrWriter(new FileSystemStore(path), path);
}

/**
 * Creates an empty OME-Zarr image (metadata, no chunks) at `path`, which must not exist: the folder is made
 * first, so of two processes creating the same path, the second fails (`AlreadyExists`).
 */
export async function createOmeZarrFolder(
  path: string,
  options: Omit<OmeZarrWriteOptions, 'onAbort' | 'onClose'>,
): Promise<OmeZarrWriter> {
  try {
    await mkdir(path);
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
    throw new IoError(
      exists ? 'AlreadyExists' : 'WriteFailed',
      path,
      exists ? 'already exists' : String(cause),
      {
        cause,
      },
    );
  }
  return createOmeZarr(new FileSystemStore(path), { name: path, ...options });
}
