/** Child process for the kill-and-resume test: trains in WORK_DIR until the parent kills it. */
import { CAREamist, createN2VConfig } from '../../src/node.js';
import { addNoise, cleanImage, source } from './synthetic.js';

const workDir = process.argv[2];
const epochs = Number(process.argv[3]);
const config = createN2VConfig({
  experimentName: 'resume',
  dataType: 'array',
  axes: 'YX',
  patchSize: [32, 32],
  batchSize: 4,
  numEpochs: epochs,
  seed: 7,
});
const careamist = new CAREamist(config, {
  workDir,
  callbacks: { onEpochEnd: (r) => process.stdout.write(`epoch ${r.epoch}\n`) },
});
await careamist.train(
  { trainSource: [source(addNoise(cleanImage(128, 128), 20, 3), [128, 128])] },
  { resume: true },
);
