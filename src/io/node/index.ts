/**
 * careamics-js image I/O for Node: everything in `src/io/index.ts` plus files and folders on disk.
 *
 * ```ts
 * import { openImage, writeImage } from './io/node/index.js';
 * const source = await openImage('stack.tif');             // lazy: pages decoded on read
 * const tile = await source.read({ start: [0, 0, 0], stop: [1, 256, 256] });
 * await writeImage('denoised.ome.tif', tile, { axes: 'ZYX' }); // atomic
 * ```
 */
export * from '../index.js';
export { temporarySibling, writeFileAtomic } from './atomic.js';
export {
  createImageWriter,
  isImageFolder,
  isZarrPath,
  listImageFiles,
  listImages,
  openFolder,
  openImage,
  type WriteOptions,
  writeImage,
} from './files.js';
export { createOmeZarrFolder, createOmeZarrPath, openOmeZarrPath, openOmeZarrWriterPath } from './zarr.js';
