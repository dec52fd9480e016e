// Share links through the real UI: a member shares a completed task, a fresh browser context
// that never signed in opens the link and the video gets playable metadata; after revoking,
// the link answers 404 with a plain page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, watchErrors, waitForHydration, setupAdmin, fixture } from './support.mjs';

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

test('share a finished task, watch it signed out, revoke it', async () => {
  const owner = await browser.newContext();
  await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await owner.newPage();
  const errors = watchErrors(page);
  await setupAdmin(page, server.base);
  await page.getByLabel('Character image').setInputFiles(fixture('valid.png'));
  await page.getByText('Uploaded · 600×800 px').waitFor();
  await page.getByLabel('Motion video').setInputFiles(fixture('valid-index-at-end.mp4'));
  await page.getByText('Uploaded · 360×640 px · 5.0 s').waitFor();
  await page.getByRole('button', { name: /^Generate/ }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
  const taskId = page.url().split('/').pop();
  await page.getByText('Completed').waitFor({ timeout: 60_000 });

  // Share for a day: the link is shown once, with a copy button.
  await page.getByLabel('Link works for').selectOption('1d');
  await page.getByRole('button', { name: 'Create share link' }).click();
  const linkField = page.getByRole('textbox', { name: 'Share link' });
  await linkField.waitFor();
  const link = await linkField.inputValue();
  assert.match(link, new RegExp(`^${server.base}/s/[A-Za-z0-9_-]{43}$`));
  assert.ok(!link.includes(taskId), 'the link names no task');
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText('Copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  await page.getByRole('cell', { name: 'Active', exact: true }).waitFor();

  // Someone who never signed in opens it: the player loads the video's metadata.
  const visitor = await browser.newContext();
  const shared = await visitor.newPage();
  const visitorErrors = watchErrors(shared);
  const opened = await shared.goto(link);
  assert.equal(opened.status(), 200);
  assert.equal(await shared.title(), 'Shared video · Kinema');
  await shared.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.readyState >= 1 && Number.isFinite(v.duration) && v.duration > 0;
  }, null, { timeout: 30_000 });
  const duration = await shared.evaluate(() => document.querySelector('video').duration);
  assert.ok(duration > 4 && duration < 6, `the shared video lasts about 5 s, got ${duration}`);
  const html = await shared.content();
  assert.ok(!html.includes(taskId), 'no task id in the page');
  assert.ok(!html.includes('Ada Admin'), 'no member name in the page');
  await shared.getByRole('link', { name: 'Download' }).waitFor();

  // The owner revokes it; the link stops at once, with a plain page.
  await page.getByRole('button', { name: /^Revoke the link/ }).click();
  await page.getByRole('cell', { name: 'Revoked', exact: true }).waitFor();
  const stopped = await shared.reload();
  assert.equal(stopped.status(), 404);
  await shared.getByText('This link has expired or was revoked.').waitFor();
  assert.equal(await shared.locator('video').count(), 0);

  // The account page lists it (an admin sees everyone's links).
  await page.goto(`${server.base}/account`);
  await waitForHydration(page);
  await page.getByRole('heading', { name: "Shared links (everyone's)" }).waitFor();
  await page.getByRole('cell', { name: 'Revoked', exact: true }).waitFor();

  assert.deepEqual(errors, []);
  assert.deepEqual(visitorErrors.filter((e) => !/status of 404/.test(e)), []);
  await visitor.close();
  await owner.close();
});
