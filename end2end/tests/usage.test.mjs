// Budgets and usage through the real UI in Debian's Chromium: the admin sets a small budget in
// place, the member is refused in the studio with the budget message, the usage page shows the
// per-day chart and the charges, and both CSV files download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launchBrowser, watchErrors, waitForHydration, setupAdmin, fixture, waitFor, PASSWORD } from './support.mjs';

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

/** Uploads both fixtures in the studio and waits for the 720p cost on the button. */
async function prepareStudio(page) {
  await page.goto(server.base);
  await waitForHydration(page);
  await page.getByLabel('Character image').setInputFiles(fixture('valid.png'));
  await page.getByText('Uploaded · 600×800 px').waitFor();
  await page.getByLabel('Motion video').setInputFiles(fixture('valid-index-at-end.mp4'));
  await page.getByText('Uploaded · 360×640 px · 5.0 s').waitFor();
  return page.getByRole('button', { name: 'Generate · 40.82 credits' });
}

/** WCAG contrast ratio of two CSS `rgb(…)` colours. */
function contrast(a, b) {
  const luminance = (css) => {
    const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

async function downloadText(page, link) {
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
}

test('a small budget refuses in the studio; usage shows the chart, the charges and the CSV', async () => {
  // The admin sets up the team and invites a member.
  const adminContext = await browser.newContext({ acceptDownloads: true });
  const admin = await adminContext.newPage();
  const adminErrors = watchErrors(admin);
  await setupAdmin(admin, server.base);
  await admin.goto(`${server.base}/admin`);
  await waitForHydration(admin);
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const link = await admin.locator('code.invite-link').textContent();

  const memberContext = await browser.newContext({ acceptDownloads: true });
  const member = await memberContext.newPage();
  const memberErrors = watchErrors(member);
  await member.goto(link);
  await waitForHydration(member);
  await member.getByLabel('Username').fill('moe');
  await member.getByLabel('Display name').fill('Mo Member');
  await member.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await member.getByLabel('Repeat password').fill(PASSWORD);
  await member.getByRole('button', { name: 'Create my account' }).click();
  await member.getByRole('heading', { name: 'Motion studio' }).waitFor();

  // Without a budget the member's first task runs to the end.
  const generate = await prepareStudio(member);
  await generate.click();
  await member.waitForURL(/\/tasks\/[0-9a-f]{32}$/);
  await member.getByText('Completed').waitFor({ timeout: 60_000 });

  // The admin gives the member a 50-credit monthly budget, in place on the team usage page.
  await admin.goto(`${server.base}/admin/usage`);
  await waitForHydration(admin);
  const row = admin.locator('tr[data-username="moe"]');
  await row.locator('td.spent').filter({ hasText: '40.82' }).waitFor();
  await admin.getByLabel('Monthly budget for Mo Member', { exact: true }).fill('50');
  await admin.getByRole('button', { name: 'Save Monthly budget for Mo Member' }).click();
  await waitFor(async () => (await admin.getByLabel('Monthly budget for Mo Member', { exact: true }).inputValue()) === '50.00', 10_000, 'the saved budget');

  // The member's next task would pass the budget: refused in the studio, in plain words.
  const again = await prepareStudio(member);
  await again.click();
  await member
    .getByRole('alert')
    .filter({ hasText: 'This task costs 40.82 credits, but only 9.18 credits of your monthly budget of 50.00 are left. Ask an admin' })
    .waitFor();
  assert.match(member.url(), new RegExp(`^${server.base}/?$`), 'the member stays in the studio');

  // The usage page: budget line, per-day chart (30 and 90 days), the charges.
  await member.getByRole('link', { name: 'Usage' }).click();
  await member.getByText('40.82 of your 50.00 credit monthly budget spent · 9.18 left').waitFor();
  const chart = member.locator('figure.chart svg');
  assert.equal(await chart.getAttribute('data-days'), '30');
  assert.equal(await chart.locator('rect.bar').count(), 1, 'one day with spending');
  await member.getByRole('link', { name: 'Last 90 days' }).click();
  await waitFor(async () => (await chart.getAttribute('data-days')) === '90', 10_000, 'the 90-day chart');
  assert.equal(await chart.locator('rect.bar').count(), 1);
  // The chart reads in light and dark mode: bars and labels stand out from the card behind them.
  for (const colorScheme of ['light', 'dark']) {
    await member.emulateMedia({ colorScheme });
    const colors = await member.evaluate(() => {
      const svg = document.querySelector('figure.chart svg');
      return {
        bar: getComputedStyle(svg.querySelector('rect.bar')).fill,
        label: getComputedStyle(svg.querySelector('text.tick')).fill,
        background: getComputedStyle(svg.closest('.card')).backgroundColor,
      };
    });
    assert.ok(contrast(colors.bar, colors.background) >= 3, `${colorScheme}: bars ${JSON.stringify(colors)}`);
    assert.ok(contrast(colors.label, colors.background) >= 4.5, `${colorScheme}: labels ${JSON.stringify(colors)}`);
  }
  const cardColor = () => member.evaluate(() => getComputedStyle(document.querySelector('.card')).backgroundColor);
  const dark = await cardColor();
  await member.emulateMedia({ colorScheme: 'light' });
  assert.notEqual(await cardColor(), dark, 'the two themes really differ');
  const charges = member.locator('table.charges tbody tr');
  assert.equal(await charges.count(), 2, 'a reservation and its settlement');
  await member.locator('table.charges').getByText('Settled').waitFor();

  // The member's CSV: their two entries, summing to the charge.
  const mine = await downloadText(member, member.getByRole('link', { name: 'Download CSV' }));
  assert.match(mine.name, /^kinema-charges-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = mine.text.trim().split('\n');
  assert.equal(lines[0], 'time (UTC),member,entry,task,model,quality,credits,reason,api_token');
  assert.equal(lines.length, 3);
  assert.ok(lines.slice(1).every((line) => line.split(',')[1] === 'moe'));
  const total = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[6]), 0);
  assert.ok(Math.abs(total + 40.824) < 1e-9, `entries sum to -40.824, got ${total}`);

  // The admin's CSV has the team's entries.
  const team = await downloadText(admin, admin.getByRole('link', { name: 'Download CSV' }));
  assert.match(team.name, /^kinema-team-usage-/);
  assert.equal(team.text.trim().split('\n').length, 3);

  assert.deepEqual(memberErrors, []);
  assert.deepEqual(adminErrors, []);
  await memberContext.close();
  await adminContext.close();
});
