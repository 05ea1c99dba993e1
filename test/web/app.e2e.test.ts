/**
 * The web app end to end in headless Chromium: open a TIFF, train N2V, watch the loss plot, denoise, download the
 * TIFF and the models — on WebAssembly (no GPU), and once, tiny, on WebGPU through SwiftShader's software adapter.
 * Screenshots of each stage go to test/web/__screenshots__/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBmz, testBmz } from '../../src/bmz/index.js';
import { CAREamist, encodeImage, encodeTiff, openImageData, psnr } from '../../src/index.js';
import { nodeRuntime } from '../helpers/runtimes.js';

const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, '../../web/vite.config.ts');
const shots = join(here, '__screenshots__');
const EPOCHS = 50;

if (!existsSync(CHROMIUM))
  console.warn(`web e2e tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** 128×128 float32: diagonal stripes and a disc (values 50–230), and that plus Gaussian noise σ = 30 (seeded). */
function testImage(): { clean: Float32Array; noisy: Float32Array } {
  let seed = 1;
  const uniform = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return (seed + 0.5) / 2 ** 32;
  };
  const clean = new Float32Array(128 * 128);
  const noisy = new Float32Array(128 * 128);
  for (let y = 0; y < 128; y++) {
    for (let x = 0; x < 128; x++) {
      const i = y * 128 + x;
      clean[i] = 100 + 50 * Math.sin((x + y) / 6) + ((x - 64) ** 2 + (y - 64) ** 2 < 900 ? 80 : 0);
      const noise = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      noisy[i] = clean[i]! + 30 * noise;
    }
  }
  return { clean, noisy };
}

/** Flags for a quiet headless Chromium; each browser adds how it offers (or not) a GPU. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

let served: Promise<{ server: PreviewServer; url: string }> | undefined;

/** The app, built once with vite and served by its preview server for every browser below. */
async function appUrl(): Promise<string> {
  served ??= (async () => {
    mkdirSync(shots, { recursive: true });
    await build({ configFile, logLevel: 'error' });
    const port = await freePort();
    const server = await preview({
      configFile,
      logLevel: 'error',
      preview: { host: '127.0.0.1', port, strictPort: true },
    });
    return { server, url: `http://127.0.0.1:${port}/` };
  })();
  return (await served).url;
}

afterAll(async () => (await served)?.server.close());

/** Chromium with `flags` on the built app; the page's console and errors go to `logs`. */
async function openApp(flags: string[], logs: string[]): Promise<{ browser: Browser; page: Page }> {
  const url = await appUrl();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...flags] });
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { browser, page };
}

