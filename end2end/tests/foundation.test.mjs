// First-run setup, sign-in (with and without JavaScript), navigation and sign-out, in Debian's
// Chromium against the release build that the README's first command serves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, watchErrors, waitForHydration, waitFor, PASSWORD } from './support.mjs';

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

test('first-run setup, navigation and sign-out on the hydrated release build', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);

  await page.goto(server.base);
  assert.match(page.url(), /\/setup$/);
  await waitForHydration(page);
  await page.getByRole('heading', { name: 'Welcome to Kinema' }).waitFor();

  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Display name').fill('Ada Admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin account' }).click();

  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  await page.getByText('Sandbox').first().waitFor();

  // Client-side navigation keeps the page alive: only a hydrated router can do that.
  await page.evaluate(() => { window.__kinemaMarker = 'still here'; });
  await page.getByRole('link', { name: 'History' }).click();
  await page.getByRole('heading', { name: 'History' }).waitFor();
  assert.match(page.url(), /\/history$/);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await page.getByRole('heading', { name: 'Members' }).waitFor();
  await page.getByRole('cell', { name: 'Ada Admin', exact: true }).waitFor();
  // In sandbox mode the connection check reaches the in-process simulator.
  await page.getByRole('button', { name: 'Check EvoLink connection' }).click();
  await page.getByText('Connected to the built-in EvoLink simulator').waitFor();
  await page.getByText('Account balance: 10000.00 credits').waitFor();
  assert.equal(await page.evaluate(() => window.__kinemaMarker), 'still here');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.waitForURL(/\/login/);

  // Signed out for real: a protected page sends us back to sign-in.
  await page.goto(`${server.base}/history`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  assert.deepEqual(errors, []);
  await context.close();
});

test('sign-in with JavaScript shows errors in place and signs in', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/login`);
  await waitForHydration(page);

  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('sign-in works with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.base}/login`);

  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Wrong username or password.').waitFor();

  // The page was reloaded by the form post: fill both fields again.
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  // Without scripts the navigation is still there.
  await page.getByRole('link', { name: 'History' }).waitFor();
  await context.close();
});

test('the browser files arrive compressed and cached for good; a second visit fetches none', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const wasm = [];
  cdp.on('Network.responseReceived', ({ response }) => {
    if (response.url.endsWith('.wasm')) wasm.push(response);
  });

  await page.goto(`${server.base}/login`);
  await waitForHydration(page);
  await waitFor(async () => wasm.length > 0, 10_000, 'the WASM response');
  const first = wasm[0];
  const headers = Object.fromEntries(Object.entries(first.headers).map(([k, v]) => [k.toLowerCase(), v]));
  assert.match(first.url, /\/assets\/[0-9a-f]{16}\/kinema\.wasm$/, 'a versioned link');
  assert.equal(headers['content-encoding'], 'br');
  assert.match(headers['cache-control'], /max-age=31536000/);
  assert.match(headers['cache-control'], /immutable/);
  assert.equal(first.fromDiskCache || first.fromServiceWorker, false, 'the first visit fetched it');

  // A second visit in the same browser hydrates from the cache: nothing goes over the network
  // (the Resource Timing API reports 0 bytes transferred for a cache hit).
  const transferred = () => page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith('.wasm')).map((e) => e.transferSize));
  const firstSizes = await transferred();
  assert.ok(firstSizes.length > 0 && firstSizes.some((n) => n > 0), `first visit: ${firstSizes}`);
  await page.goto(`${server.base}/login`);
  await waitForHydration(page);
  const secondSizes = await transferred();
  assert.ok(secondSizes.length > 0, 'the second visit loaded the WASM');
  assert.deepEqual(secondSizes.filter((n) => n > 0), [], `the second visit fetched the WASM again: ${secondSizes}`);

  assert.deepEqual(errors, []);
  await context.close();
});
