import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, tempDir, writeNoise } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/careamics.js', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

it('Ctrl-C stops training cleanly (exit 130, last checkpoint kept) and --resume continues', async () => {
  const p = (...parts: string[]) => join(dir, ...parts);
  await writeNoise(p('noise.tif'));
  const args = ['--patch-size', '32', '32', '--batch-size', '4', '--epochs', '200', '--seed', '3'];
  expect((await cli('config', 'n2v', ...args, '-o', p('config.yaml'))).code).toBe(0);

  const child = spawn(process.execPath, [BIN, 'train', p('config.yaml'), '--train-source', p('noise.tif')]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // Interrupt once the first epoch has ended (and been checkpointed).
    if (!stderr.includes('train_loss') && (stderr + chunk).includes('train_loss')) child.kill('SIGINT');
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code).toBe(130);
  expect(stderr).toMatch(
    /careamics: error: interrupted; the last checkpoint is .*last\.safetensors; continue with: careamics train .* --resume/,
  );
  expect(existsSync(p('careamics_run', 'checkpoints', 'last.safetensors'))).toBe(true);
  const stopped = JSON.parse(await readFile(p('careamics_run', 'trainer.json'), 'utf8')).epoch;
  expect(stopped).toBeGreaterThanOrEqual(1);
  expect(stopped).toBeLessThan(200);

  const resumed = await cli(
    'train',
    p('config.yaml'),
    '--train-source',
    p('noise.tif'),
    '--resume',
    '--epochs',
    String(stopped + 1),
  );
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toContain(`trained ${stopped + 1} epochs`);
});
