/** The package's README.md, with CAREamics' sections (`model_io/bioimage/_readme_factory.py`). */
import type { AlgorithmFacts } from './references.js';

/** Free-form facts about a training run, shown as a table, e.g. `{ epochs: 30, 'final val loss': 0.12 }`. */
export type TrainingSummary = Record<string, string | number | boolean>;

export interface ReadmeOptions {
  facts: AlgorithmFacts;
  /** `careamics.yaml` as written into the package. */
  configYaml: string;
  dataDescription?: string;
  trainingSummary?: TrainingSummary;
  /** Spatial size rule of the input, e.g. `Y, X: 56 + n·4`. */
  sizeRule: string;
  halo: number;
}

const cell = (v: string | number | boolean) => String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown text of README.md; it has the '# Validation' section bioimageio.spec asks for. */
export function buildReadme(o: ReadmeOptions): string {
  const { facts } = o;
  const parts = [`# ${facts.name} - careamics-js\n`];
  parts.push(
    `## Data description\n\n${o.dataDescription?.trim() || 'No description of the training data was given.'}\n`,
  );
  parts.push(`## Algorithm description\n\n${facts.description}\n`);
  parts.push(
    '## Usage\n\n' +
      'The weights are an ONNX graph (opset 17) that runs in ONNX Runtime (Python, C++, Java, the browser) and in ' +
      'bioimage.io consumers such as ilastik, deepImageJ and bioimageio.core. The input is normalized with the ' +
      'training mean and standard deviation (`fixed_zero_mean_unit_variance` preprocessing) and the output is ' +
      `mapped back to image intensities (\`scale_linear\` postprocessing). Input sizes: ${o.sizeRule}. ` +
      `When tiling, crop a halo of ${o.halo} pixels from each side of every tile.\n`,
  );
  if (o.trainingSummary && Object.keys(o.trainingSummary).length > 0) {
    const rows = Object.entries(o.trainingSummary).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`);
    parts.push(`## Training summary\n\n| | |\n|---|---|\n${rows.join('\n')}\n`);
  }
  parts.push(
    `## Configuration\n\n${facts.name} was trained with careamics-js (a TypeScript port of CAREamics) with the ` +
      `following configuration (also attached as \`careamics.yaml\`):\n\n\`\`\`yaml\n${o.configYaml.trimEnd()}\n\`\`\`\n`,
  );
  parts.push(
    '# Validation\n\n' +
      'In order to validate the model, we encourage users to acquire a test dataset with ground-truth data. ' +
      'Comparing the ground-truth data with the prediction allows unbiased evaluation of the model performances. ' +
      'This can be done for instance by using metrics such as PSNR, SSIM, or MicroSSIM. In the absence of ' +
      'ground-truth, inspecting the residual image (difference between input and predicted image) can be ' +
      'helpful to identify whether real signal is removed from the input image.\n',
  );
  const refs = facts.cite.map(
    (c) => `- ${c.text}${c.doi ? ` doi: ${c.doi}` : ''}${c.url ? ` ${c.url}` : ''}`,
  );
  parts.push(`## References\n\n${refs.join('\n')}\n`);
  parts.push(
    '# Links\n\n- [CAREamics repository](https://github.com/CAREamics/careamics)\n' +
      '- [CAREamics documentation](https://careamics.github.io/)\n',
  );
  return parts.join('\n');
}