describe.skipIf(!existsSync(CHROMIUM))('web app in headless Chromium without a GPU', () => {
  let browser: Browser;
  let page: Page;
  const logs: string[] = [];
  /** Kept from the training test for the loading test. */
  const trained: { prediction?: Float32Array; checkpoint?: string; bmz?: string } = {};

  /** Waits for `selector`; on timeout the failure shows what the page said (errors included). */
  const until = (selector: string, timeout: number) =>
    page.waitForSelector(selector, { timeout }).catch(async (err: Error) => {
      throw new Error(`${err.message}\npage: ${await page.textContent('.controls')}`);
    });
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    ({ browser, page } = await openApp(['--disable-gpu'], logs));
  });

  afterAll(async () => {
    await browser?.close();
    if (logs.length > 0) console.log(logs.join('\n'));
  });

  it('explains a file it cannot read', async () => {
    await page.setInputFiles('[data-testid=file]', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not an image'),
    });
    await expect
      .poll(() => page.textContent('[data-testid=error]'))
      .toMatch(/notes\.txt: unknown image format/);
  });

  it('opens a PNG dropped on the page', async () => {
    const pixels = Uint8Array.from({ length: 48 * 64 }, (_, i) => i % 251);
    const [png] = encodeImage({ data: pixels, shape: [48, 64] }, { axes: 'YX', format: 'png' });
    await page.evaluate((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
      document
        .querySelector('.drop')!
        .dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    }, Array.from(png!));
    await expect.poll(() => page.textContent('[data-testid=shape]')).toBe('48 × 64');
    expect(await page.textContent('[data-testid=info]')).toMatch(/dropped\.png.*uint8.*0\.000.*250\.0/);
    expect(await page.isVisible('[data-testid=error]')).toBe(false);
  });

  it('shows a stack with a Z slider, zooms with the wheel and pans by dragging', async () => {
    const stack = Uint16Array.from(
      { length: 3 * 64 * 64 },
      (_, i) => (Math.floor(i / 4096) + 1) * ((i % 64) * 16),
    );
    const bytes = encodeTiff({ data: stack, shape: [3, 64, 64] }, { axes: 'ZYX' });
    await page.setInputFiles('[data-testid=file]', {
      name: 'stack.tif',
      mimeType: 'image/tiff',
      buffer: Buffer.from(bytes),
    });
    await expect.poll(() => page.textContent('[data-testid=shape]')).toBe('3 × 64 × 64');
    expect(await page.inputValue('[data-testid=axes]')).toBe('ZYX');
    expect(await page.isVisible('[data-testid=patchSizeZ]')).toBe(true);
    const pixels = () => page.$eval('[data-testid=viewer]', (c) => (c as HTMLCanvasElement).toDataURL());
    const first = await pixels();
    await page.fill('[data-testid=slider-Z]', '2');
    expect(await page.textContent('label:has([data-testid=slider-Z])')).toMatch(/Z 3\/3/);
    const box = (await page.$('[data-testid=viewer]'))!.boundingBox();
    const { x, y, width, height } = (await box)!;
    await page.mouse.move(x + width / 4, y + height / 4);
    await page.mouse.wheel(0, -500);
    await expect.poll(pixels).not.toBe(first);
    const zoomed = await pixels();
    await page.mouse.down();
    await page.mouse.move(x + width / 2, y + height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(pixels).not.toBe(zoomed);
    await shot('0-stack-zoomed');
    await page.fill('[data-testid=axes]', 'SYX');
    expect(await page.isVisible('[data-testid=patchSizeZ]')).toBe(false);
    expect(await page.isVisible('[data-testid=slider-S]')).toBe(true);
  });

  it('trains N2V, predicts and downloads the denoised TIFF and the model', async () => {
    const { clean, noisy: input } = testImage();
    const tiff = encodeTiff({ data: input, shape: [128, 128] }, { axes: 'YX' });
    await page.setInputFiles('[data-testid=file]', {
      name: 'noisy.tif',
      mimeType: 'image/tiff',
      buffer: Buffer.from(tiff),
    });
    await expect.poll(() => page.textContent('[data-testid=shape]')).toBe('128 × 128');
    expect(await page.isVisible('[data-testid=error]')).toBe(false);
    expect(await page.inputValue('[data-testid=axes]')).toBe('YX');
    await shot('1-loaded');

    await page.fill('[data-testid=axes]', 'ZYX');
    await expect.poll(() => page.textContent('.error')).toMatch(/3 letters but the array has 2 dimensions/);
    await page.fill('[data-testid=axes]', 'YX');
    expect(await page.isVisible('.error')).toBe(false);

    // 14 training patches of 32², 3 steps an epoch: 150 steps denoise clearly.
    await page.fill('[data-testid=patchSize]', '32');
    await page.fill('[data-testid=batchSize]', '4');
    await page.fill('[data-testid=valPatches]', '2');
    await page.fill('[data-testid=epochs]', String(EPOCHS));
    await page.click('[data-testid=train]');
    await expect
      .poll(() => page.textContent('[data-testid=backend]'))
      .toMatch(/^WebAssembly, .*\(WebGPU unavailable: /);
    await until('[data-testid=loss-chart][data-points="1"]', 90_000);
    await shot('2-training');
    await until('[data-testid=predict]', 240_000);
    expect(await page.getAttribute('[data-testid=loss-chart]', 'data-points')).toBe(String(EPOCHS));
    expect(await page.textContent('[data-testid=status]')).toBe('Training finished.');

    await page.click('[data-testid=predict]');
    await until('[data-testid=download-tiff]', 60_000);
    await expect.poll(() => page.textContent('[data-testid=predict-progress]')).toMatch(/tile (\d+)\/\1/);
    const pixels = () => page.$eval('[data-testid=viewer]', (c) => (c as HTMLCanvasElement).toDataURL());
    const split = await pixels();
    await page.fill('[data-testid=split]', '90');
    await expect.poll(pixels).not.toBe(split);
    await page.fill('[data-testid=split]', '50');
    await shot('3-predicted');

    const [tiffDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-tiff]'),
    ]);
    expect(tiffDownload.suggestedFilename()).toBe('noisy_n2v.tif');
    const output = await openImageData(new Uint8Array(readFileSync((await tiffDownload.path())!)), {
      name: 'noisy_n2v.tif',
    });
    expect(output.shape).toEqual([128, 128]);
    expect(output.dtype).toBe('float32');
    const { data } = await output.read();
    trained.prediction = Float32Array.from(data);
    expect(data.every((v) => Number.isFinite(v))).toBe(true);
    // Noisy 18.5 dB. Unseeded training reached 23.8–27.4 dB (9 runs in Node; 30 epochs once fell to 19.8 dB); a
    // no-op scores 18.5 dB, the former 2-epoch run 15.3 dB (worse than noisy).
    const noisyPsnr = psnr(clean, input, 255);
    const denoisedPsnr = psnr(clean, data, 255);
    expect(denoisedPsnr, `noisy ${noisyPsnr.toFixed(2)} dB`).toBeGreaterThan(noisyPsnr + 2);

    const [onnxDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-onnx]'),
    ]);
    expect(onnxDownload.suggestedFilename()).toBe('noisy_n2v.onnx');
    expect(readFileSync((await onnxDownload.path())!).length).toBeGreaterThan(100_000);
    expect(await page.textContent('[data-testid=normalization]')).toMatch(
      /mean 1\d\d\.\d+ and std \d\d\.\d+/,
    );

    // The checkpoint runs in Node and gives the browser's prediction.
    const [checkpointDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-checkpoint]'),
    ]);
    expect(checkpointDownload.suggestedFilename()).toBe('noisy_n2v.safetensors');
    trained.checkpoint = (await checkpointDownload.path())!;
    const checkpoint = new Uint8Array(readFileSync(trained.checkpoint));
    const careamist = await CAREamist.fromCheckpoint(checkpoint, { runtime: nodeRuntime });
    const inNode = await careamist.predict({ data: input, shape: [128, 128], axes: 'YX' });
    const worst = Math.max(...Array.from(inNode.data, (v, i) => Math.abs(v - data[i]!)));
    expect(worst).toBeLessThan(1e-2);
    await careamist.engineModel?.dispose();

    // The BioImage Model Zoo package, built and tested in the browser, passes its test in Node too.
    await page.click('.bmz summary');
    expect(await page.isDisabled('[data-testid=download-bmz]')).toBe(true);
    await page.fill('[data-testid=bmz-authors]', 'Ada Lovelace; Alan Turing');
    const [bmzDownload] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.click('[data-testid=download-bmz]'),
    ]);
    expect(bmzDownload.suggestedFilename()).toBe('noisy_n2v.zip');
    trained.bmz = (await bmzDownload.path())!;
    const bmz = await importBmz(new Uint8Array(readFileSync(trained.bmz)), 'noisy_n2v.zip');
    expect(bmz.rdf['name']).toBe('N2V noisy');
    expect((bmz.rdf['authors'] as { name: string }[]).map((a) => a.name)).toEqual([
      'Ada Lovelace',
      'Alan Turing',
    ]);
    expect((await testBmz(bmz, nodeRuntime)).passed).toBe(true);
    await expect
      .poll(() => page.textContent('[data-testid=status]'))
      .toBe('The BioImage Model Zoo package passed its own test.');
    await shot('4-exported');
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 300_000);

  it('denoises with a loaded BMZ package or checkpoint as the trained model did', async () => {
    for (const [name, path] of [
      ['noisy_n2v.zip', trained.bmz!],
      ['noisy_n2v.safetensors', trained.checkpoint!],
    ]) {
      await page.setInputFiles('[data-testid=model-file]', {
        name: name!,
        mimeType: 'application/octet-stream',
        buffer: readFileSync(path!),
      });
      await expect.poll(() => page.textContent('[data-testid=status]')).toMatch(`Loaded ${name}`);
      await page.click('[data-testid=predict]');
      await until('[data-testid=download-tiff]', 30_000);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('[data-testid=download-tiff]'),
      ]);
      const output = await openImageData(new Uint8Array(readFileSync((await download.path())!)), { name });
      const { data } = await output.read();
      const worst = Math.max(...Array.from(data, (v, i) => Math.abs(v - trained.prediction![i]!)));
      expect(worst, name).toBeLessThan(1e-2);
    }
    expect(await page.isVisible('[data-testid=download-onnx]')).toBe(true);
  });

  it('stops N2V2 training and keeps the last finished epoch', async () => {
    await page.selectOption('[data-testid=algorithm]', 'n2v2');
    // So many epochs that training cannot finish before Stop, however fast the machine (CI once ran all 50).
    await page.fill('[data-testid=epochs]', '100000');
    await page.click('[data-testid=train]');
    // Stop is enabled in the same render that cleared the previous run's loss history.
    await until('[data-testid=stop]:enabled', 10_000);
    await expect
      .poll(async () => Number(await page.getAttribute('[data-testid=loss-chart]', 'data-points')), {
        timeout: 90_000,
      })
      .toBeGreaterThanOrEqual(1);
    await page.click('[data-testid=stop]');
    await expect
      .poll(() => page.textContent('[data-testid=status]'), { timeout: 30_000 })
      .toMatch(/Stopped: keeping the model of the last finished epoch/);
    expect(await page.isEnabled('[data-testid=predict]')).toBe(true);
    expect(Number(await page.getAttribute('[data-testid=loss-chart]', 'data-points'))).toBeLessThan(100000);
    await shot('5-stopped');
  });
});

