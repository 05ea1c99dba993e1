/** The model `streaming-rss.test.ts` streams through: the CAREamics UNet at depth 2 with 8 filters (fast on CPU). */
import { unetHalo } from '../../src/models/index.js';
import { DEFAULT_BYTES_PER_INPUT_PIXEL, type ModelFacts } from '../../src/prediction/index.js';

export const SMALL_UNET = { depth: 2, num_channels_init: 8 };

export const smallUNetFacts: ModelFacts = {
  depth: SMALL_UNET.depth,
  inChannels: 1,
  outChannels: 1,
  is3D: false,
  receptiveFieldHalo: unetHalo({ ...SMALL_UNET, n2v2: false }),
  // The default is for 32 filters; feature maps, and so working memory, scale with the filter count.
  bytesPerInputPixel: (DEFAULT_BYTES_PER_INPUT_PIXEL * SMALL_UNET.num_channels_init) / 32,
};
