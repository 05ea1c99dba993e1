/**
 * The layout of a training run's folder (a `RunStore`), defined once: the trainer writes it, `CAREamist.load`,
 * the command line and the web app read it. Paths are relative, with `/` separators.
 */
export const CHECKPOINT_DIR = 'checkpoints';

export const RUN_FILES = {
  /** The configuration with the computed normalization statistics, as CAREamics writes it. */
  config: 'config.yaml',
  checkpointDir: CHECKPOINT_DIR,
  lastCheckpoint: `${CHECKPOINT_DIR}/last.safetensors`,
  bestCheckpoint: `${CHECKPOINT_DIR}/best.safetensors`,
  trainerState: 'trainer.json',
  losses: 'losses.csv',
  lossChart: 'losses.png',
  /** Written instead of the PNG where the renderer cannot load. */
  lossChartSvg: 'losses.svg',
} as const;

/** `checkpoints/epoch_N.safetensors`, kept every `every_n_epochs`. */
export function epochCheckpoint(epoch: number): string {
  return `${CHECKPOINT_DIR}/epoch_${epoch}.safetensors`;
}

/** What a new run replaces in a folder that already holds one (the configuration is rewritten anyway). */
export const PREVIOUS_RUN_FILES = [
  RUN_FILES.checkpointDir,
  RUN_FILES.trainerState,
  RUN_FILES.losses,
  RUN_FILES.lossChart,
  RUN_FILES.lossChartSvg,
] as const;
