// Single sign-on through the real UI in Debian's Chromium, against a real OpenID Connect
// provider on loopback (PyPI's oidc-provider-mock, installed by scripts/setup.sh --test), whose
// login form the browser fills in: a person from an allowed domain becomes a member and lands
// in the studio; one from a disallowed domain is sent back to the sign-in page, which says why;
// once an admin signs in through the provider, the password form can be switched off and the
// sign-in page offers only the provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startServer, launchBrowser, watchErrors, waitForHydration, setupAdmin, waitFor } from './support.mjs';

let provider;
let issuer;
let server;
let browser;

/** A free loopback port. */
async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  provider = spawn('oidc-provider-mock', ['--host', '127.0.0.1', '--port', String(port), '--require-nonce', 'true'], {
    stdio: 'ignore',
  });
  await waitFor(async () => {
    try {
      return (await fetch(`${issuer}/.well-known/openid-configuration`)).ok;
    } catch {
      return false;
    }
  }, 30_000, 'the OIDC provider to answer');
  server = await startServer({
    KINEMA_OIDC_ISSUER: issuer,
    KINEMA_OIDC_CLIENT_ID: 'kinema',
    KINEMA_OIDC_CLIENT_SECRET: 'kinema-client-secret',
    KINEMA_OIDC_ALLOWED_DOMAINS: 'example.com',
    KINEMA_OIDC_ADMIN_GROUP: 'kinema-admins',
    KINEMA_OIDC_PROVIDER_NAME: 'Acme ID',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  provider?.kill();
});

/** The browser errors of a page that visited the provider, without the provider's stylesheet,
 * which its login form loads from a CDN this closed network cannot reach. */
const kinemaErrors = (errors) => errors.filter((e) => e !== 'console: Failed to load resource: net::ERR_NAME_NOT_RESOLVED');

/** From Kinema's sign-in page through the provider's login form as `sub`. */
async function signInWithProvider(page, sub) {
  await page.goto(`${server.base}/login`);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Sign in with Acme ID' }).click();
  await page.waitForURL(`${issuer}/**`);
  await page.getByRole('heading', { name: 'Authorize Client' }).waitFor();
  await page.getByPlaceholder('sub').fill(sub);
  await page.getByRole('button', { name: 'Authorize', exact: true }).click();
}

test('sign-in through the provider makes the member; a disallowed domain is refused', async () => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const adminErrors = watchErrors(admin);
  await setupAdmin(admin, server.base);

  // An allowed domain: the provider's login form, then Kinema's studio, signed in.
  const miaContext = await browser.newContext();
  const mia = await miaContext.newPage();
  const miaErrors = watchErrors(mia);
  await signInWithProvider(mia, 'mia@example.com');
  await mia.getByRole('heading', { name: 'Motion studio' }).waitFor();
  assert.equal(new URL(mia.url()).pathname, '/');
  await waitForHydration(mia);
  await mia.getByRole('link', { name: 'mia' }).waitFor();

  // A disallowed domain: back on the sign-in page, told why in plain words.
  const eveContext = await browser.newContext();
  const eve = await eveContext.newPage();
  const eveErrors = watchErrors(eve);
  await signInWithProvider(eve, 'eve@elsewhere.test');
  await eve.waitForURL(`${server.base}/login`);
  await eve
    .getByRole('alert')
    .filter({
      hasText:
        'eve@elsewhere.test may not join this team: addresses at elsewhere.test are not allowed and there is no invite for eve@elsewhere.test. Ask your admin for an invite.',
    })
    .waitFor();
  await eve.getByRole('heading', { name: 'Sign in' }).waitFor();

  // The admin sees mia as a member, and no eve.
  await admin.goto(`${server.base}/admin`);
  await waitForHydration(admin);
  const members = admin.locator('table').first();
  await members.getByRole('cell', { name: 'mia', exact: true }).waitFor();
  assert.equal(await members.getByText('eve', { exact: false }).count(), 0);

  assert.deepEqual(kinemaErrors(miaErrors), []);
  assert.deepEqual(kinemaErrors(eveErrors), []);
  assert.deepEqual(adminErrors, []);
  await miaContext.close();
  await eveContext.close();
  await adminContext.close();
});

test('once an admin signs in with the provider, the password form can be switched off', async () => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const adminErrors = watchErrors(admin);
  await admin.goto(`${server.base}/login`);
  await waitForHydration(admin);
  await admin.getByLabel('Username').fill('ada');
  await admin.getByLabel('Password').fill('correct horse battery');
  await admin.getByRole('button', { name: 'Sign in', exact: true }).click();
  await admin.getByRole('heading', { name: 'Motion studio' }).waitFor();

  // No admin signs in through the provider yet: switching off is refused, in plain words.
  await admin.goto(`${server.base}/admin/sign-in`);
  await waitForHydration(admin);
  await admin.getByText('Members sign in with Acme ID or with their Kinema password.').waitFor();
  await admin.getByRole('button', { name: 'Switch password sign-in off' }).click();
  await admin.getByText('Switch password sign-in off only once an admin has signed in with Acme ID').waitFor();

  // An admin of the provider's admin group signs in; now the switch works.
  const claims = await fetch(`${issuer}/users/${encodeURIComponent('boss@example.com')}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'boss@example.com', groups: ['kinema-admins'] }),
  });
  assert.equal(claims.status, 204);
  const bossContext = await browser.newContext();
  const boss = await bossContext.newPage();
  await signInWithProvider(boss, 'boss@example.com');
  await boss.getByRole('heading', { name: 'Motion studio' }).waitFor();
  await waitForHydration(boss);
  await boss.getByRole('link', { name: 'Admin' }).waitFor();

  await admin.reload();
  await waitForHydration(admin);
  await admin.getByText('1 admin signs in with Acme ID.').waitFor();
  await admin.getByRole('button', { name: 'Switch password sign-in off' }).click();
  await admin.getByText('Members sign in with Acme ID only: password sign-in is off.').waitFor();
  await admin.getByRole('button', { name: 'Switch password sign-in on' }).waitFor();

  // The sign-in page now offers only the provider.
  const visitorContext = await browser.newContext();
  const visitor = await visitorContext.newPage();
  const visitorErrors = watchErrors(visitor);
  await visitor.goto(`${server.base}/login`);
  await waitForHydration(visitor);
  await visitor.getByRole('link', { name: 'Sign in with Acme ID' }).waitFor();
  assert.equal(await visitor.getByLabel('Password').count(), 0);
  assert.equal(await visitor.getByRole('button', { name: 'Sign in', exact: true }).count(), 0);

  // Switched back on, the form returns.
  await admin.getByRole('button', { name: 'Switch password sign-in on' }).click();
  await admin.getByText('Members sign in with Acme ID or with their Kinema password.').waitFor();
  await visitor.reload();
  await waitForHydration(visitor);
  await visitor.getByLabel('Password').waitFor();

  assert.deepEqual(adminErrors, []);
  assert.deepEqual(visitorErrors, []);
  await visitorContext.close();
  await bossContext.close();
  await adminContext.close();
});
