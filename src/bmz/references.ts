/**
 * What CAREamics writes about each algorithm in a BMZ package: friendly name, tags, description and citations
 * (CAREamics `references/*` and `*_algorithm_config.py`), with careamics-js and ONNX added.
 */
import type { Configuration } from '../config/index.js';

export interface CiteEntry {
  text: string;
  doi?: string;
  url?: string;
}

const N2V_REF: CiteEntry = {
  text: 'Krull, A., Buchholz, T.O. and Jug, F., 2019. "Noise2Void - Learning denoising from single noisy images". In Proceedings of the IEEE/CVF conference on computer vision and pattern recognition (pp. 2129-2137).',
  doi: '10.1109/cvpr.2019.00223',
};
// CAREamics cites the ECCV publication; the preprint is doi 10.48550/arXiv.2211.08512.
const N2V2_REF: CiteEntry = {
  text: 'Höck, E., Buchholz, T.O., Brachmann, A., Jug, F. and Freytag, A., 2022. "N2V2 - Fixing Noise2Void checkerboard artifacts with modified sampling strategies and a tweaked network architecture". In European Conference on Computer Vision (pp. 503-518).',
  doi: '10.1007/978-3-031-25069-9_33',
};
const STRUCTN2V_REF: CiteEntry = {
  text: 'Broaddus, C., Krull, A., Weigert, M., Schmidt, U. and Myers, G., 2020. "Removing structured noise with self-supervised blind-spot networks". In 2020 IEEE 17th International Symposium on Biomedical Imaging (ISBI) (pp. 159-163).',
  doi: '10.1109/isbi45749.2020.9098336',
};
const CARE_REF: CiteEntry = {
  text: 'Weigert, Martin, et al. "Content-aware image restoration: pushing the limits of fluorescence microscopy." Nature methods 15.12 (2018): 1090-1097.',
  doi: '10.1038/s41592-018-0216-7',
};
const N2N_REF: CiteEntry = {
  text: 'Lehtinen, J., Munkberg, J., Hasselgren, J., Laine, S., Karras, T., Aittala, M. and Aila, T., 2018. "Noise2Noise: Learning image restoration without clean data". arXiv preprint arXiv:1803.04189.',
  doi: '10.48550/arXiv.1803.04189',
};
const CAREAMICS_REF: CiteEntry = {
  text: 'CAREamics: a PyTorch library for content-aware image restoration (CAREamics team, Human Technopole).',
  url: 'https://github.com/CAREamics/careamics',
};

const N2V_DESCRIPTION =
  'Noise2Void is a UNet-based self-supervised algorithm that uses blind-spot training to denoise images. In short, in every patches during training, random pixels are selected and their value replaced by a neighboring pixel value. The network is then trained to predict the original pixel value. The algorithm relies on the continuity of the signal (neighboring pixels have similar values) and the pixel-wise independence of the noise (the noise in a pixel is not correlated with the noise in neighboring pixels).';
const N2V2_NOTE =
  'N2V2 introduces blur-pool layers and removed skip connections in the UNet architecture to remove checkboard artefacts, a common artefacts ocurring in Noise2Void.';
const STRUCT_NOTE =
  'StructN2V uses a linear mask (horizontal or vertical) to replace the pixel values of neighbors of the masked pixels by a random value. Such masking allows removing 1D structured noise from the the images, the main failure case of the original N2V.';
const CARE_DESCRIPTION =
  'Content-aware image restoration (CARE) is a deep-learning-based algorithm that uses a U-Net architecture to restore images. CARE is a supervised algorithm that requires pairs of noisy and clean images to train the network. The algorithm learns to predict the clean image from the noisy image. CARE is particularly useful for denoising images acquired in low-light conditions, such as fluorescence microscopy images.';
const N2N_DESCRIPTION =
  'Noise2Noise is a deep-learning-based algorithm that uses a U-Net architecture to restore images. Noise2Noise is a self-supervised algorithm that requires only noisy images to train the network. The algorithm learns to predict the clean image from the noisy image. Noise2Noise is particularly useful when clean images are not available for training.';

export interface AlgorithmFacts {
  /** CAREamics' friendly name: Noise2Void, N2V2, StructN2V, StructN2V2, CARE or Noise2Noise. */
  name: string;
  description: string;
  tags: string[];
  cite: CiteEntry[];
}

/** Name, description, tags and citations of the configured algorithm, as CAREamics writes them. */
export function algorithmFacts(config: Configuration): AlgorithmFacts {
  const alg = config.algorithm_config;
  const tags = ['denoising', 'restoration', 'UNet', alg.model.conv_dims === 3 ? '3D' : '2D', 'CAREamics'];
  const extra = ['careamics-js', 'onnx'];
  if (alg.algorithm === 'care')
    return {
      name: 'CARE',
      description: CARE_DESCRIPTION,
      tags: [...tags, ...extra, 'CARE'],
      cite: [CARE_REF, CAREAMICS_REF],
    };
  if (alg.algorithm === 'n2n')
    return {
      name: 'Noise2Noise',
      description: N2N_DESCRIPTION,
      tags: [...tags, ...extra, 'Noise2Noise'],
      cite: [N2N_REF, CAREAMICS_REF],
    };
  const n2v2 = alg.model.n2v2;
  const struct = alg.n2v_config.struct_mask !== null;
  const name = `${struct ? 'Struct' : ''}${n2v2 ? 'N2V2' : struct ? 'N2V' : 'Noise2Void'}`;
  const variant = name === 'Noise2Void' ? '' : `${name} is a variant of Noise2Void. `;
  const notes = [struct ? STRUCT_NOTE : '', n2v2 ? N2V2_NOTE : ''].filter(Boolean);
  return {
    name,
    description: [variant + N2V_DESCRIPTION, ...notes].join('\n'),
    tags: [...tags, ...extra, 'Noise2Void', ...(n2v2 ? ['N2V2'] : []), ...(struct ? ['StructN2V'] : [])],
    cite: [N2V_REF, ...(n2v2 ? [N2V2_REF] : []), ...(struct ? [STRUCTN2V_REF] : []), CAREAMICS_REF],
  };
}
