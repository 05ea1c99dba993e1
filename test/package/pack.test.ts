/**
 * The package as a user installs it: `npm pack` (whose `prepack` builds dist/), then the tarball installed into a
 * fresh consumer project exactly as the README says — with onnxruntime-node's install script denied through
 * `allowScripts`, so its CUDA download never happens — then `npx careamics`, both entries imported from an .mjs
 * file, a tiny N2V trained and predicted through the public API, and the entries' types resolved by tsc.
 *
 * The package is packed from a copy of its sources in a temporary folder, so the repository never gets a dist/.
 * Dependencies come from npm's cache (`--prefer-offline`) or the registry; the test skips, saying so, only when
 * the registry cannot be reached.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

/**
 * The environment of a user's shell: without the `npm_config_*` (e.g. the repository's
 * `onnxruntime-node-install=skip`) and `npm_package_*` variables `npm test` exports, and without
 * ONNXRUNTIME_NODE_INSTALL*, so only what the README tells the user to do keeps the CUDA download away.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|ONNXRUNTIME_NODE_INSTALL|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', NO_COLOR: '1' };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeout = 240_000): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(
      command,
      args,
      { cwd, env: userEnv(), timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** Runs, and fails with the command's output when it exits non-zero. */
async function ok(command: string, args: string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(' ')}\` in ${cwd} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

const work = mkdtempSync(join(tmpdir(), 'careamics-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ping = await run('npm', ['ping'], work, 30_000);
const REGISTRY = ping.code === 0;
if (!REGISTRY) {
  console.warn(
    `skipping the packed-package test: the npm registry cannot be reached (npm ping: ${
      (ping.stderr.trim().split('\n').pop() ?? '').slice(0, 200) || `exit ${ping.code}`
    })`,
  );
}

/** What the consumer's .mjs file checks; it prints one JSON line. */
const CONSUMER_SCRIPT = `
import * as web from 'careamics-js';
import * as node from 'careamics-js/node';

const size = 32;
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const data = Float32Array.from({ length: size * size }, () => 100 + 50 * random());
const image = new node.ArraySource({ data, shape: [size, size] }, { axes: 'YX', name: 'random' });

const config = node.createN2VConfig({
  experimentName: 'packed',
  dataType: 'array',
  axes: 'YX',
  patchSize: [16, 16],
  batchSize: 2,
  numEpochs: 1,
  maskedPixelPercentage: 1, // the 0.2 % default masks less than a pixel of a 16×16 patch
  trainerParams: { max_steps: 2 },
  seed: 1,
});
const workDir = process.argv[2];
const careamist = new node.CAREamist(config, { workDir });
await careamist.train({ trainSource: [image], valSource: [image] });
const prediction = await careamist.predict({ data, shape: [size, size], axes: 'YX' });
let finite = true;
for (const v of prediction.data) finite &&= Number.isFinite(v);
console.log(JSON.stringify({
  webExports: ['CAREamist', 'createN2VConfig', 'ArraySource', 'MemoryStore', 'predict'].filter((k) => !(k in web)),
  sameCore: node.CAREamist.prototype instanceof web.CAREamist,
  nodeRuntime: node.nodeRuntime().name,
  epochs: careamist.getLosses().train_epoch.length,
  shape: prediction.shape,
  axes: prediction.axes,
  finite,
}));
`;

/** A TypeScript consumer: both entries' declarations must resolve from the installed package. */
const CONSUMER_TS = `
import { ArraySource, CAREamist as WebCAREamist, createN2VConfig } from 'careamics-js';
import { CAREamist, nodeRuntime, openImage } from 'careamics-js/node';

