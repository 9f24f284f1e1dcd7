/**
 * A real browser on the login page: Debian's Chromium driven by playwright-core. The page must
 * work without JavaScript, by keyboard, with its labels, and end on the client's redirect URI
 * with code and state, through the CSP (form-action also governs the redirect after the POST).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertChromiumInstalled, launchChromium } from '../support/chromium.ts';
import { type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { exchangeCode, listeningHarness, pkcePair } from './flow.ts';

const SCREENSHOT = 'docs/login-page.png';

for (const [index, kind] of storeKinds().entries()) {
  describe(`login page in headless Chromium [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let s: Seeded;
    let showcase: Seeded;
    let browser: Browser;
    let context: BrowserContext;
    let callback: Server;
    let callbackUrl: string;
    const callbackHits: string[] = [];
    const consoleErrors: string[] = [];

    before(async () => {
      // Fails loudly, never skips: CI installs it (.ci/run); locally `apt-get install -y chromium`.
      assertChromiumInstalled();
      callback = createServer((req, res) => {
        // The browser also asks for /favicon.ico; count only the redirect itself.
        if (req.url?.startsWith('/callback')) callbackHits.push(req.url);
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>Client app</title><h1>Signed in</h1>');
      });
      await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
      callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;

      ({ h, origin } = await listeningHarness({ kind }));
      s = await h.seed({ client: { name: 'Acme Reports', redirectUrls: [callbackUrl] } });
      // For the screenshot: a fixed redirect URI, so the committed image does not change with the port.
      showcase = await h.seed({ client: { name: 'Acme Reports', redirectUrls: ['https://reports.acme.example/callback'] } });
      browser = await launchChromium();
      // The page has no scripts and must not need any.
      context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 880, height: 760 } });
    });
    after(async () => {
      await context?.close();
      await browser?.close();
      await h?.close();
      await new Promise((resolve) => (callback ? callback.close(resolve) : resolve(undefined)));
    });

    async function openLogin(client: Seeded, redirectUri: string, state: string, challenge: string): Promise<Page> {
      const page = await context.newPage();
      page.on('console', (message) => {
        // The wrong-password page's 400 is logged as a console error too; CSP refusals are what matter.
        if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) consoleErrors.push(message.text());
      });
      const query = {
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: redirectUri,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      const url = `${origin}/oauth/authorize?${new URLSearchParams(query)}`;
      const response = await page.goto(url);
      assert.equal(response?.status(), 200);
      return page;
    }

    test('shows the login page with the client name and labelled fields (and saves the screenshot)', async () => {
      const page = await openLogin(showcase, 'https://reports.acme.example/callback', 'shot', pkcePair().challenge);
      assert.equal(await page.title(), 'Sign in to Acme Reports – SEI');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
      assert.match((await page.locator('.lead').textContent()) ?? '', /Acme Reports/);
      // Labels are associated: the accessible names screen readers announce.
      assert.equal(await page.getByLabel('Email').getAttribute('autocomplete'), 'username');
      assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
      assert.equal(await page.getByRole('button', { name: 'Sign in' }).isVisible(), true);
      assert.equal(await page.getByRole('alert').count(), 0);
      if (index === 0) {
        mkdirSync('docs', { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        assert.ok(existsSync(SCREENSHOT));
      }
      assert.deepEqual(consoleErrors, [], 'no CSP violations or other console errors');
      await page.close();
    });

    test('a wrong password shows the error on the page; then, by keyboard only, the right one lands on the redirect URI with code and state', async () => {
      const pkce = pkcePair();
      const page = await openLogin(s, callbackUrl, 'state-123', pkce.challenge);
      // autofocus puts the cursor in the email field (wait for it: it applies after load); Tab
      // moves to the password; Enter submits.
      await page.locator('#email:focus').waitFor({ timeout: 5000 });
      await page.keyboard.type(s.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type('not the right password');
      await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
      await page.waitForURL(`${origin}/oauth/authorize`);
      const alert = page.getByRole('alert');
      assert.equal(await alert.textContent(), 'The email or password is incorrect.');
      assert.equal(await page.getByLabel('Email').inputValue(), s.email, 'the email is kept');
      assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not');
      assert.equal(await page.getByLabel('Password').getAttribute('aria-describedby'), 'form-error');
      assert.equal(callbackHits.length, 0);

      // The email is filled in, so focus is on the password field now.
      await page.locator('#password:focus').waitFor({ timeout: 5000 });
      await page.keyboard.type(s.password);
      await Promise.all([page.waitForURL((url) => url.href.startsWith(callbackUrl)), page.keyboard.press('Enter')]);
      const landed = new URL(page.url());
      assert.equal(`${landed.origin}${landed.pathname}`, callbackUrl);
      assert.equal(landed.searchParams.get('state'), 'state-123');
      const code = landed.searchParams.get('code');
      assert.match(code ?? '', /^sac_/);
      assert.equal(await page.getByRole('heading').textContent(), 'Signed in');
      assert.equal(callbackHits.length, 1);

      const tokens = await exchangeCode(h, s, code!, { redirect_uri: callbackUrl, code_verifier: pkce.verifier });
      assert.equal(tokens.statusCode, 200, 'the code from the browser is a real one');
      assert.equal(tokens.json().redirect_url, callbackUrl);
      assert.deepEqual(consoleErrors, [], 'no CSP violations: the redirect after the POST is allowed by form-action');
      await page.close();
    });
  });
}
