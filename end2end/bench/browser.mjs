// Browser figures for the benchmark (printed, never asserted): first load to hydrated in
// Debian's Chromium with a cold and a warm cache and the bytes each transfers, for the studio
// (main bundle) and the history page (a lazily loaded route); and the time from Kinema writing a
// task's completion to the open task page showing it (live updates over SSE).
// Run by scripts/test.sh against the release build: node bench/browser.mjs
import { spawn } from 'node:child_process';
import { launchBrowser, setupAdmin, startServer, waitForHydration, fixture } from '../tests/support.mjs';

const SIM_BIN = process.env.KINEMA_SIM_BIN;
const SIM_KEY = 'bench-browser-key';

/** Starts the EvoLink simulator binary on a free port; resolves with its address and process. */
async function startSimulator() {
  const child = spawn(SIM_BIN, ['--listen', '127.0.0.1:0', '--task-seconds', '3'], {
    env: { ...process.env, EVOLINK_SIM_API_KEY: SIM_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start:\n${output}`)), 15_000);
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      const match = output.match(/listening at (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { base, stop: () => child.kill('SIGTERM') };
}

const RUNS = 5;

/** Loads `url` in `page` until hydrated; returns the milliseconds and the bytes transferred. */
async function load(page, url) {
  const started = Date.now();
  await page.goto(url);
  await waitForHydration(page);
  const elapsed = Date.now() - started;
  const bytes = await page.evaluate(() => {
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
    return entries.reduce((sum, e) => sum + (e.transferSize || 0), 0);
  });
  return { elapsed, bytes };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function firstLoads(browser, state, url, name) {
  const cold = [];
  const warm = [];
  for (let run = 0; run < RUNS; run += 1) {
    const context = await browser.newContext({ storageState: state });
    const page = await context.newPage();
    cold.push(await load(page, url));
    warm.push(await load(page, url));
    await context.close();
  }
  const line = (label, runs) =>
    `${label} median ${median(runs.map((r) => r.elapsed))} ms (min ${Math.min(...runs.map((r) => r.elapsed))}), ` +
    `${median(runs.map((r) => r.bytes))} bytes transferred`;
  console.log(`bench browser: ${name} first load to hydrated: ${line('cold cache', cold)}; ${line('warm cache', warm)} (${RUNS} runs)`);
}

async function completionToVisible(browser, state, base, sim) {
  const context = await browser.newContext({ storageState: state });
  const page = await context.newPage();
  await page.goto(base);
  await waitForHydration(page);
  const gaps = [];
  for (let run = 0; run < 3; run += 1) {
    await page.goto(base);
    await waitForHydration(page);
    await page.getByLabel('Character image').setInputFiles(fixture('valid.png'));
    await page.getByText('Uploaded · 600×800 px').waitFor();
    await page.getByLabel('Motion video').setInputFiles(fixture('valid-index-at-end.mp4'));
    await page.getByText('Uploaded · 360×640 px · 5.0 s').waitFor();
    await page.getByRole('button', { name: /^Generate/ }).click();
    await page.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
    await waitForHydration(page);
    const id = page.url().split('/').pop();
    // The page's own clock (the same machine's) when "Completed" first shows, checked every 10 ms.
    const shown = await page
      .waitForFunction(() => (document.querySelector('main')?.innerText.includes('Completed') ? Date.now() : false), null, {
        polling: 10,
        timeout: 90_000,
      })
      .catch(async (err) => {
        throw new Error(`the task did not complete: ${(await page.locator('main').innerText()).slice(0, 400)}\n${err.message}`);
      });
    const shownAt = await shown.jsonValue();
    const stats = await (await fetch(`${sim}/__sim/stats`)).json();
    const finished = Math.max(...Object.values(stats.finished_at_ms || {}));
    if (Number.isFinite(finished) && typeof shownAt === 'number' && id) {
      gaps.push(shownAt - finished);
    }
  }
  await context.close();
  if (gaps.length) {
    console.log(
      `bench browser: the simulator finishes a task → the open task page shows "Completed": median ${median(gaps)} ms, ` +
        `max ${Math.max(...gaps)} ms over ${gaps.length} tasks (polling at most 5 s apart, then archive, then SSE; callbacks not measured: they need an https public address)`,
    );
  } else {
    console.log('bench browser: completion → visible: no figure (no completion could be timed)');
  }
}

if (!SIM_BIN) throw new Error('KINEMA_SIM_BIN is not set (run scripts/test.sh)');
const simulator = await startSimulator();
const sim = simulator.base;
const server = await startServer({
  EVOLINK_API_KEY: SIM_KEY,
  EVOLINK_BASE_URL: sim,
  EVOLINK_FILES_BASE_URL: sim,
  // Polls at most 5 s apart (the default is 60 s): the figure shows the live path, not the pacing.
  KINEMA_POLL_MAX_SECONDS: '5',
});
const browser = await launchBrowser();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await setupAdmin(page, server.base);
  const state = await context.storageState();
  await context.close();
  await firstLoads(browser, state, `${server.base}/`, 'studio (main bundle)');
  await firstLoads(browser, state, `${server.base}/history`, 'history (lazy route)');
  // A figure, not a check: a failure here is reported, not fatal.
  await completionToVisible(browser, state, server.base, sim).catch((err) =>
    console.log(`bench browser: completion → visible: no figure (${err.message.split('\n')[0]})`),
  );
} finally {
  await browser.close();
  await server.stop();
  simulator.stop();
}