const config = createN2VConfig({ experimentName: 't', dataType: 'array', axes: 'YX', patchSize: [16, 16], batchSize: 2, numEpochs: 1 });
export const careamist: WebCAREamist = new CAREamist(config, { runtime: nodeRuntime(1) });
export const source = new ArraySource({ data: new Float32Array(4), shape: [2, 2] }, { axes: 'YX' });
export const open: typeof openImage = openImage;
`;

describe.skipIf(!REGISTRY)('the packed package, installed as the README says', () => {
  it('packs dist/, installs without the CUDA download, and runs the CLI and both entries', async () => {
    const started = performance.now();

    // 1. `npm pack` from a copy of what the package is built from; `prepack` compiles dist/.
    const source = join(work, 'source');
    mkdirSync(source);
    for (const entry of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin']) {
      cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const packed = await ok('npm', ['pack', '--json', '--pack-destination', packs], source);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = info!.files.map((f) => f.path);
    for (const required of [
      'package.json',
      'README.md',
      'bin/careamics.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node.js',
      'dist/node.d.ts',
      'dist/cli/main.js',
    ]) {
      expect(files, `the tarball lacks ${required}`).toContain(required);
    }
    expect(files.filter((f) => /^(src|test|bench|scripts|web|docs|assets)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);

    // 2. A new project, set up as the README says, installs the tarball.
    const consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, 'package.json'),
      `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    // The README's two lines.
    await ok(
      'npm',
      [
        'pkg',
        'set',
        'allowScripts.onnxruntime-node=false',
        'allowScripts.protobufjs=false',
        'allowScripts.msgpackr-extract=false',
        '--json',
      ],
      consumer,
    );
    const installed = await ok(
      'npm',
      ['install', join(packs, info!.filename), '--prefer-offline', '--no-audit', '--no-fund'],
      consumer,
    );
    // No dependency's install script is left unreviewed (a new one would be named here).
    expect(installed.stderr).not.toMatch(/not yet covered by allowScripts/);
    const ortBin = join(consumer, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    expect(existsSync(ortBin), 'onnxruntime-node bundles its CPU binaries').toBe(true);
    expect(
      existsSync(join(ortBin, 'linux', 'x64', 'libonnxruntime_providers_cuda.so')),
      'onnxruntime-node downloaded its CUDA files',
    ).toBe(false);
    // onnxruntime-web is an optional peer dependency: Node users do not get its 140 MB.
    expect(existsSync(join(consumer, 'node_modules', 'onnxruntime-web'))).toBe(false);
    // The installed package runs from dist/: no sources, no tsx.
    const pkgDir = join(consumer, 'node_modules', PKG.name);
    expect(existsSync(join(pkgDir, 'src'))).toBe(false);
    expect(existsSync(join(consumer, 'node_modules', 'tsx'))).toBe(false);

    // 3. The command line.
    const help = await ok('npx', ['--no', '--', 'careamics', '--help'], consumer);
    expect(help.stdout).toContain('Usage: careamics');
    for (const command of ['config', 'train', 'predict', 'export', 'info'])
      expect(help.stdout).toContain(command);
    const version = await ok('npx', ['--no', '--', 'careamics', '--version'], consumer);
    expect(version.stdout.trim()).toBe(PKG.version);

    // 4. Both entries from an .mjs file: train 2 steps on a 32×32 image and predict it.
    writeFileSync(join(consumer, 'check.mjs'), CONSUMER_SCRIPT);
    const checked = await ok('node', ['check.mjs', join(consumer, 'run')], consumer);
    const result = JSON.parse(checked.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result).toEqual({
      webExports: [],
      sameCore: true,
      nodeRuntime: 'onnxruntime-node',
      epochs: 1,
      shape: [32, 32],
      axes: 'YX',
      finite: true,
    });
    expect(existsSync(join(consumer, 'run', 'checkpoints', 'last.safetensors'))).toBe(true);

    // 5. The declarations: a TypeScript consumer (NodeNext resolution) type-checks against both entries.
    writeFileSync(join(consumer, 'check.ts'), CONSUMER_TS);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['check.ts'],
      }),
    );
    await ok('node', [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], consumer);

    console.info(`packed-package test: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);
});
