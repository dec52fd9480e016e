// The team platform through the real UI in Debian's Chromium: a member creates an API token on
// the "API tokens" page, sees it in full once (after a reload only its prefix), uses it on the
// gateway and revokes it (the gateway then answers 401); the admin filters the audit log by
// member and by action and sees only the matching rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, watchErrors, waitForHydration, setupAdmin, waitFor, PASSWORD } from './support.mjs';

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

/** `GET /v1/credits` on the gateway with `token`; the status. */
async function credits(token) {
  const response = await fetch(`${server.base}/v1/credits`, { headers: { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/** The audit table's rows as { actor, action } (action: the row's data-action). */
async function auditRows(page) {
  return page.locator('table.audit tbody tr').evaluateAll((rows) =>
    rows.map((row) => ({ actor: row.cells[1].textContent.trim(), action: row.dataset.action })),
  );
}

test('a member makes, sees once and revokes a token; the admin filters the audit log', async () => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const adminErrors = watchErrors(admin);
  await setupAdmin(admin, server.base);
  await admin.goto(`${server.base}/admin`);
  await waitForHydration(admin);
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const link = await admin.locator('code.invite-link').textContent();

  const memberContext = await browser.newContext();
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

  // The member creates a token: shown in full, once.
  await member.getByRole('link', { name: 'API tokens' }).click();
  await member.getByRole('heading', { name: 'API tokens' }).waitFor();
  await waitForHydration(member);
  await member.getByLabel('Name').fill('notebook');
  await member.getByRole('button', { name: 'Create token' }).click();
  const shown = member.locator('code.new-token');
  await shown.waitFor();
  const token = (await shown.textContent()).trim();
  assert.match(token, /^kin_[A-Za-z0-9_-]{43}$/);
  await member.getByText('it is shown only once').waitFor();
  const row = member.locator('tr').filter({ hasText: 'notebook' });
  await row.waitFor();
  const prefix = (await row.locator('code').textContent()).replace('…', '');
  assert.ok(token.startsWith(prefix) && prefix.length < token.length, `prefix ${prefix} of the token`);
  assert.equal(await credits(token), 200, 'the new token works on the gateway');

  // After a reload only the prefix is left, nowhere the whole token.
  await member.reload();
  await waitForHydration(member);
  await member.locator('tr').filter({ hasText: 'notebook' }).waitFor();
  assert.equal(await member.locator('code.new-token').count(), 0);
  const html = await member.content();
  assert.ok(!html.includes(token), 'the whole token is not on the page any more');
  assert.ok(html.includes(`${prefix}…`), 'its prefix is');
  await member.locator('tr').filter({ hasText: 'notebook' }).getByText('never').first().waitFor();

  // Revoked, it stops working at once.
  await member.getByRole('button', { name: 'Revoke notebook' }).click();
  await member.locator('tr').filter({ hasText: 'notebook' }).getByText(/^Revoked /).waitFor();
  assert.equal(await member.getByRole('button', { name: 'Revoke notebook' }).count(), 0);
  assert.equal(await credits(token), 401, 'a revoked token gets 401');

  // The admin's audit log: everything, then only the member's, then only one action of them.
  await admin.goto(`${server.base}/admin/audit`);
  await waitForHydration(admin);
  await admin.locator('table.audit').waitFor();
  const everything = await auditRows(admin);
  assert.ok(everything.some((r) => r.actor === 'ada'), JSON.stringify(everything));
  assert.ok(everything.some((r) => r.actor === 'moe'), JSON.stringify(everything));

  await admin.getByRole('combobox', { name: /^Member/ }).selectOption({ label: 'moe' });
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.waitForURL(/member=\d+/);
  await waitFor(async () => {
    const rows = await auditRows(admin);
    return rows.length > 0 && rows.every((r) => r.actor === 'moe');
  }, 10_000, 'only moe\'s entries');
  const moes = await auditRows(admin);
  assert.deepEqual(
    moes.map((r) => r.action).sort(),
    ['member_joined', 'token_created', 'token_revoked'],
    JSON.stringify(moes),
  );

  await admin.getByRole('combobox', { name: /^Action/ }).selectOption({ label: 'API token revoked' });
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.waitForURL(/action=token_revoked/);
  await waitFor(async () => (await auditRows(admin)).length === 1, 10_000, 'one revocation');
  assert.deepEqual(await auditRows(admin), [{ actor: 'moe', action: 'token_revoked' }]);
  await admin.getByText('1 entries · page 1 of 1').waitFor();
  const cells = admin.locator('table.audit tbody tr td');
  assert.equal((await cells.nth(3).textContent()).trim(), prefix, 'the target is the token prefix');
  assert.match(await cells.nth(4).textContent(), /"notebook" of moe/);

  // An action nobody took: no rows, said so.
  await admin.getByRole('combobox', { name: /^Member/ }).selectOption({ label: 'Anyone' });
  await admin.getByRole('combobox', { name: /^Action/ }).selectOption({ label: 'Credits adjusted' });
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.getByText('No entries match.').waitFor();

  assert.deepEqual(memberErrors, []);
  assert.deepEqual(adminErrors, []);
  await memberContext.close();
  await adminContext.close();
});
