// The motion studio through the real UI in Debian's Chromium, against the sandbox simulator:
// checks before upload, cost, submit, progress, the result playing, Run again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, watchErrors, waitForHydration, setupAdmin, signIn, waitFor, fixture } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('upload, see the cost, generate, watch progress, play the result, run again', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const uploads = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/uploads?')) uploads.push(request.url());
  });
  await setupAdmin(page, server.base);
  await page.goto(server.base);
  await waitForHydration(page);

  // An invalid file is refused in the browser, before any upload.
  await page.getByLabel('Motion video').setInputFiles(fixture('too-short.mp4'));
  await page.getByRole('alert').filter({ hasText: 'Video is 2.0 s; it must be at least 3 s.' }).waitFor();
  assert.equal(uploads.length, 0, 'nothing was uploaded');

  await page.getByLabel('Character image').setInputFiles(fixture('valid.png'));
  await page.getByText('Uploaded · 600×800 px').waitFor();
  await page.getByLabel('Motion video').setInputFiles(fixture('valid-index-at-end.mp4'));
  await page.getByText('Uploaded · 360×640 px · 5.0 s').waitFor();
  assert.equal(uploads.length, 2);

  // The exact cost is on the button and follows the options.
  await page.getByRole('button', { name: 'Generate · 40.82 credits' }).waitFor();
  await page.getByLabel('1080p').check();
  await page.getByRole('button', { name: 'Generate · 54.42 credits' }).waitFor();
  await page.getByLabel('720p').check();
  await page.getByLabel('Prompt (optional)').fill('A calm dance');
  if (process.env.KINEMA_SCREENSHOT) {
    await page.setViewportSize({ width: 1100, height: 1400 });
    await page.screenshot({ path: process.env.KINEMA_SCREENSHOT, fullPage: true });
  }
  await page.getByRole('button', { name: 'Generate · 40.82 credits' }).click();

  // The task page follows it live to the end.
  await page.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
  await page.getByRole('heading', { name: 'Motion task' }).waitFor();
  await page.getByRole('progressbar', { name: 'Progress' }).waitFor();
  await page.getByText('Completed').waitFor({ timeout: 60_000 });
  const video = page.getByLabel('Result video');
  await video.waitFor();
  await page.waitForFunction(() => {
    const v = document.querySelector('video.result');
    return v && Number.isFinite(v.duration) && v.duration > 0;
  }, null, { timeout: 30_000 });
  const duration = await page.evaluate(() => document.querySelector('video.result').duration);
  assert.ok(duration > 4 && duration < 6, `result plays for about 5 s, got ${duration}`);
  await page.getByText('Final 40.82 credits · reserved 40.82').waitFor();

  // Run again brings the same inputs and options back.
  await page.getByRole('link', { name: 'Run again' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  await page.getByText('Uploaded · 600×800 px').waitFor();
  await page.getByText('Uploaded · 360×640 px · 5.0 s').waitFor();
  assert.equal(await page.getByLabel('Prompt (optional)').inputValue(), 'A calm dance');
  await page.getByRole('button', { name: 'Generate · 40.82 credits' }).waitFor();

  // History lists it.
  await page.getByRole('link', { name: 'History' }).click();
  await page.getByText('0 running · 1 completed · 0 failed').waitFor();

  assert.deepEqual(errors, []);
  await context.close();
});

test('an upload can be cancelled halfway and leaves nothing on the server', async () => {
  // A valid 40 MB MP4: the small fixture (index at the start) plus a `free` box.
  const seed = readFileSync(fixture('valid-index-at-start.mp4'));
  const size = 40 * 1024 * 1024;
  const big = Buffer.alloc(size);
  seed.copy(big);
  big.writeUInt32BE(size - seed.length, seed.length);
  big.write('free', seed.length + 4, 'ascii');
  const bigPath = join(mkdtempSync(join(tmpdir(), 'kinema-e2e-big-')), 'big.mp4');
  writeFileSync(bigPath, big);

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, server.base);
  // Every file under the local object store; an upload in progress is a staging file whose name
  // has a '#' (object_store's local multipart upload) next to where the object will be.
  const files = () => {
    const root = join(server.dataDir, 'media', 'objects');
    if (!existsSync(root)) return [];
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
  };
  const objects = () => files().filter((path) => !path.includes('#')).length;
  const temporary = () => files().filter((path) => path.includes('#')).length;
  const before = objects();
  // Slow the upload down so there is time to cancel it.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024,
  });
  await page.getByLabel('Motion video').setInputFiles(bigPath);
  await page.getByRole('progressbar', { name: 'Motion video upload' }).waitFor();
  await waitFor(() => temporary() === 1, 20_000, 'the upload to be written on the server');
  await page.getByRole('button', { name: 'Cancel upload' }).click();
  await page.getByRole('alert').filter({ hasText: 'Upload cancelled.' }).waitFor();
  await waitFor(() => temporary() === 0, 20_000, 'the partial upload to be removed');
  assert.equal(objects(), before, 'nothing was stored');
  await context.close();
});
