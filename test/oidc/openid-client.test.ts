/**
 * OpenID Connect with a relying-party library none of us wrote: openid-client (panva, OpenID
 * Certified) discovers the provider, runs the code flow with PKCE and a nonce, validates the ID
 * token itself (signature against our JWKS included), reads userinfo, refreshes and logs out.
 * The login page is submitted with fetch, as a browser would (test/oidc/support.ts FetchBrowser).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { listeningHarness } from '../code-flow/flow.ts';
import { type Harness, storeKinds } from '../support/harness.ts';
import {
  atHash,
  authRequest,
  codeGrant,
  createUser,
  discover,
  FetchBrowser,
  isActive,
  jwtParts,
  nowSeconds,
  type OidcClient,
  recordingFetch,
  registerClient,
  SESSION_COOKIE,
  type TestUser,
} from './support.ts';

const CALLBACK = 'https://app.example/callback';
const BYE = 'https://app.example/signed-out';

for (const kind of storeKinds()) {
  describe(`openid-client against the server [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let app: OidcClient;
    let user: TestUser;
    before(async () => {
      ({ h, origin } = await listeningHarness({ kind }));
      user = await createUser(h);
      // No --token-type: the client's default (BearerToken) must not leak into an OIDC response.
      app = await registerClient(h, { name: 'Web app', redirectUrls: [CALLBACK], postLogoutRedirectUrls: [BYE] });
    });
    after(() => h.close());

    /** A full sign-in with a fresh browser: returns the tokens openid-client validated, and the browser. */
    async function signIn(config: client.Configuration, extra: Record<string, string> = {}) {
      const browser = new FetchBrowser();
      const req = await authRequest(config, app, extra);
      const callback = await browser.signIn(req.url, user);
      const tokens = await codeGrant(config, callback, req);
      return { browser, req, callback, tokens };
    }

    test('discovery: /.well-known/openid-configuration has every REQUIRED member and agrees with the RFC 8414 document', async () => {
      const res = await fetch(`${origin}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const doc = (await res.json()) as Record<string, unknown>;
      // Discovery §4.3: identical to the issuer the document was fetched for (and to the ID tokens' iss).
      assert.equal(doc.issuer, origin);
      assert.equal(doc.authorization_endpoint, `${origin}/oauth/authorize`);
      assert.equal(doc.token_endpoint, `${origin}/oauth/token`);
      assert.equal(doc.userinfo_endpoint, `${origin}/oauth/userinfo`);
      assert.equal(doc.jwks_uri, `${origin}/oauth/jwks`);
      assert.equal(doc.end_session_endpoint, `${origin}/oauth/logout`);
      assert.equal(doc.revocation_endpoint, `${origin}/oauth/revoke`);
      assert.equal(doc.introspection_endpoint, `${origin}/oauth/introspect`);
      assert.deepEqual(doc.response_types_supported, ['code']);
      assert.deepEqual(doc.response_modes_supported, ['query']);
      assert.deepEqual(doc.subject_types_supported, ['public']);
      // Discovery §3: "The algorithm RS256 MUST be included."
      assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
      assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
      assert.ok(Array.isArray(doc.scopes_supported));
      for (const scope of ['openid', 'email'])
        assert.ok((doc.scopes_supported as string[]).includes(scope), `scopes_supported has ${scope}`);
      assert.deepEqual([...(doc.claims_supported as string[])].sort(), [
        'at_hash',
        'aud',
        'auth_time',
        'email',
        'email_verified',
        'exp',
        'iat',
        'iss',
        'nonce',
        'sid',
        'sub',
      ]);
      assert.ok((doc.grant_types_supported as string[]).includes('authorization_code'));
      assert.ok((doc.grant_types_supported as string[]).includes('refresh_token'));
      assert.equal(doc.authorization_response_iss_parameter_supported, true);

      const oauth = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      // The members RFC 8414 defines are in both documents, with the same values.
      for (const member of [
        'issuer',
        'authorization_endpoint',
        'token_endpoint',
        'jwks_uri',
        'scopes_supported',
        'response_types_supported',
        'response_modes_supported',
        'grant_types_supported',
        'token_endpoint_auth_methods_supported',
        'revocation_endpoint',
        'introspection_endpoint',
        'code_challenge_methods_supported',
        'authorization_response_iss_parameter_supported',
      ]) {
        assert.deepEqual(oauth[member], doc[member], `${member} agrees`);
      }
      // And whatever else the two share agrees too.
      for (const member of Object.keys(doc)) if (member in oauth) assert.deepEqual(oauth[member], doc[member], `${member} agrees`);

      // The library accepts it (it checks the issuer against the URL it was given).
      const config = await discover(origin, app);
      assert.equal(config.serverMetadata().issuer, origin);
      assert.equal(config.serverMetadata().end_session_endpoint, `${origin}/oauth/logout`);
    });

    test('code + PKCE + nonce: openid-client validates the ID token (RS256 signature by a JWKS key, iss, aud, exp, iat, nonce)', async () => {
      const recorder = recordingFetch();
      const config = await discover(origin, app, { fetch: recorder.fetch });
      const before = nowSeconds();
      const { tokens, callback, req, browser } = await signIn(config);
      assert.equal(callback.searchParams.get('iss'), origin, 'RFC 9207 iss on the authorization response');
      assert.equal(callback.searchParams.get('state'), req.state);

      // The wire values: OIDC Core §3.1.3.3 token_type "Bearer" (whatever the client's --token-type), no-store.
      const raw = recorder.last('/oauth/token');
      assert.equal(raw.status, 200);
      const body = JSON.parse(raw.body) as Record<string, unknown>;
      assert.equal(body.token_type, 'Bearer');
      assert.match(raw.headers.get('cache-control') ?? '', /no-store/);
      assert.equal(typeof body.id_token, 'string');
      assert.equal(tokens.id_token, body.id_token);
      assert.ok(tokens.refresh_token);

      const claims = tokens.claims()!;
      assert.equal(claims.iss, origin);
      assert.equal(claims.sub, user.id);
      assert.match(claims.sub, /^usr_/);
      assert.ok(claims.aud === app.clientId || (Array.isArray(claims.aud) && claims.aud.includes(app.clientId)), 'aud is the client');
      assert.equal(claims.nonce, req.nonce);
      assert.ok(claims.iat >= before - 1 && claims.iat <= nowSeconds() + 1, 'iat is now');
      assert.equal(claims.exp - claims.iat, 3600, 'exp = iat + the access-token lifetime');
      assert.equal(typeof claims.auth_time, 'number');
      assert.ok(claims.auth_time! >= before - 1 && claims.auth_time! <= claims.iat, 'auth_time is the sign-in time, in seconds');
      assert.equal(claims.at_hash, atHash(tokens.access_token));
      assert.equal(claims.email, user.email);
      assert.equal(claims.email_verified, true);
      assert.match(String(claims.sid), /^bs_/);

      const { header } = jwtParts(tokens.id_token!);
      assert.equal(header.alg, 'RS256');
      assert.equal(header.typ, 'JWT');
      const jwks = (await (await fetch(`${origin}/oauth/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
      const key = jwks.keys.find((k) => k.kid === header.kid);
      assert.ok(key, 'the ID token kid is published in the JWKS');
      assert.equal(key.kty, 'RSA');
      if (key.alg !== undefined) assert.equal(key.alg, 'RS256');

      // The sign-in started a browser session: the cookie of the design.
      const line = browser.lastSetCookie[SESSION_COOKIE];
      assert.ok(line, 'the login sets the sei_session cookie');
      assert.match(line, /HttpOnly/i);
      assert.match(line, /SameSite=Lax/i);
      assert.match(line, /Path=\//i);
      assert.doesNotMatch(line, /Secure/i, 'not Secure on an http issuer');
      assert.equal(await isActive(h, tokens.access_token, app), true);
    });

    test('userinfo: openid-client reads it with the ID token sub; GET and POST both work, JSON, no-store', async () => {
      const config = await discover(origin, app);
      const { tokens } = await signIn(config);
      const sub = tokens.claims()!.sub;
      // The library refuses a userinfo whose sub differs from the one it expects (Core §5.3.2).
      const info = await client.fetchUserInfo(config, tokens.access_token, sub);
      assert.equal(info.sub, user.id);
      assert.equal(info.email, user.email);
      assert.equal(info.email_verified, true);

      const get = await fetch(`${origin}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(get.status, 200);
      assert.match(get.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(get.headers.get('cache-control') ?? '', /no-store/);
      assert.deepEqual(await get.json(), { sub: user.id, email: user.email, email_verified: true });

      // Core §5.3.1: GET and POST; RFC 6750 §2.2: the token in the form body.
      const post = await fetch(`${origin}/oauth/userinfo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: tokens.access_token }),
      });
      assert.equal(post.status, 200);
      assert.equal(((await post.json()) as { sub: string }).sub, user.id);
      const postBearer = await fetch(`${origin}/oauth/userinfo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(postBearer.status, 200);
    });

    test('userinfo without the email scope answers only sub', async () => {
      const config = await discover(origin, app);
      const { tokens } = await signIn(config, { scope: 'openid' });
      const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      assert.deepEqual({ ...info }, { sub: user.id });
    });

    test('refresh: a new ID token with the same sub, auth_time and sid, no nonce, at_hash of the new access token', async () => {
      const config = await discover(origin, app);
      const { tokens } = await signIn(config);
      const first = tokens.claims()!;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      assert.ok(refreshed.id_token, 'a refresh of an openid session returns an id_token');
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
      const again = refreshed.claims()!;
      assert.equal(again.sub, first.sub);
      assert.equal(again.auth_time, first.auth_time, 'auth_time is the sign-in, not the refresh');
      assert.equal(again.sid, first.sid);
      assert.equal(again.nonce, undefined);
      assert.ok(again.iat > first.iat);
      assert.equal(again.at_hash, atHash(refreshed.access_token));
      assert.equal(refreshed.token_type, 'bearer');
    });

    test('logout: buildEndSessionUrl (id_token_hint, post_logout_redirect_uri, state) → 302 there with state; tokens inactive; the login page again', async () => {
      const config = await discover(origin, app);
      const { tokens, browser, req } = await signIn(config);
      // Signed in: the next authorize goes straight back with a code.
      const silent = await browser.authorize((await authRequest(config, app)).url);
      assert.equal(silent.status, 302);
      assert.ok(silent.location?.searchParams.get('code'));

      const oldCookie = browser.jar.get(SESSION_COOKIE);
      assert.ok(oldCookie);
      const logoutUrl = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: BYE,
        state: 'bye-state',
      });
      assert.equal(logoutUrl.origin + logoutUrl.pathname, `${origin}/oauth/logout`);
      const res = await browser.request(logoutUrl);
      assert.equal(res.status, 302);
      const location = new URL(res.headers.get('location')!);
      assert.equal(location.origin + location.pathname, BYE);
      assert.equal(location.searchParams.get('state'), 'bye-state');
      assert.equal(browser.jar.has(SESSION_COOKIE), false, 'the session cookie is cleared');

      assert.equal(await isActive(h, tokens.access_token, app), false);
      assert.equal(await isActive(h, tokens.refresh_token!, app), false);
      // Even with the old cookie value replayed, the browser session is over.
      const replay = new FetchBrowser();
      replay.jar.set(SESSION_COOKIE, oldCookie);
      const replayed = await replay.authorize(req.url);
      assert.equal(replayed.status, 200, 'the ended session cookie gets the login page');
      const next = await browser.authorize(req.url);
      assert.equal(next.status, 200, 'the login page again');
      assert.match(next.page!, /type="password"/);
    });

    test('logout with only the id_token_hint (another device, no cookie) ends that browser session', async () => {
      const config = await discover(origin, app);
      const { tokens, browser } = await signIn(config);
      const res = await fetch(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE }), {
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      assert.equal(new URL(res.headers.get('location')!).href, BYE);
      assert.equal(await isActive(h, tokens.access_token, app), false);
      // The browser that signed in still has its cookie, but its session is over.
      const next = await browser.authorize((await authRequest(config, app)).url);
      assert.equal(next.status, 200);
    });

    test('ending one app’s session (admin session end) ends the browser session: the other app is signed out too', async () => {
      const other = await registerClient(h, { name: 'Other app', redirectUrls: ['https://other.example/callback'] });
      const config = await discover(origin, app);
      const otherConfig = await discover(origin, other);
      const { tokens, browser } = await signIn(config);
      const reqOther = await authRequest(otherConfig, other);
      const silent = await browser.authorize(reqOther.url);
      assert.equal(silent.status, 302, 'the other app: no page');
      const otherTokens = await codeGrant(otherConfig, silent.location!, reqOther);
      assert.equal(otherTokens.claims()!.sid, tokens.claims()!.sid);

      const introspected = await h.post('/oauth/introspect', {
        client_id: app.clientId,
        client_secret: app.clientSecret!,
        token: tokens.access_token,
      });
      const sessionId = introspected.json().sid as string;
      assert.ok(sessionId);
      assert.equal(await h.services.sessions.end(sessionId), true);
      assert.equal(await isActive(h, otherTokens.access_token, other), false, 'the other app’s session ended with it');
      const next = await browser.authorize((await authRequest(config, app)).url);
      assert.equal(next.status, 200, 'the login page again');
    });

    test('logout answers POST too (RP-Initiated Logout §2), and an expired ID token is still a valid hint', async () => {
      const { h: h2, origin: origin2 } = await listeningHarness({ kind, accessTokenTtl: 1 });
      try {
        const u = await createUser(h2);
        const c = await registerClient(h2, { name: 'Short', redirectUrls: [CALLBACK], postLogoutRedirectUrls: [BYE] });
        const config = await discover(origin2, c);
        const browser = new FetchBrowser();
        const req = await authRequest(config, c);
        const tokens = await codeGrant(config, await browser.signIn(req.url, u), req);
        assert.equal(tokens.claims()!.exp - tokens.claims()!.iat, 1);
        await new Promise((resolve) => setTimeout(resolve, 2100));
        const res = await browser.request(`${origin2}/oauth/logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE, state: 's1' }),
        });
        assert.ok(res.status === 302 || res.status === 303, `status ${res.status}`);
        assert.equal(new URL(res.headers.get('location')!).searchParams.get('state'), 's1');
        assert.equal(await isActive(h2, tokens.refresh_token!, c), false);
      } finally {
        await h2.close();
      }
    });
  });
}