describe.skipIf(!existsSync(CHROMIUM))('web app in headless Chromium on SwiftShader WebGPU', () => {
  let browser: Browser;
  let page: Page;
  const logs: string[] = [];

  beforeAll(async () => {
    ({ browser, page } = await openApp(['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'], logs));
  });

  afterAll(async () => {
    await browser?.close();
    if (logs.length > 0) console.log(logs.join('\n'));
  });

  it('trains on the software adapter when WebGPU is chosen, and denoises', async () => {
    // SwiftShader emulates the GPU on the CPU (seconds a step): one 32² training patch, one epoch.
    const { noisy } = testImage();
    const strip = noisy.slice(0, 32 * 64);
    const tiff = encodeTiff({ data: strip, shape: [32, 64] }, { axes: 'YX' });
    await page.setInputFiles('[data-testid=file]', {
      name: 'strip.tif',
      mimeType: 'image/tiff',
      buffer: Buffer.from(tiff),
    });
    await expect.poll(() => page.textContent('[data-testid=shape]')).toBe('32 × 64');
    await page.fill('[data-testid=patchSize]', '32');
    await page.fill('[data-testid=batchSize]', '1');
    await page.fill('[data-testid=valPatches]', '1');
    await page.fill('[data-testid=epochs]', '1');
    await page.selectOption('[data-testid=device]', 'webgpu');
    await page.click('[data-testid=train]');
    await expect
      .poll(() => page.textContent('[data-testid=backend]'))
      .toBe('WebGPU: google swiftshader (software)');
    const outcome = () =>
      page.$eval(
        '.controls',
        (c) => c.querySelector('[data-testid=status], [data-testid=error]')?.textContent,
      );
    await expect.poll(outcome, { timeout: 60_000 }).toBeTruthy();
    expect(await outcome()).toBe('Training finished.');
    const loss = (await page.textContent('[data-testid=train-progress]'))!.match(/loss (\S+)/)![1];
    expect(Number.isFinite(Number(loss)), `loss ${loss}`).toBe(true);
    await page.screenshot({ path: join(shots, 'webgpu-trained.png'), fullPage: true });

    await page.click('[data-testid=predict]');
    await page.waitForSelector('[data-testid=download-tiff]', { timeout: 30_000 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-tiff]'),
    ]);
    const output = await openImageData(new Uint8Array(readFileSync((await download.path())!)), {
      name: 'strip_n2v.tif',
    });
    expect(output.shape).toEqual([32, 64]);
    expect((await output.read()).data.every((v) => Number.isFinite(v))).toBe(true);
    // No graph fell back to WebAssembly on the way.
    expect(await page.textContent('[data-testid=backend]')).toBe('WebGPU: google swiftshader (software)');
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 90_000);
});
