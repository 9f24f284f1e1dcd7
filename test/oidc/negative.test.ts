/**
 * What must fail, fails: a wrong nonce and an ID token of another audience (refused by the
 * relying-party library, openid-client), forged or foreign ID tokens as id_token_hint, a reused
 * code (which also revokes what the first exchange got), prompt/max_age, the userinfo errors of
 * RFC 6750 §3, and the OIDC parameters the provider must accept without error (Core §15.1).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { listeningHarness } from '../code-flow/flow.ts';
import { type Harness, ManualClock, storeKinds } from '../support/harness.ts';
import {
  authRequest,
  codeGrant,
  createUser,
  discover,
  encodeSegment,
  FetchBrowser,
  formFields,
  isActive,
  jwtParts,
  type OidcClient,
  refusal,
  registerClient,
  sleep,
  type TestUser,
} from './support.ts';

const CALLBACK = 'https://app.example/callback';
const CALLBACK_B = 'https://b.example/callback';
const BYE = 'https://app.example/signed-out';

for (const kind of storeKinds()) {
  describe(`OpenID Connect: what must be refused [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let a: OidcClient;
    let b: OidcClient;
    let user: TestUser;
    let configA: client.Configuration;
    before(async () => {
      ({ h, origin } = await listeningHarness({ kind }));
      user = await createUser(h);
      a = await registerClient(h, { name: 'App A', redirectUrls: [CALLBACK], postLogoutRedirectUrls: [BYE] });
      b = await registerClient(h, { name: 'App B', redirectUrls: [CALLBACK_B], postLogoutRedirectUrls: ['https://b.example/bye'] });
      configA = await discover(origin, a);
    });
    after(() => h.close());

    async function signedIn(config = configA, c = a) {
      const browser = new FetchBrowser();
      const req = await authRequest(config, c);
      const callback = await browser.signIn(req.url, user);
      return { browser, req, callback };
    }

    test('a wrong nonce: openid-client refuses the ID token', async () => {
      const { req, callback } = await signedIn();
      await assert.rejects(codeGrant(configA, callback, { ...req, nonce: client.randomNonce() }), (error: unknown) => {
        const refused = refusal(error);
        assert.equal(refused.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED');
        assert.match(refused.message, /"nonce"/);
        return true;
      });
    });

    test('an ID token for another audience: client B, handed client A’s token response, refuses it', async () => {
      const { req, callback } = await signedIn();
      const tokensA = await codeGrant(configA, callback, req);
      // B's library talks to a token endpoint that answers with A's tokens (a token substitution, Core §16.11).
      const substituting: client.CustomFetch = async (url, options) => {
        if (new URL(url).pathname === '/oauth/token') {
          return new Response(
            JSON.stringify({ access_token: tokensA.access_token, token_type: 'Bearer', expires_in: 3600, id_token: tokensA.id_token }),
            { status: 200, headers: { 'content-type': 'application/json' } },
          );
        }
        return fetch(url, options as RequestInit);
      };
      const configBSubstituted = await discover(origin, b, { fetch: substituting });
      const reqB = await authRequest(configBSubstituted, b);
      const callbackB = new URL(CALLBACK_B);
      callbackB.search = new URLSearchParams({ code: 'whatever', state: reqB.state, iss: origin }).toString();
      await assert.rejects(codeGrant(configBSubstituted, callbackB, { ...reqB, nonce: req.nonce }), (error: unknown) => {
        const refused = refusal(error);
        assert.equal(refused.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED');
        assert.match(refused.message, /"aud"/);
        return true;
      });
      // And the provider: A's ID token as B's id_token_hint (client_id must equal the hint's aud).
      const res = await fetch(
        `${origin}/oauth/logout?${new URLSearchParams({ id_token_hint: tokensA.id_token!, client_id: b.clientId, post_logout_redirect_uri: 'https://b.example/bye' })}`,
        { redirect: 'manual' },
      );
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.equal(await isActive(h, tokensA.access_token, a), true, 'nothing ended');
    });

    test('alg "none", a tampered payload, a foreign key: as id_token_hint each gets the 400 page and ends nothing', async () => {
      const { req, callback } = await signedIn();
      const tokens = await codeGrant(configA, callback, req);
      const { header, payload, signature } = jwtParts(tokens.id_token!);
      const unsigned = `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment(payload)}.`;
      const tampered = `${encodeSegment(header)}.${encodeSegment({ ...payload, sub: 'usr_someone_else' })}.${signature}`;
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
      const foreign = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
      for (const [name, hint] of [
        ['alg none', unsigned],
        ['tampered', tampered],
        ['foreign key', foreign],
        ['not a JWT', 'garbage'],
      ] as const) {
        const res = await fetch(`${origin}/oauth/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: BYE })}`, {
          redirect: 'manual',
        });
        assert.equal(res.status, 400, name);
        assert.equal(res.headers.get('location'), null, `${name}: no redirect`);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/, `${name}: an HTML page`);
      }
      assert.equal(await isActive(h, tokens.access_token, a), true, 'no forged hint ended the session');
    });

    test('logout: an unregistered post_logout_redirect_uri, or one of another client, gets the 400 page and no redirect', async () => {
      const { req, callback } = await signedIn();
      const tokens = await codeGrant(configA, callback, req);
      for (const target of ['https://evil.example/', 'https://b.example/bye', `${BYE}/more`, CALLBACK]) {
        const res = await fetch(
          `${origin}/oauth/logout?${new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: target })}`,
          { redirect: 'manual' },
        );
        assert.equal(res.status, 400, target);
        assert.equal(res.headers.get('location'), null, target);
      }
      // Without a hint or client_id, no client is named: no redirect.
      const anonymous = await fetch(`${origin}/oauth/logout?${new URLSearchParams({ post_logout_redirect_uri: BYE })}`, {
        redirect: 'manual',
      });
      assert.equal(anonymous.status, 400);
      assert.equal(anonymous.headers.get('location'), null);
    });

    test('logout without id_token_hint asks first (a form with a CSRF token); a forged POST ends nothing, the confirmed one ends the session', async () => {
      const { browser, req, callback } = await signedIn();
      const tokens = await codeGrant(configA, callback, req);
      const url = `${origin}/oauth/logout?${new URLSearchParams({ client_id: a.clientId, post_logout_redirect_uri: BYE, state: 'st' })}`;
      const page = await browser.request(url);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<form[^>]*method="post"/i);
      assert.equal(await isActive(h, tokens.access_token, a), true, 'nothing ends until confirmed');

      const fields = formFields(html);
      assert.ok(fields.length > 0, 'the form carries hidden fields (the CSRF token among them)');
      // A cross-site POST: the same fields without the browser's cookies.
      const forged = await fetch(`${origin}/oauth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields.filter(([name]) => !/csrf/i.test(name))),
        redirect: 'manual',
      });
      // Without the browser's cookie there is no session to end: it is answered as a logout of nobody.
      assert.ok(forged.status < 500, `a forged POST is answered (${forged.status})`);
      assert.equal(await isActive(h, tokens.access_token, a), true, 'the forged POST ended nothing');

      const confirmed = await browser.request(`${origin}/oauth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
      assert.ok(confirmed.status === 302 || confirmed.status === 303, `confirmed: ${confirmed.status}`);
      const location = new URL(confirmed.headers.get('location')!);
      assert.equal(location.origin + location.pathname, BYE);
      assert.equal(location.searchParams.get('state'), 'st');
      assert.equal(await isActive(h, tokens.access_token, a), false);
      assert.equal(await isActive(h, tokens.refresh_token!, a), false);
    });

    test('a reused code: invalid_grant, and the tokens of the first exchange are revoked', async () => {
      const { req, callback } = await signedIn();
      const first = await codeGrant(configA, callback, req);
      assert.equal(await isActive(h, first.access_token, a), true);
      await assert.rejects(codeGrant(configA, callback, req), (error: unknown) => {
        assert.ok(error instanceof client.ResponseBodyError, String(error));
        assert.equal(error.error, 'invalid_grant');
        return true;
      });
      assert.equal(await isActive(h, first.access_token, a), false, 'the first access token is revoked');
      assert.equal(await isActive(h, first.refresh_token!, a), false, 'the first refresh token is revoked');
    });

    test('prompt=none without a browser session: error=login_required on the redirect URI, with state and iss', async () => {
      const req = await authRequest(configA, a, { prompt: 'none' });
      const res = await new FetchBrowser().authorize(req.url);
      assert.equal(res.status, 302);
      const location = res.location!;
      assert.equal(location.origin + location.pathname, CALLBACK);
      assert.equal(location.searchParams.get('error'), 'login_required');
      assert.equal(location.searchParams.get('state'), req.state);
      assert.equal(location.searchParams.get('iss'), origin);
      // The library reports it as the authorization error it is.
      await assert.rejects(codeGrant(configA, location, req), (error: unknown) => {
        assert.ok(error instanceof client.AuthorizationResponseError, String(error));
        assert.equal(error.error, 'login_required');
        return true;
      });
    });

    test('prompt=none with a browser session: a code without a page; the ID token has the first sign-in’s auth_time and sid', async () => {
      const { browser, req, callback } = await signedIn();
      const first = (await codeGrant(configA, callback, req)).claims()!;
      await sleep(1100);
      const silent = await authRequest(configA, a, { prompt: 'none' });
      const res = await browser.authorize(silent.url);
      assert.equal(res.status, 302, 'no page');
      assert.ok(res.location!.searchParams.get('code'));
      const claims = (await codeGrant(configA, res.location!, silent)).claims()!;
      assert.equal(claims.auth_time, first.auth_time);
      assert.equal(claims.sid, first.sid);
      assert.equal(claims.nonce, silent.nonce);
    });

    test('max_age=0 and prompt=login show the login page despite the session; after it auth_time is the new sign-in', async () => {
      const { browser, req, callback } = await signedIn();
      const first = (await codeGrant(configA, callback, req)).claims()!;
      await sleep(1100);
      const cases: Record<string, string>[] = [{ max_age: '0' }, { prompt: 'login' }];
      for (const extra of cases) {
        const again = await authRequest(configA, a, extra);
        const shown = await browser.authorize(again.url);
        assert.equal(shown.status, 200, `${JSON.stringify(extra)}: the login page`);
        const back = await browser.submitLogin(again.url, shown.page!, user);
        const claims = (await codeGrant(configA, back, again, extra.max_age ? { maxAge: 0 } : {})).claims()!;
        assert.ok(claims.auth_time! > first.auth_time!, `${JSON.stringify(extra)}: auth_time is the new sign-in`);
      }
    });

    test('max_age not exceeded: a code without a page, and openid-client’s max_age check of auth_time passes', async () => {
      const { browser, req, callback } = await signedIn();
      await codeGrant(configA, callback, req);
      const again = await authRequest(configA, a, { max_age: '3600' });
      const res = await browser.authorize(again.url);
      assert.equal(res.status, 302);
      const claims = (await codeGrant(configA, res.location!, again, { maxAge: 3600 })).claims()!;
      assert.equal(typeof claims.auth_time, 'number', 'Core §3.1.2.1: with max_age, auth_time MUST be there');
    });

    test('a browser session ends after BROWSER_SESSION_TTL (default 10 h): then the login page, and prompt=none gets login_required', async () => {
      const clock = new ManualClock(Date.now());
      const { h: h2, origin: origin2 } = await listeningHarness({ kind, clock });
      try {
        const u = await createUser(h2);
        const c = await registerClient(h2, { name: 'Clocked', redirectUrls: [CALLBACK] });
        const config = await discover(origin2, c);
        const browser = new FetchBrowser();
        await browser.signIn((await authRequest(config, c)).url, u);
        clock.advance(35_000 * 1000);
        assert.equal((await browser.authorize((await authRequest(config, c)).url)).status, 302, 'still signed in after 9.7 h');
        clock.advance(1_001 * 1000);
        assert.equal((await browser.authorize((await authRequest(config, c)).url)).status, 200, 'the login page after 10 h');
        const silent = await browser.authorize((await authRequest(config, c, { prompt: 'none' })).url);
        assert.equal(silent.location?.searchParams.get('error'), 'login_required');
      } finally {
        await h2.close();
      }
    });

    test('prompt: none with another value, or an unknown value, is invalid_request on the redirect URI; consent and select_account are accepted', async () => {
      for (const prompt of ['none login', 'none consent', 'bogus']) {
        const req = await authRequest(configA, a, { prompt });
        const res = await new FetchBrowser().authorize(req.url);
        assert.equal(res.status, 302, prompt);
        assert.equal(res.location!.searchParams.get('error'), 'invalid_request', prompt);
        assert.equal(res.location!.searchParams.get('state'), req.state, prompt);
      }
      for (const prompt of ['consent', 'select_account']) {
        const res = await new FetchBrowser().authorize((await authRequest(configA, a, { prompt })).url);
        assert.equal(res.status, 200, `${prompt}: the login page`);
      }
    });

    test('Core §15.1: display, ui_locales, claims_locales, acr_values and login_hint do not cause an error', async () => {
      const req = await authRequest(configA, a, {
        display: 'page',
        ui_locales: 'de-CH fr',
        claims_locales: 'de',
        acr_values: 'urn:example:loa:2',
        login_hint: user.email,
      });
      const browser = new FetchBrowser();
      const shown = await browser.authorize(req.url);
      assert.equal(shown.status, 200, 'the login page');
      assert.doesNotMatch(shown.page!, /role="alert"/);
      const tokens = await codeGrant(configA, await browser.submitLogin(req.url, shown.page!, user), req);
      assert.equal(tokens.claims()!.sub, user.id);
    });

    test('Core §3.1.2.1: the authentication request may be a POST (form serialization); it shows the login page', async () => {
      const req = await authRequest(configA, a);
      const res = await fetch(`${origin}/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: req.url.searchParams,
        redirect: 'manual',
      });
      assert.equal(res.status, 200);
      const page = await res.text();
      assert.match(page, /type="password"/);
      assert.doesNotMatch(page, /role="alert"/, 'no error: this is a new authentication request, not a stale form');
    });

    test('scope without openid: no id_token, and userinfo answers 403 insufficient_scope', async () => {
      const browser = new FetchBrowser();
      const req = await authRequest(configA, a, { scope: 'email' });
      const callback = await browser.signIn(req.url, user);
      // Raw: without openid the client's own --token-type (BearerToken) applies, which the library refuses.
      const exchange = await h.post('/oauth/token', {
        grant_type: 'authorization_code',
        client_id: a.clientId,
        client_secret: a.clientSecret!,
        code: callback.searchParams.get('code')!,
        redirect_uri: CALLBACK,
        code_verifier: req.verifier,
      });
      assert.equal(exchange.statusCode, 200, exchange.body);
      const tokens = exchange.json() as { access_token: string; id_token?: string };
      assert.equal(tokens.id_token, undefined);
      const res = await fetch(`${origin}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(res.status, 403);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer .*error="insufficient_scope"/);
    });

    test('a client whose --scope lacks openid cannot ask for it: invalid_scope', async () => {
      const plain = await registerClient(h, { name: 'Plain OAuth', redirectUrls: ['https://plain.example/cb'], scopes: ['email'] });
      const config = await discover(origin, plain);
      const req = await authRequest(config, plain);
      const res = await new FetchBrowser().authorize(req.url);
      assert.equal(res.status, 302);
      assert.equal(res.location!.searchParams.get('error'), 'invalid_scope');
    });

    test('userinfo: no token → 401 with a Bearer challenge; a revoked or unknown token → 401 invalid_token', async () => {
      const none = await fetch(`${origin}/oauth/userinfo`);
      assert.equal(none.status, 401);
      const challenge = none.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer realm="sei-auth"/);
      // RFC 6750 §3.1: no error code when the request had no authentication.
      assert.doesNotMatch(challenge, /error=/);

      const { req, callback } = await signedIn();
      const tokens = await codeGrant(configA, callback, req);
      await client.tokenRevocation(configA, tokens.refresh_token!);
      for (const token of [tokens.access_token, 'not-a-token']) {
        const res = await fetch(`${origin}/oauth/userinfo`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
      }
      // The library surfaces the challenge.
      await assert.rejects(client.fetchUserInfo(configA, tokens.access_token, tokens.claims()!.sub), (error: unknown) => {
        assert.ok(error instanceof client.WWWAuthenticateChallengeError, String(error));
        assert.equal(error.cause[0]?.parameters.error, 'invalid_token');
        return true;
      });
    });
  });
}
