/**
 * Which images of a folder to train or predict on. As in CAREamics, the configuration's `data_type` picks the
 * files by extension (tiff → .tif/.tiff, array → .npy, zarr → .zarr); `custom` (CAREamics' route for formats it
 * does not know) reads whatever the folder holds, one format per folder. A folder without files of the declared
 * type but with one other readable format is read too, with a warning: the files say what they are, and a config
 * made with the default `tiff` should not stop a folder of PNG frames.
 */
import { basename } from 'node:path';
import { formatFromName, type ImageSource, isIoError } from '../io/index.js';
import { listImages, openImage } from '../io/node/index.js';
import { CAREamistError } from './tiled.js';

/** A folder image's format: TIFF, PNG and NPY files, or OME-Zarr folders. */
export function imageFormat(path: string): 'tiff' | 'png' | 'npy' | 'zarr' | undefined {
  return /\.zarr\/?$/i.test(path) ? 'zarr' : formatFromName(path);
}

const DECLARED: Record<string, string> = { tiff: 'tiff', array: 'npy', zarr: 'zarr' };

/**
 * The files of `images` (a folder's readable images, sorted) that `dataType` selects, and a warning when the
 * folder's format differs from the declared one. Throws naming two files when an inferred folder mixes formats.
 */
export function selectFolderImages(
  folder: string,
  images: readonly string[],
  dataType: string,
): { files: string[]; warning?: string } {
  if (images.length === 0) {
    throw new CAREamistError(
      `${folder}: no images in this folder (careamics-js reads .tif, .tiff, .png, .npy, .zarr)`,
    );
  }
  const declared = DECLARED[dataType];
  const matching = images.filter((f) => imageFormat(f) === declared);
  if (matching.length > 0) return { files: matching };
  const first = images[0];
  const other = images.find((f) => imageFormat(f) !== imageFormat(first));
  if (other !== undefined) {
    throw new CAREamistError(
      `${folder}: mixes formats (${basename(first)} is ${imageFormat(first)}, ${basename(other)} is ${imageFormat(other)}); keep one format per folder`,
    );
  }
  if (declared === undefined) return { files: [...images] };
  return {
    files: [...images],
    warning: `${folder}: data_type is "${dataType}" but the folder holds ${imageFormat(first)} images; reading them (data_type "custom" reads any format without this warning)`,
  };
}

const layout = (s: ImageSource) => {
  const c = s.axes.indexOf('C');
  return `${s.axes}${c < 0 ? '' : ` with ${s.shape[c]} channels`}, shape ${s.shape.join('×')}`;
};
const channels = (s: ImageSource) => s.axes + (s.axes.includes('C') ? s.shape[s.axes.indexOf('C')] : '');

/**
 * Opens `files` with `axes` (inferred when undefined) and checks they share one layout: the same axes and channel
 * count. A file whose rank does not fit while another's does, or two layouts, is one error naming both files.
 */
export async function openFolderImages(files: readonly string[], axes?: string): Promise<ImageSource[]> {
  const opened = await Promise.allSettled(files.map((f) => openImage(f, axes === undefined ? {} : { axes })));
  const good = opened.findIndex((r) => r.status === 'fulfilled');
  const bad = opened.findIndex((r) => r.status === 'rejected');
  if (bad >= 0) {
    const { reason } = opened[bad] as PromiseRejectedResult;
    if (good < 0 || !isIoError(reason, 'AxesMismatch')) throw reason;
    const first = (opened[good] as PromiseFulfilledResult<ImageSource>).value;
    throw conflict(files[good], layout(first), files[bad], reason.problem);
  }
  const sources = opened.map((r) => (r as PromiseFulfilledResult<ImageSource>).value);
  const i = sources.findIndex((s) => channels(s) !== channels(sources[0]));
  if (i >= 0) throw conflict(files[0], layout(sources[0]), files[i], layout(sources[i]));
  return sources;
}

function conflict(a: string, aLayout: string, b: string, bLayout: string): CAREamistError {
  return new CAREamistError(
    `${a} (${aLayout}) and ${b} (${bLayout}) differ; a folder's images must share axes and channels`,
  );
}

/** The images of `folder` that `dataType` selects (see `selectFolderImages`); the warning goes to `warn`. */
export async function folderImages(
  folder: string,
  dataType: string,
  warn: (message: string) => void,
): Promise<string[]> {
  const { files, warning } = selectFolderImages(folder, await listImages(folder), dataType);
  if (warning !== undefined) warn(warning);
  return files;
}
