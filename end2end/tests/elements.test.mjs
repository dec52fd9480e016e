// Custom elements through the real UI in Debian's Chromium, against the sandbox simulator (tasks
// take 2 s there): pre-flight checks, create from a video, watch it become ready in the team
// library, pick it in the studio (orientation locks to "Match video"), and see it on the task.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, watchErrors, waitForHydration, setupAdmin, fixture, PASSWORD } from './support.mjs';

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

test('create an element from a video, wait until ready, use it in the studio', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const uploads = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/uploads?')) uploads.push(request.url());
  });
  await setupAdmin(page, server.base);
  await page.getByRole('link', { name: 'Elements' }).click();
  await page.getByRole('heading', { name: 'Elements' }).waitFor();
  await waitForHydration(page);
  const create = page.getByRole('button', { name: 'Create element · 1 credit · about 10 minutes' });

  // Checks before anything is uploaded or sent.
  await page.getByLabel('Reference video').setInputFiles(fixture('element-too-long.mp4'));
  await page.getByRole('alert').filter({ hasText: 'Element video is 10.0 s; it must be at most 8 s.' }).waitFor();
  assert.equal(uploads.length, 0, 'nothing was uploaded');
  await page.getByLabel('Name', { exact: true }).fill('A name that is too long');
  await page.getByText('23 / 20').waitFor();
  await page.getByRole('alert').filter({ hasText: 'Name is 23 characters; it must be at most 20.' }).waitFor();
  assert.ok(await create.isDisabled());

  // A valid element from a video.
  await page.getByLabel('Name', { exact: true }).fill('Mia');
  await page.getByText('3 / 20').waitFor();
  await page.getByLabel('Description', { exact: true }).fill('A dancer with short dark hair');
  await page.getByLabel('Reference video').setInputFiles(fixture('element-face.mp4'));
  await page.getByText('Uploaded · 720×1280 px · 5.0 s').waitFor();
  await page.getByLabel('Voice ID (optional)').fill('829824295735410756');
  await create.click();
  await page.getByRole('status').filter({ hasText: '"Mia" is being created' }).waitFor();
  const card = page.locator('li.element-card').filter({ hasText: 'Mia' });
  await card.waitFor();
  await card.getByText('Made from a video · by Ada Admin').waitFor();
  await card.getByText('Ready', { exact: true }).waitFor({ timeout: 60_000 });

  // The studio offers it; choosing it locks the orientation to "Match video".
  await page.getByRole('link', { name: 'Studio' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  await page.getByLabel('Character image').setInputFiles(fixture('valid.png'));
  await page.getByText('Uploaded · 600×800 px').waitFor();
  await page.getByLabel('Motion video').setInputFiles(fixture('valid-index-at-end.mp4'));
  await page.getByText('Uploaded · 360×640 px · 5.0 s').waitFor();
  const picker = page.getByLabel('Character element (optional)');
  await picker.locator('option', { hasText: 'Mia — Ada Admin' }).waitFor({ state: 'attached' });
  await picker.selectOption({ label: 'Mia — Ada Admin' });
  await page.getByText('Locked to "Match video"').waitFor();
  assert.ok(await page.getByLabel('Match video').isChecked());
  assert.ok(await page.getByLabel('Match image').isDisabled());
  await page.getByRole('button', { name: 'Generate · 40.82 credits' }).click();

  // The task page names the element and follows the task to the end.
  await page.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
  await page.locator('dd.element-used').filter({ hasText: 'Mia' }).waitFor();
  await page.getByText('Completed').waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'History' }).click();
  await page.locator('.history-item .element-used').filter({ hasText: 'Mia' }).waitFor();

  assert.deepEqual(errors, []);
  await context.close();
});

test('create an element from images; the studio does not offer it for Motion Control', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/login`);
  await waitForHydration(page);
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  await page.getByRole('link', { name: 'Elements' }).click();
  await page.getByRole('heading', { name: 'Elements' }).waitFor();

  await page.getByLabel('Name', { exact: true }).fill('Leo');
  await page.getByLabel('Description', { exact: true }).fill('A tall man in a grey suit');
  await page.getByLabel('From images').check();
  const create = page.getByRole('button', { name: 'Create element · 1 credit · about 10 minutes' });
  await page.getByLabel('Frontal image').setInputFiles(fixture('valid.png'));
  await page.getByText('Uploaded · 600×800 px').waitFor();
  assert.ok(await create.isDisabled(), 'at least one other angle is needed');
  await page.getByLabel('Other angle 1').setInputFiles(fixture('valid.jpg'));
  await page.getByText('Uploaded · 768×1024 px').waitFor();
  await create.click();
  const card = page.locator('li.element-card').filter({ hasText: 'Leo' });
  await card.getByText('Made from images · by Ada Admin').waitFor();
  await card.getByText('Ready', { exact: true }).waitFor({ timeout: 60_000 });

  await page.getByRole('link', { name: 'Studio' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  await page.getByText('1 made from images is not offered here').waitFor();
  const options = await page.getByLabel('Character element (optional)').locator('option').allInnerTexts();
  assert.ok(!options.some((o) => o.startsWith('Leo')), `image-made elements are not offered: ${options}`);
  assert.ok(options.some((o) => o.startsWith('Mia')), `the video element still is: ${options}`);

  assert.deepEqual(errors, []);
  await context.close();
});
