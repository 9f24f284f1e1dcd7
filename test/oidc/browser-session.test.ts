/**
 * The OP's browser session in a real browser (Debian's Chromium, driven by playwright-core):
 * sign in to app A with the password, then app B without one; prompt=login asks again; logout
 * from A (RP-initiated, with id_token_hint) ends B's sign-in too; a --max-sessions 1 user uses
 * both apps through one browser session; a single-page app exchanges its code through CORS.
 * openid-client (Node) plays the two apps' back ends. Screenshots of the pages people see.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { listeningHarness } from '../code-flow/flow.ts';
import { assertChromiumInstalled, launchChromium } from '../support/chromium.ts';
import { type Harness, storeKinds } from '../support/harness.ts';
import {
  type AuthRequest,
  appServer,
  authRequest,
  codeGrant,
  createUser,
  discover,
  isActive,
  type OidcClient,
  registerClient,
  SESSION_COOKIE,
  sleep,
  type TestUser,
} from './support.ts';

const LOGIN_SHOT = 'docs/oidc-login-page.png';
const CONFIRM_SHOT = 'docs/oidc-logout-confirm.png';
const SIGNED_OUT_SHOT = 'docs/oidc-signed-out.png';

for (const [index, kind] of storeKinds().entries()) {
  describe(`OpenID Connect browser session in headless Chromium [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let apps: Awaited<ReturnType<typeof appServer>>;
    let elsewhere: Awaited<ReturnType<typeof appServer>>;
    let a: OidcClient;
    let b: OidcClient;
    let spa: OidcClient;
    let showcase: OidcClient;
    let configA: client.Configuration;
    let configB: client.Configuration;
    let user: TestUser;
    let browser: Browser;
    const contexts: BrowserContext[] = [];

    before(async () => {
      // Fails loudly, never skips: CI installs it; locally `apt-get install -y chromium`.
      assertChromiumInstalled();
      apps = await appServer();
      elsewhere = await appServer();
      ({ h, origin } = await listeningHarness({ kind }));
      user = await createUser(h);
      a = await registerClient(h, {
        name: 'App A',
        redirectUrls: [`${apps.origin}/a/callback`],
        postLogoutRedirectUrls: [`${apps.origin}/a/bye`],
      });
      b = await registerClient(h, {
        name: 'App B',
        redirectUrls: [`${apps.origin}/b/callback`],
        postLogoutRedirectUrls: [`${apps.origin}/b/bye`],
      });
      spa = await registerClient(h, {
        name: 'Single-page app',
        redirectUrls: [`${apps.origin}/spa/callback`],
        public: true,
        webOrigins: [apps.origin],
      });
      // For the screenshot: a fixed redirect URI, so the committed image does not change with the port.
      showcase = await registerClient(h, { name: 'Acme Reports', redirectUrls: ['https://reports.acme.example/callback'] });
      configA = await discover(origin, a);
      configB = await discover(origin, b);
      browser = await launchChromium();
    });
    after(async () => {
      for (const context of contexts) await context.close();
      await browser?.close();
      await h?.close();
      await apps?.close();
      await elsewhere?.close();
    });

    async function newContext(): Promise<BrowserContext> {
      const context = await browser.newContext({ viewport: { width: 880, height: 760 } });
      contexts.push(context);
      return context;
    }

    /** The statuses of the authorize responses a page receives (a login page is a 200). */
    function watchAuthorize(page: Page): number[] {
      const statuses: number[] = [];
      page.on('response', (response) => {
        if (response.url().startsWith(`${origin}/oauth/authorize`)) statuses.push(response.status());
      });
      return statuses;
    }

    /** On the login page: type the password and land on the app's callback. */
    async function typePassword(page: Page, callbackPrefix: string, who: TestUser = user): Promise<URL> {
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
      await page.getByLabel('Email').fill(who.email);
      await page.getByLabel('Password').fill(who.password);
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(callbackPrefix), { timeout: 15_000 }),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      return new URL(page.url());
    }

    async function signInWithPassword(page: Page, config: client.Configuration, c: OidcClient, extra: Record<string, string> = {}) {
      const req = await authRequest(config, c, extra);
      const response = await page.goto(req.url.href);
      assert.equal(response?.status(), 200, 'the login page');
      return { req, tokens: await codeGrant(config, await typePassword(page, c.redirectUri), req) };
    }

    /** Goes to the authorize URL and expects to come straight back to the app (no page). */
    async function signInSilently(page: Page, config: client.Configuration, c: OidcClient, req?: AuthRequest) {
      const request = req ?? (await authRequest(config, c));
      const statuses = watchAuthorize(page);
      await page.goto(request.url.href);
      await page.waitForURL((url) => url.href.startsWith(c.redirectUri), { timeout: 15_000 });
      assert.deepEqual(statuses, [302], 'straight back with a code, no login page');
      return { req: request, tokens: await codeGrant(config, new URL(page.url()), request) };
    }

    let firstA: Awaited<ReturnType<typeof codeGrant>>;
    let firstB: Awaited<ReturnType<typeof codeGrant>>;
    let mainContext: BrowserContext;

    test('the login page for an OIDC client (screenshot)', async () => {
      const page = await (await newContext()).newPage();
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: showcase.clientId,
        redirect_uri: showcase.redirectUri,
        scope: 'openid email',
        state: 'shot',
        nonce: 'n-shot',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const response = await page.goto(`${origin}/oauth/authorize?${query}`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Sign in to Acme Reports – SEI');
      assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
      if (index === 0) {
        mkdirSync('docs', { recursive: true });
        await page.screenshot({ path: LOGIN_SHOT, fullPage: true });
        assert.ok(existsSync(LOGIN_SHOT));
      }
      await page.close();
    });

    test('sign in to app A with the password, then to app B without one (same sid and auth_time)', async () => {
      mainContext = await newContext();
      const page = await mainContext.newPage();
      firstA = (await signInWithPassword(page, configA, a)).tokens;
      const cookie = (await mainContext.cookies(origin)).find((c) => c.name === SESSION_COOKIE);
      assert.ok(cookie, 'the browser holds the session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      assert.equal(cookie.path, '/');

      firstB = (await signInSilently(page, configB, b)).tokens;
      const claimsA = firstA.claims()!;
      const claimsB = firstB.claims()!;
      assert.equal(claimsB.aud, b.clientId);
      assert.equal(claimsB.sub, claimsA.sub);
      assert.equal(claimsB.sid, claimsA.sid, 'one browser session, one sid for both apps');
      assert.equal(claimsB.auth_time, claimsA.auth_time, 'B did not authenticate anew');
      assert.equal(await isActive(h, firstA.access_token, a), true);
      assert.equal(await isActive(h, firstB.access_token, b), true);
      await page.close();
    });

    test('prompt=login shows the login page again although signed in; the new auth_time is later', async () => {
      const context = await newContext();
      const page = await context.newPage();
      const first = (await signInWithPassword(page, configA, a)).tokens.claims()!;
      await sleep(1100);
      const req = await authRequest(configB, b, { prompt: 'login' });
      const statuses = watchAuthorize(page);
      await page.goto(req.url.href);
      assert.deepEqual(statuses, [200], 'the login page, not a redirect');
      const again = (await codeGrant(configB, await typePassword(page, b.redirectUri), req)).claims()!;
      assert.ok(again.auth_time! > first.auth_time!);
      await page.close();
    });

    test('logout from app A (id_token_hint) ends app B’s sign-in: B’s tokens inactive, B’s next authorize asks for the password', async () => {
      const page = await mainContext.newPage();
      const logout = client.buildEndSessionUrl(configA, {
        id_token_hint: firstA.id_token!,
        post_logout_redirect_uri: `${apps.origin}/a/bye`,
        state: 'bye-a',
      });
      await page.goto(logout.href);
      await page.waitForURL((url) => url.href.startsWith(`${apps.origin}/a/bye`), { timeout: 15_000 });
      assert.equal(new URL(page.url()).searchParams.get('state'), 'bye-a');
      assert.equal((await mainContext.cookies(origin)).find((c) => c.name === SESSION_COOKIE)?.value ?? '', '', 'cookie cleared');

      assert.equal(await isActive(h, firstA.access_token, a), false);
      assert.equal(await isActive(h, firstB.access_token, b), false, 'B is signed out too');
      assert.equal(await isActive(h, firstB.refresh_token!, b), false);

      const statuses = watchAuthorize(page);
      await page.goto((await authRequest(configB, b)).url.href);
      assert.deepEqual(statuses, [200]);
      assert.equal(await page.getByLabel('Password').isVisible(), true, 'B asks for the password again');
      await page.close();
    });

    test('logout without id_token_hint: a confirmation page first, then “signed out” (screenshots)', async () => {
      const context = await newContext();
      const page = await context.newPage();
      const { tokens } = await signInWithPassword(page, configA, a);
      const response = await page.goto(`${origin}/oauth/logout`);
      assert.equal(response?.status(), 200, 'the confirmation page');
      assert.equal(await isActive(h, tokens.access_token, a), true, 'nothing ended yet');
      const button = page.getByRole('button').first();
      assert.equal(await button.isVisible(), true);
      if (index === 0) await page.screenshot({ path: CONFIRM_SHOT, fullPage: true });

      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(`${origin}/oauth/logout`), { timeout: 15_000 }),
        button.click(),
      ]);
      await page.waitForLoadState('load');
      assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /signed out/i);
      if (index === 0) await page.screenshot({ path: SIGNED_OUT_SHOT, fullPage: true });
      assert.equal(await isActive(h, tokens.access_token, a), false, 'confirmed: the session is over');
      await page.close();
    });

    test('a --max-sessions 1 user signs in to A and B through one browser session (no concurrent_session_limit); a second browser is refused', async () => {
      const limited = await createUser(h, { maxSessions: 1 });
      const page = await (await newContext()).newPage();
      const req = await authRequest(configA, a);
      await page.goto(req.url.href);
      const tokensA = await codeGrant(configA, await typePassword(page, a.redirectUri, limited), req);
      const tokensB = (await signInSilently(page, configB, b)).tokens;
      assert.equal(tokensB.claims()!.sub, limited.id);
      assert.equal(await isActive(h, tokensA.access_token, a), true, 'A is still signed in');
      assert.equal(await isActive(h, tokensB.access_token, b), true);

      // Another browser is another browser session: over the limit.
      const other = await (await newContext()).newPage();
      const reqOther = await authRequest(configA, a);
      await other.goto(reqOther.url.href);
      const callback = await typePassword(other, a.redirectUri, limited);
      await assert.rejects(codeGrant(configA, callback, reqOther), (error: unknown) => {
        assert.ok(error instanceof client.ResponseBodyError, String(error));
        assert.equal(error.error, 'concurrent_session_limit');
        return true;
      });
      await page.close();
      await other.close();
    });

    test('a single-page app on its --web-origin exchanges its code from the browser (CORS); another origin is blocked', async () => {
      const page = await (await newContext()).newPage();
      const verifier = client.randomPKCECodeVerifier();
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: spa.clientId,
        redirect_uri: spa.redirectUri,
        scope: 'openid email',
        state: 'spa',
        nonce: 'spa-nonce',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      await page.goto(`${origin}/oauth/authorize?${query}`);
      const callback = await typePassword(page, spa.redirectUri);
      // Now on the app's own page (its origin): what the SPA's code does.
      const exchanged = await page.evaluate(
        async ({ tokenEndpoint, userinfoEndpoint, form }) => {
          const res = await fetch(tokenEndpoint, { method: 'POST', body: new URLSearchParams(form) });
          const body = (await res.json()) as { access_token: string; id_token?: string };
          const info = await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${body.access_token}` } });
          return { status: res.status, hasIdToken: typeof body.id_token === 'string', userinfo: (await info.json()) as { sub: string } };
        },
        {
          tokenEndpoint: `${origin}/oauth/token`,
          userinfoEndpoint: `${origin}/oauth/userinfo`,
          form: {
            grant_type: 'authorization_code',
            client_id: spa.clientId,
            code: callback.searchParams.get('code')!,
            redirect_uri: spa.redirectUri,
            code_verifier: verifier,
          },
        },
      );
      assert.equal(exchanged.status, 200);
      assert.equal(exchanged.hasIdToken, true);
      assert.equal(exchanged.userinfo.sub, user.id);

      await page.goto(`${elsewhere.origin}/`);
      const blocked = await page.evaluate(async (url) => {
        try {
          await fetch(url);
          return 'read';
        } catch {
          return 'blocked';
        }
      }, `${origin}/oauth/jwks`);
      assert.equal(blocked, 'blocked', 'the browser refuses the answer to an unregistered origin');
      await page.close();
    });
  });
}
