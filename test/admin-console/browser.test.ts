/**
 * The admin console in headless Chromium (Debian's chromium, driven by playwright-core): a full
 * admin signs in through the code flow, creates a user (and sees the server's error next to the
 * field), rotates a client secret (shown once, copied), ends a session and filters the event log;
 * an organization's administrator sees only their organization and, without any CLI, adds a
 * user, registers their IdP by uploading its certificate and ends a session. Screenshots of each
 * page at desktop width and one at 360 px go to docs/ (SQLite run only).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONSOLE_CLIENT_ID } from '../../src/http/console/console-client.ts';
import { listeningHarness } from '../code-flow/flow.ts';
import { assertChromiumInstalled, launchChromium } from '../support/chromium.ts';
import { type Harness, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { testIdp } from '../support/test-idp.ts';

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 360, height: 760 };

type Role = 'admin' | 'org-admin';

async function grantRole(h: Harness, userId: string, role: Role): Promise<void> {
  await h.store.users.update(userId, { role });
}

for (const [index, kind] of storeKinds().entries()) {
  describe(`admin console in headless Chromium [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let browser: Browser;
    let admin: Seeded;
    let orgAdmin: Seeded;
    let orgMember: Seeded;
    let acmeOrg: string;
    const cspErrors: string[] = [];
    const shoot = async (page: Page, name: string) => {
      if (index !== 0) return;
      mkdirSync('docs', { recursive: true });
      await page.screenshot({ path: `docs/console-${name}.png`, fullPage: true });
    };

    before(async () => {
      assertChromiumInstalled();
      ({ h, origin } = await listeningHarness({ kind }));
      admin = await h.seed({
        email: 'ada@sei.example',
        client: { name: 'Acme Reports', redirectUrls: ['https://reports.acme.example/callback'] },
      });
      await grantRole(h, admin.userId, 'admin');
      acmeOrg = (await h.services.accounts.createOrg({ name: 'Acme' })).id;
      orgAdmin = await h.seed({ email: 'it@acme.example', orgId: acmeOrg });
      await grantRole(h, orgAdmin.userId, 'org-admin');
      orgMember = await h.seed({ email: 'mia@acme.example', orgId: acmeOrg });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await h?.close();
    });

    async function signedIn(user: Seeded, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) cspErrors.push(message.text());
      });
      // /admin without a session → /admin/login → the login page of sei-auth itself.
      await page.goto(`${origin}/admin`);
      assert.match(page.url(), /\/oauth\/authorize\?/);
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/admin');
      return { context, page };
    }

    const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).click();

    test('an admin signs in and creates a user; a refused field shows the server’s error beside it', async () => {
      const { context, page } = await signedIn(admin);
      await page.getByRole('button', { name: 'New user' }).click();
      const form = page.getByRole('form', { name: 'New user' });
      const email = 'new.hire@sei.example';
      await form.getByLabel('Email').fill(email);
      await form.getByLabel('Password').fill('short');
      await form.getByRole('button', { name: 'Create user' }).click();
      const error = form.locator('#create-users-password-error');
      await error.waitFor();
      assert.match((await error.textContent()) ?? '', /password/i);
      assert.equal(await form.getByLabel('Password').getAttribute('aria-invalid'), 'true');
      await form.getByLabel('Password').fill('a long enough password');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('status').filter({ hasText: 'Created user' }).waitFor();
      await page.getByRole('cell', { name: email }).waitFor();
      const created = await h.store.users.findByEmail(email);
      assert.ok(created, 'the user exists');
      await shoot(page, 'users');
      await context.close();
    });

    test('an admin rotates a client secret: shown once, with a copy button', async () => {
      const { context, page } = await signedIn(admin);
      await nav(page, 'Clients');
      await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
      await page.getByRole('button', { name: 'Acme Reports' }).first().click();
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByLabel('Old secret keeps working for (s)').fill('300');
      await page.getByRole('form', { name: 'Rotate secret' }).getByRole('button', { name: 'Rotate secret' }).click();
      const secret = page.getByLabel('Client secret', { exact: true });
      await secret.waitFor();
      const value = await secret.inputValue();
      assert.match(value, /^[a-z]+_[A-Za-z0-9_-]{43}$/);
      await page.getByRole('button', { name: 'Copy' }).click();
      await page.getByRole('button', { name: 'Copied' }).waitFor();
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), value);
      // The new secret works at the token endpoint.
      const res = await passwordLogin(h, { ...admin, clientSecret: value });
      assert.equal(res.statusCode, 200, res.body);
      await shoot(page, 'clients');
      await page.getByRole('button', { name: 'I have stored it' }).click();
      assert.equal(await page.getByLabel('Client secret', { exact: true }).count(), 0, 'never shown again');
      await context.close();
    });

    test('an admin ends a session (after confirming) and filters the event log', async () => {
      const login = await passwordLogin(h, orgMember);
      assert.equal(login.statusCode, 200);
      const { context, page } = await signedIn(admin);
      await page.goto(`${origin}/admin/sessions?user=${orgMember.userId}`);
      await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
      const active = (await h.services.sessions.listActive(orgMember.userId)).filter((s) => s.clientId !== CONSOLE_CLIENT_ID);
      assert.ok(active.length >= 1);
      const target = active[0]!;
      await page.getByRole('button', { name: target.id }).click();
      await page.getByRole('button', { name: 'End session' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      await shoot(page, 'sessions');
      await dialog.getByRole('button', { name: 'End session' }).click();
      await page.getByRole('status').filter({ hasText: 'End session: done' }).waitFor();
      assert.ok(!(await h.services.sessions.listActive(orgMember.userId)).some((s) => s.id === target.id), 'the session ended');

      await nav(page, 'Events');
      await page.getByRole('heading', { level: 1, name: 'Event log' }).waitFor();
      await page.getByLabel('Type').selectOption('session_ended');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/type=session_ended/);
      const types = page.locator('td[data-label="Type"]');
      await types.first().waitFor();
      const all = await types.allTextContents();
      assert.ok(all.length >= 1);
      assert.ok(
        all.every((t) => t === 'session_ended'),
        all.join(','),
      );
      await shoot(page, 'events');
      await context.close();
    });

    test('the organizations page, the IdP form, and a key rotation (screenshots)', async () => {
      const { context, page } = await signedIn(admin);
      await nav(page, 'Organizations');
      await page.getByRole('cell', { name: 'Acme', exact: true }).waitFor();
      await shoot(page, 'orgs');
      await nav(page, 'IdPs');
      await page.getByRole('heading', { level: 1, name: 'Identity providers' }).waitFor();
      await page.getByRole('button', { name: 'New IdP' }).click();
      await page.getByRole('form', { name: 'New IdP' }).waitFor();

      // Signing keys: rotate, and the new key is listed (published now, signing later).
      await nav(page, 'Keys');
      await page.getByRole('heading', { level: 1, name: 'Signing keys' }).waitFor();
      await page.locator('td[data-label="Key id"]').first().waitFor();
      const before = await page.locator('td[data-label="Key id"]').count();
      await page.getByRole('button', { name: 'Rotate keys' }).click();
      const form = page.getByRole('form', { name: 'New key' });
      await form.getByLabel('Algorithm').selectOption('ES256');
      await form.getByRole('button', { name: 'Create key' }).click();
      await page.getByRole('status').filter({ hasText: 'Created key' }).waitFor();
      // A locator, not waitForFunction: the page's CSP forbids the eval that a string predicate needs.
      await page.locator('td[data-label="Key id"]').nth(before).waitFor();
      await shoot(page, 'keys');
      await context.close();
    });

    test('an org-admin sees only their organization and adds a user, registers their IdP and ends a session — no CLI', async () => {
      const { context, page } = await signedIn(orgAdmin);
      const sections = await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents();
      assert.deepEqual(sections, ['Users', 'IdPs', 'Sessions', 'Events']);
      await page.locator('td[data-label="Email"]').first().waitFor();
      const emails = await page.locator('td[data-label="Email"]').allTextContents();
      assert.ok(emails.length >= 2);
      assert.ok(
        emails.every((e) => e.endsWith('@acme.example')),
        emails.join(','),
      );
      assert.ok(!emails.includes(admin.email));

      // Add a user.
      await page.getByRole('button', { name: 'New user' }).click();
      const email = 'hire@acme.example';
      const form = page.getByRole('form', { name: 'New user' });
      await form.getByLabel('Email').fill(email);
      await form.getByLabel('Password').fill('a long enough password');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('status').filter({ hasText: 'Created user' }).waitFor();
      assert.equal((await h.store.users.findByEmail(email))?.orgId, acmeOrg);

      // Register the IdP: entity id + the certificate uploaded as a PEM file.
      await nav(page, 'IdPs');
      await page.getByRole('button', { name: 'New IdP' }).click();
      const idpForm = page.getByRole('form', { name: 'New IdP' });
      const entityId = 'https://idp.acme.example/saml';
      await idpForm.getByLabel('Entity id (without metadata)').fill(entityId);
      await idpForm
        .getByLabel('Signing certificate (PEM file, without metadata)')
        .setInputFiles({ name: 'acme-signing.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(testIdp('secondary').certPem) });
      await idpForm.getByLabel('Single sign-on URL').fill('https://idp.acme.example/sso');
      await idpForm.getByLabel('Email domains').fill('sso.acme.example');
      await idpForm.getByRole('button', { name: 'Create IdP' }).click();
      await page.getByRole('status').filter({ hasText: 'Created IdP' }).waitFor();
      await page.getByRole('cell', { name: entityId }).waitFor();
      const idp = await h.store.idps.findByEntityId(entityId);
      assert.equal(idp?.orgId, acmeOrg);
      await page.getByRole('button', { name: entityId }).click();
      await page.getByRole('heading', { name: 'Certificates' }).waitFor();
      await shoot(page, 'idps');

      // End a session of one of their users (all of them, from the sessions page).
      assert.equal((await passwordLogin(h, orgMember)).statusCode, 200);
      await page.goto(`${origin}/admin/sessions?user=${orgMember.userId}`);
      await page.getByRole('button', { name: /End all sessions of/ }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'End all sessions' }).click();
      await page.getByRole('status').filter({ hasText: 'All sessions ended.' }).waitFor();
      assert.equal((await h.services.sessions.listActive(orgMember.userId)).length, 0);
      await context.close();
    });

    test('a list paginates: 20 a page, newest first, older and newer', async () => {
      const paged = (await h.services.accounts.createOrg({ name: 'Paged' })).id;
      for (let i = 0; i < 25; i++) {
        await h.services.accounts.createUser({ email: `p${String(i).padStart(2, '0')}@paged.example`, orgId: paged });
        // Distinct creation times: the order is newest first.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const { context, page } = await signedIn(admin);
      await page.goto(`${origin}/admin/users?org=${paged}`);
      const emails = page.locator('td[data-label="Email"]');
      await emails.first().waitFor();
      assert.equal(await emails.count(), 20);
      assert.equal(await emails.first().textContent(), 'p24@paged.example');
      await page.getByRole('button', { name: 'Older →' }).click();
      await page.getByText('Page 2').waitFor();
      assert.deepEqual(await emails.allTextContents(), [
        'p04@paged.example',
        'p03@paged.example',
        'p02@paged.example',
        'p01@paged.example',
        'p00@paged.example',
      ]);
      assert.equal(await page.getByRole('button', { name: 'Older →' }).isDisabled(), true);
      await page.getByRole('button', { name: '← Newer' }).click();
      await page.getByText('Page 1').waitFor();
      assert.equal(await emails.count(), 20);
      await context.close();
    });

    test('at 360 px wide: the menu folds, rows become cards, nothing overflows', async () => {
      const { context, page } = await signedIn(orgAdmin, PHONE);
      await page.locator('td[data-label="Email"]').first().waitFor();
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= PHONE.width, `page is ${width}px wide`);
      assert.equal(await page.getByRole('navigation', { name: 'Sections' }).isVisible(), false);
      await page.getByRole('button', { name: 'Menu' }).click();
      assert.equal(await page.getByRole('navigation', { name: 'Sections' }).isVisible(), true);
      await page.getByRole('button', { name: 'Menu' }).click();
      await shoot(page, 'users-360');
      await context.close();
    });

    test('no CSP violation on any page', () => {
      assert.deepEqual(cspErrors, []);
    });
  });
}
