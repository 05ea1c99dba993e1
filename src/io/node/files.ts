import { openAsBlob } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dtypeOf } from '../dtype.js';
import { IoError } from '../errors.js';
import {
  type EncodeOptions,
  encodeImage,
  type FileFormat,
  formatFromName,
  type OpenOptions,
  openImageData,
} from '../formats.js';
import { ArrayWriter } from '../memory.js';
import { fullRegion } from '../ndarray.js';
import type { DType, ImageSource, ImageWriter, NDArray } from '../types.js';
import { writeFileAtomic } from './atomic.js';
import { createOmeZarrPath, openOmeZarrPath } from './zarr.js';

/** An OME-Zarr store's path: a folder named `*.zarr` (any case, with or without a trailing slash). */
export function isZarrPath(path: string): boolean {
  return /\.zarr[/\\]*$/i.test(path);
}

/** A folder of image files: a directory that is not an OME-Zarr store. False for files and missing paths. */
export async function isImageFolder(path: string): Promise<boolean> {
  if (isZarrPath(path)) return false;
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Opens an image file (TIFF, PNG, NPY), an OME-Zarr folder, or bytes already in memory.
 * TIFF files are read lazily (only the pages a region needs); format comes from the magic number.
 */
export async function openImage(
  pathOrBytes: string | Uint8Array,
  options: Omit<OpenOptions, 'name'> = {},
): Promise<ImageSource> {
  if (typeof pathOrBytes !== 'string') return openImageData(pathOrBytes, options);
  const path = pathOrBytes;
  const info = await stat(path).catch((cause) => {
    throw new IoError(
      'FileNotFound',
      path,
      `cannot open: ${cause instanceof Error ? cause.message : cause}`,
      {
        cause,
      },
    );
  });
  if (info.isDirectory()) return openOmeZarrPath(path, options);
  const input =
    formatFromName(path) === 'tiff' ? await openAsBlob(path) : new Uint8Array(await readFile(path));
  return openImageData(input, { ...options, name: path });
}

export interface WriteOptions extends Omit<EncodeOptions, 'format' | 'name'> {
  /** Default from the extension: `.tif`/`.tiff` (OME-TIFF), `.png`, `.npy`, `.zarr` (OME-Zarr folder). */
  format?: FileFormat | 'zarr';
}

/** Writes an array to `path` atomically, in the format its extension (or `format`) names. */
export async function writeImage(path: string, array: NDArray, options: WriteOptions): Promise<void> {
  const format = options.format ?? (isZarrPath(path) ? 'zarr' : formatFromName(path));
  if (format === undefined) {
    throw new IoError(
      'UnsupportedFormat',
      path,
      'unknown extension; use .tif, .tiff, .png, .npy or .zarr, or pass format',
    );
  }
  if (format !== 'zarr') {
    return writeFileAtomic(path, encodeImage(array, { ...options, format, name: path }));
  }
  const writer = await createOmeZarrPath(path, {
    shape: array.shape,
    dtype: dtypeOf(array.data),
    axes: options.axes,
  });
  try {
    await writer.write(fullRegion(array.shape), array.data);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * An `ImageWriter` for `path`: OME-Zarr folders stream chunk by chunk (`chunks`: their shape, default 256 along
 * Y and X); single-file formats assemble the
 * image in memory and write it atomically on `close()`.
 */
export async function createImageWriter(
  path: string,
  options: WriteOptions & { shape: readonly number[]; dtype: DType; chunks?: readonly number[] },
): Promise<ImageWriter> {
  const { shape, dtype, chunks, ...writeOptions } = options;
  if ((options.format ?? (isZarrPath(path) ? 'zarr' : undefined)) === 'zarr') {
    return createOmeZarrPath(path, { shape, dtype, axes: options.axes, chunks });
  }
  return new ArrayWriter({ shape, dtype, axes: options.axes, name: path }, (array) =>
    writeImage(path, array, writeOptions),
  );
}

/** Every image in `folder` that careamics-js reads: TIFF, PNG and NPY files and OME-Zarr folders, sorted by name. */
export async function listImages(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries
    .filter((e) =>
      e.isDirectory() ? /\.zarr$/i.test(e.name) : e.isFile() && formatFromName(e.name) !== undefined,
    )
    .map((e) => e.name)
    .sort()
    .map((name) => join(folder, name));
}

/** The files in `folder` ending in `extension` (case-insensitive, e.g. `tif`), sorted by name. */
export async function listImageFiles(folder: string, extension: string): Promise<string[]> {
  const suffix = `.${extension.replace(/^\./, '').toLowerCase()}`;
  const entries = await readdir(folder, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith(suffix))
    .map((entry) => entry.name)
    .sort()
    .map((name) => join(folder, name));
}

/** Every image in `folder` with `extension`, sorted by name, each as its own source (CAREamics' folder input). */
export async function openFolder(
  folder: string,
  options: { extension: string; axes?: string },
): Promise<ImageSource[]> {
  const files = await listImageFiles(folder, options.extension);
  const axes = options.axes === undefined ? {} : { axes: options.axes };
  return Promise.all(files.map((file) => openImage(file, axes)));
}
