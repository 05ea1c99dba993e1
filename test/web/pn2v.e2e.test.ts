/**
 * The web app's PN2V flow in headless Chromium (WebAssembly, no GPU): train N2V briefly on a synthetic noisy image,
 * "Improve with PN2V" (noise model bootstrapped and fitted in the browser, pn2v trained with the same settings, the
 * posterior mean predicted), download both results and compare them with the clean image. The app's fixed default
 * seed makes the run reproducible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTiff, openImageData, psnr } from '../../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, '../../web/vite.config.ts');
const SIZE = 128;
const EPOCHS = 30;

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

/**
 * SIZE² float32 stripes and a disc (130–310) and that plus Gaussian noise σ = 25 (seeded LCG, Box–Muller): kept
 * positive, since CAREamics' noise model config refuses a negative min_signal.
 */
function testImage(): { clean: Float32Array; noisy: Float32Array } {
  let seed = 7;
  const uniform = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return (seed + 0.5) / 2 ** 32;
  };
  const clean = new Float32Array(SIZE * SIZE);
  const noisy = new Float32Array(SIZE * SIZE);
  const c = SIZE / 2;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = y * SIZE + x;
      clean[i] = 180 + 50 * Math.sin((x + y) / 6) + ((x - c) ** 2 + (y - c) ** 2 < 900 ? 80 : 0);
      const noise = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      noisy[i] = clean[i]! + 25 * noise;
    }
  }
  return { clean, noisy };
}

describe.skipIf(!existsSync(CHROMIUM))('web app: Improve with PN2V (headless Chromium, WebAssembly)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  const logs: string[] = [];

  const until = (selector: string, timeout: number) =>
    page.waitForSelector(selector, { timeout }).catch(async (err: Error) => {
      throw new Error(`${err.message}\npage: ${await page.textContent('.controls')}`);
    });

  /** Clicks `button` and reads the TIFF it downloads. */
  const downloaded = async (button: string, name: string): Promise<Float32Array> => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    expect(file.suggestedFilename()).toBe(name);
    const image = await openImageData(new Uint8Array(readFileSync((await file.path())!)), { name });
    expect(image.shape).toEqual([SIZE, SIZE]);
    return Float32Array.from((await image.read()).data);
  };

  beforeAll(async () => {
    await build({ configFile, logLevel: 'error' });
    const port = await freePort();
    server = await preview({
      configFile,
      logLevel: 'error',
      preview: { host: '127.0.0.1', port, strictPort: true },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--no-first-run',
        '--disable-gpu',
        '--disable-background-networking',
      ],
    });
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1100, height: 1200 } });
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (logs.length > 0) console.log(logs.join('\n'));
  });

  it('fits a noise model to the N2V prediction, trains pn2v and predicts the posterior mean', async () => {
    const { clean, noisy } = testImage();
    const tiff = encodeTiff({ data: noisy, shape: [SIZE, SIZE] }, { axes: 'YX' });
    await page.setInputFiles('[data-testid=file]', {
      name: 'noisy.tif',
      mimeType: 'image/tiff',
      buffer: Buffer.from(tiff),
    });
    await expect.poll(() => page.textContent('[data-testid=shape]')).toBe(`${SIZE} × ${SIZE}`);
    expect(await page.inputValue('[data-testid=seed]')).toBe('42');
    // 14 training patches of 32², 3 steps of 4 an epoch.
    await page.fill('[data-testid=patchSize]', '32');
    await page.fill('[data-testid=batchSize]', '4');
    await page.fill('[data-testid=valPatches]', '2');
    await page.fill('[data-testid=epochs]', String(EPOCHS));
    let started = performance.now();
    await page.click('[data-testid=train]');
    await until('[data-testid=predict]', 120_000);
    const n2vSeconds = (performance.now() - started) / 1000;
    await page.click('[data-testid=predict]');
    await until('[data-testid=download-tiff]', 60_000);
    const n2v = await downloaded('[data-testid=download-tiff]', 'noisy_n2v.tif');

    started = performance.now();
    await page.click('[data-testid=improve-pn2v]');
    await until('[data-testid=fit-progress], [data-testid=noise-model]', 60_000);
    await until('[data-testid=noise-model]', 120_000);
    const fitSeconds = (performance.now() - started) / 1000;
    // Gaussian noise σ = 25. The bootstrapped fit sees N2V's own error too (a short run, so a blurred prediction):
    // its std range (25.4–33.7 measured at these 30 epochs; 14.6–74.9 at 20) must overlap the noise's scale, and must
    // not be the variance floor (CAREamics' 125 held the fit at 11.2 before the floor was scaled to the data).
    const summary = (await page.textContent('[data-testid=noise-model-summary]'))!;
    const [low, high] = summary
      .match(/noise std ([\d.]+)–([\d.]+)/)!
      .slice(1)
      .map(Number) as [number, number];
    expect(low, summary).toBeLessThan(40);
    expect(high, summary).toBeGreaterThan(20);
    await until('[data-testid=download-pn2v-tiff]', 180_000);
    const pn2vSeconds = (performance.now() - started) / 1000;
    expect(await page.isVisible('[data-testid=error]')).toBe(false);
    expect(await page.isChecked('[data-testid=show-pn2v]')).toBe(true);
    const pn2v = await downloaded('[data-testid=download-pn2v-tiff]', 'noisy_pn2v.tif');
    expect(pn2v.every(Number.isFinite)).toBe(true);

    const [onnx] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-pn2v-onnx]'),
    ]);
    expect(onnx.suggestedFilename()).toBe('noisy_pn2v.onnx');

    const scores = {
      noisy: psnr(clean, noisy, 255),
      n2v: psnr(clean, n2v, 255),
      pn2v: psnr(clean, pn2v, 255),
    };
    console.log(
      `PSNR dB ${JSON.stringify(scores)}; ${summary}; N2V ${n2vSeconds.toFixed(1)} s, noise model ${fitSeconds.toFixed(1)} s, ` +
        `PN2V total ${pn2vSeconds.toFixed(1)} s`,
    );
    // Seeded (the app's default seed 42), two runs gave identical numbers: noisy 20.20, N2V 24.51, PN2V (MMSE)
    // 25.60 dB. At 20 epochs N2V was still worse than the noisy image (15.31 dB), PN2V 21.41: too short to compare.
    expect(scores.n2v).toBeGreaterThan(scores.noisy + 2);
    expect(scores.pn2v).toBeGreaterThanOrEqual(scores.n2v);
  }, 360_000);
});
