/** The public API of both package entries, listed: a change to either must be deliberate (update the snapshot). */
import { expect, it } from 'vitest';
import * as browser from '../../src/index.js';
import * as node from '../../src/node.js';

it('careamics-js exports exactly these names', () => {
  expect(Object.keys(browser).sort()).toMatchInlineSnapshot(`
    [
      "ArraySource",
      "ArrayWriter",
      "BmzError",
      "CAREamist",
      "CAREamistError",
      "CareamicsError",
      "ConfigError",
      "DEFAULT_UNET",
      "DEVICES",
      "DataError",
      "EngineError",
      "FrozenModel",
      "IoError",
      "MemoryStore",
      "MetricsError",
      "Model",
      "ModelError",
      "PN2V_OUTPUTS",
      "PREVIOUS_RUN_FILES",
      "PredictionError",
      "RUN_FILES",
      "Rng",
      "TiledModel",
      "Trainer",
      "TrainingError",
      "checkpointConfiguration",
      "configWithStatistics",
      "configuredStats",
      "createCareConfig",
      "createModel",
      "createN2NConfig",
      "createN2VConfig",
      "createPN2VConfig",
      "createStructN2VConfig",
      "decodeNpy",
      "defaultSessionOptions",
      "denormalize",
      "encodeImage",
      "encodeNpy",
      "encodeTiff",
      "fitScaleOffset",
      "guessAxes",
      "imageStatistics",
      "importBmz",
      "isBmzError",
      "isCareamicsError",
      "isIoError",
      "loadConfigYaml",
      "loadModel",
      "modelFileKind",
      "n2vManipulate",
      "normalize",
      "onnxFacts",
      "openImageData",
      "openOmeZarr",
      "openTiff",
      "parseConfiguration",
      "predict",
      "predictToWriter",
      "psnr",
      "saveConfigYaml",
      "scaleInvariantPsnr",
      "ssim",
      "testBmz",
      "toPredictionNormalization",
      "validateAxes",
      "withTTA",
    ]
  `);
});

it('careamics-js/node exports the browser entry plus exactly these names', () => {
  const browserApi: Record<string, unknown> = { ...browser };
  const nodeApi: Record<string, unknown> = { ...node };
  // Names the Node entry adds, or replaces with its own (the CAREamist with paths, loadModel from disk).
  const nodeOnly = Object.keys(nodeApi).filter((name) => nodeApi[name] !== browserApi[name]);
  expect(nodeOnly.sort()).toMatchInlineSnapshot(`
    [
      "CAREamist",
      "FolderStore",
      "createImageWriter",
      "describeAdapter",
      "listImageFiles",
      "listImages",
      "loadModel",
      "nodeRuntime",
      "nodeRuntimeOn",
      "openFolder",
      "openImage",
      "openSources",
      "pathKind",
      "predictToDisk",
      "writeFileAtomic",
      "writeImage",
    ]
  `);
  expect(Object.keys(browser).every((name) => name in node)).toBe(true);
});
