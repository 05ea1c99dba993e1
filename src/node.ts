/**
 * careamics-js for Node: everything in the browser-safe entry, plus onnxruntime-node, image files and folders,
 * a `CAREamist` that keeps its run in a work directory, and `loadModel` for any model on disk.
 *
 * @example
 * import { CAREamist, createN2VConfig, loadModel } from 'careamics-js/node';
 * const config = createN2VConfig({ experimentName: 'sem', dataType: 'tiff', axes: 'YX', patchSize: [64, 64], batchSize: 16, numEpochs: 30 });
 * const careamist = new CAREamist(config, { workDir: 'runs/sem' });
 * await careamist.train({ trainSource: 'sem.tif' });
 * await careamist.predictToDisk('sem.tif', 'sem_denoised.tif');
 * const packaged = await loadModel('model.zip'); // a work dir, checkpoint, BMZ zip or .onnx (with normalization)
 */

export {
  CAREamist,
  type FilePredictionSettings,
  loadModel,
  type NodeCAREamistOptions,
  type NodeTrainingData,
  openSources,
  type PathKind,
  type PathOrSources,
  pathKind,
  predictToDisk,
} from './careamist/node.js';
export * from './distributed/index.js';
export { describeAdapter, nodeRuntime, nodeRuntimeOn } from './engine/node.js';
export * from './index.js';
export {
  createImageWriter,
  isImageFolder,
  isZarrPath,
  listImageFiles,
  listImages,
  openFolder,
  openImage,
  writeFileAtomic,
  writeImage,
} from './io/node/index.js';
export { loadNoiseModel, loadNoiseModelFromConfig, saveNoiseModel } from './noise/node.js';
export { FolderStore } from './training/node.js';
