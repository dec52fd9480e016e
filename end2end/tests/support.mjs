// Starts the release build of Kinema on a free port with a fresh data directory, and Debian's
// Chromium through playwright-core. Used by every browser test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const SERVER_BIN = process.env.KINEMA_SERVER_BIN;
const CHROMIUM = process.env.KINEMA_CHROMIUM || '/usr/bin/chromium';

export const PASSWORD = 'correct horse battery';

/** Starts kinema-server; resolves once it prints its address. It runs in its fresh data
 * directory, with no `target/` or site directory anywhere: the binary must carry its browser files. */
export async function startServer(extraEnv = {}) {
  if (!SERVER_BIN) throw new Error('KINEMA_SERVER_BIN is not set (run scripts/test.sh)');
  const dataDir = mkdtempSync(join(tmpdir(), 'kinema-e2e-'));
  const inherited = { ...process.env };
  delete inherited.KINEMA_SITE_ROOT;
  delete inherited.LEPTOS_SITE_ROOT;
  const child = spawn(SERVER_BIN, [], {
    cwd: dataDir,
    env: {
      ...inherited,
      KINEMA_DATA_DIR: dataDir,
      KINEMA_LISTEN: '127.0.0.1:0',
      KINEMA_LOG: 'warn',
      DATABASE_URL: '',
      EVOLINK_API_KEY: '',
      KINEMA_SANDBOX_TASK_SECONDS: '2',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/Kinema is running at (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    base,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches Debian's Chromium headless with the flags this machine's closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects page errors and console errors so tests can assert there were none. */
export function watchErrors(page) {
  const errors = [];
  hydrationErrors.set(page, errors);
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A refused form submission (4xx) is logged by the browser; it is expected, not a fault.
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/** The path of a committed media fixture. */
export const fixture = (name) => new URL(`../../server/tests/fixtures/media/${name}`, import.meta.url).pathname;

/** Creates the first admin through the setup page and leaves the page signed in. */
export async function setupAdmin(page, base) {
  await page.goto(base);
  await waitForHydration(page);
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Display name').fill('Ada Admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
}

/** Signs in as the admin made by `setupAdmin`. */
export async function signIn(page, base) {
  await page.goto(`${base}/login`);
  await waitForHydration(page);
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Motion studio' }).waitFor();
}

/** Waits until `condition()` is true, polling, or fails after `ms`. */
export async function waitFor(condition, ms, what) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const hydrationErrors = new WeakMap();

/** Waits until the WASM has hydrated the page (the hydrate entry marks <body>); on failure the
 * error names the page and any errors the browser reported. */
export async function waitForHydration(page) {
  try {
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  } catch (err) {
    const seen = hydrationErrors.get(page) || [];
    throw new Error(`${page.url()} did not hydrate; browser errors: ${JSON.stringify(seen)}\n${err.message}`);
  }
}
