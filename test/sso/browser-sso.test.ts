/**
 * The whole browser round trip against a real SAML implementation: samlify, a maintained SAML
 * library, plays the IdP in a small node:http server. Headless Chromium (Debian's, driven by
 * playwright-core) types the email on our login page, is handed to the IdP with our AuthnRequest,
 * which samlify parses and answers with a signed Response that the IdP page auto-posts to our ACS;
 * the client receives its code and exchanges it with PKCE. Also: the refusal page (screenshots).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { exchangeCode, listeningHarness, pkcePair } from '../code-flow/flow.ts';
import { assertChromiumInstalled, launchChromium } from '../support/chromium.ts';
import { type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { testIdp } from '../support/test-idp.ts';
import { registerSsoIdp } from './support.ts';

const EMAIL_STEP_SHOT = 'docs/sso-email-step.png';
const REFUSAL_SHOT = 'docs/sso-refusal.png';

/**
 * The part of samlify this test uses. Loaded untyped on purpose: samlify's type declarations pull
 * in the DOM lib, whose global Element/Node types clash with @xmldom/xmldom's in src/saml.
 */
interface SamlifyIdp {
  parseLoginRequest(sp: unknown, binding: 'redirect', req: { query: Record<string, string>; octetString: string }): Promise<unknown>;
  createLoginResponse(
    sp: unknown,
    request: unknown,
    binding: 'post',
    user: { email: string },
    options: undefined,
    encryptThenSign: boolean,
    relayState: undefined,
  ): Promise<{ context: string; entityEndpoint: string }>;
}
interface Samlify {
  setSchemaValidator(validator: { validate(xml: string): Promise<string> }): void;
  ServiceProvider(settings: { metadata: string }): unknown;
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdp;
}
const samlify = createRequire(import.meta.url)('samlify') as Samlify;

// This is the test IdP, not our verifier: samlify's own schema check of our AuthnRequest is not
// what is under test (the SP metadata is schema-checked in sp-metadata.test.ts).
samlify.setSchemaValidator({ validate: async () => 'skipped' });

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

for (const [index, kind] of storeKinds().entries()) {
  describe(`SAML browser SSO in headless Chromium, samlify as the IdP [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let s: Seeded;
    let browser: Browser;
    let context: BrowserContext;
    let idpServer: Server;
    let callback: Server;
    let callbackUrl: string;
    /** what the IdP does with the RelayState: pass it back, or tamper with it */
    let mode: 'honest' | 'tamper' = 'honest';
    const idpSeen: string[] = [];

    before(async () => {
      assertChromiumInstalled();
      callback = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Client app</title><h1>Signed in</h1>'),
      );
      callbackUrl = `${await listen(callback)}/callback`;

      ({ h, origin } = await listeningHarness({ kind }));
      const domain = `acme-${kind}.test`;
      const email = `grace@${domain}`;
      s = await h.seed({ email, client: { name: 'Acme Reports', redirectUrls: [callbackUrl] } });

      // The IdP: samlify with the TEST-ONLY primary key pair; it reads our SP metadata like a real IdP would.
      const spMetadata = (await h.app.inject({ method: 'GET', url: '/saml/metadata' })).body;
      const sp = samlify.ServiceProvider({ metadata: spMetadata });
      let idp: SamlifyIdp | undefined;
      idpServer = createServer((req, res) => {
        void (async () => {
          const url = new URL(req.url ?? '/', 'http://idp');
          if (url.pathname !== '/sso' || idp === undefined) {
            res.writeHead(404).end();
            return;
          }
          idpSeen.push(url.search);
          const parsed = await idp.parseLoginRequest(sp, 'redirect', {
            query: Object.fromEntries(url.searchParams),
            octetString: '',
          } as never);
          const relayState = url.searchParams.get('RelayState') ?? '';
          const answer = await idp.createLoginResponse(sp, parsed, 'post', { email }, undefined, false, undefined);
          const sentRelayState = mode === 'tamper' ? `${relayState.slice(0, -2)}xx` : relayState;
          // What every IdP does: a form that posts itself to the ACS (HTTP-POST binding, saml-bindings §3.5).
          res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
            .end(
              `<!doctype html><title>Test IdP</title><body onload="document.forms[0].submit()">` +
                `<form method="post" action="${escapeAttr(answer.entityEndpoint)}">` +
                `<input type="hidden" name="SAMLResponse" value="${escapeAttr(answer.context)}">` +
                `<input type="hidden" name="RelayState" value="${escapeAttr(sentRelayState)}">` +
                '<noscript><button type="submit">Continue</button></noscript></form></body>',
            );
        })().catch((error: unknown) => res.writeHead(500).end(String(error)));
      });
      const idpOrigin = await listen(idpServer);
      idp = samlify.IdentityProvider({
        entityID: testIdp().entityId,
        privateKey: testIdp().keyPem,
        signingCert: testIdp().certPem,
        nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
        singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${idpOrigin}/sso` }],
      });
      await registerSsoIdp(h, { domains: [domain], ssoUrl: `${idpOrigin}/sso` });

      browser = await launchChromium();
      // Our pages need no script (their CSP allows none); the IdP's page auto-submits with one, as real IdPs do.
      context = await browser.newContext({ viewport: { width: 880, height: 760 } });
    });
    after(async () => {
      await context?.close();
      await browser?.close();
      await h?.close();
      for (const server of [idpServer, callback]) await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    });

    function authorizeUrl(challenge: string, state: string): string {
      const query = {
        response_type: 'code',
        client_id: s.clientId,
        redirect_uri: callbackUrl,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      return `${origin}/oauth/authorize?${new URLSearchParams(query)}`;
    }

    test('email → IdP (samlify) → ACS → code on the redirect URI → tokens', async () => {
      mode = 'honest';
      const pkce = pkcePair();
      const page = await context.newPage();
      await page.goto(authorizeUrl(pkce.challenge, 'sso-state'));
      await page.getByLabel('Email').fill(s.email);
      if (index === 0) {
        mkdirSync('docs', { recursive: true });
        await page.screenshot({ path: EMAIL_STEP_SHOT, fullPage: true });
      }
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(callbackUrl), { timeout: 15_000 }),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      assert.equal(idpSeen.length, 1, 'the browser went through the IdP');
      const landed = new URL(page.url());
      assert.equal(landed.searchParams.get('state'), 'sso-state');
      const code = landed.searchParams.get('code');
      assert.match(code ?? '', /^sac_/);
      const tokens = await exchangeCode(h, s, code!, { redirect_uri: callbackUrl, code_verifier: pkce.verifier });
      assert.equal(tokens.statusCode, 200, tokens.body);
      assert.equal(tokens.json().email, s.email);
      await page.close();
    });

    test('a tampered RelayState ends on the refusal page with a support code, and no code reaches the client', async () => {
      mode = 'tamper';
      // The first test's sign-in left a browser session (contract §11), which would skip the login page.
      await context.clearCookies();
      const page = await context.newPage();
      await page.goto(authorizeUrl(pkcePair().challenge, 'tampered'));
      await page.getByLabel('Email').fill(s.email);
      await Promise.all([
        page.waitForURL(`${origin}/saml/acs`, { timeout: 15_000 }),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign-in through your organization did not work');
      const supportCode = await page.locator('.code').textContent();
      assert.match(supportCode ?? '', /^evt_/);
      const events = await h.store.events.list({ limit: 1000 });
      assert.equal(events.find((e) => e.id === supportCode)?.reason, 'relay_state_unknown');
      if (index === 0) await page.screenshot({ path: REFUSAL_SHOT, fullPage: true });
      await page.close();
      mode = 'honest';
    });
  });
}
