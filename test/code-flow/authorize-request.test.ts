import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, getAuthorize, openLoginPage, pkcePair, setCookies, submitLogin } from './flow.ts';

/** An error page: HTML, no redirect, the house headers, the message shown. */
function assertErrorPage(res: { statusCode: number; headers: Record<string, unknown>; body: string }, message: RegExp) {
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers.location, undefined, 'an error page never redirects');
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
  assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(res.body, /role="alert"/);
  assert.match(res.body, message);
  assert.doesNotMatch(res.body, /https:\/\/app\.example|evil\.example/, 'the page links to no redirect URI');
}

/** An error sent back to the client: a redirect to the registered URI with error, description, state. */
function assertErrorRedirect(res: { statusCode: number; headers: Record<string, unknown> }, error: string, base = CALLBACK) {
  assert.equal(res.statusCode, 302);
  const location = new URL(String(res.headers.location));
  assert.equal(`${location.origin}${location.pathname}`, base);
  assert.equal(location.searchParams.get('error'), error);
  assert.ok(location.searchParams.get('error_description'));
  assert.equal(location.searchParams.get('state'), 'xyz-state');
  assert.equal(location.searchParams.get('code'), null, 'an error never carries a code');
  return location;
}

for (const kind of storeKinds()) {
  describe(`GET /oauth/authorize [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    let multi: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      // These clients allow requests without PKCE, so each test varies one parameter at a time;
      // the default (PKCE required) is tested on its own below.
      s = await h.seed({ client: { name: 'Acme <Reports> & "Co"', allowNoPkce: true } });
      multi = await h.seed({ client: { redirectUrls: [CALLBACK, 'https://app.example/other?tenant=7'], allowNoPkce: true } });
    });
    after(() => h.close());

    test('shows the login page with the client name, escaped, and the security headers', async () => {
      const { res } = await openLoginPage(h, authorizeQuery(s));
      assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
      assert.match(csp, /form-action 'self' https:\/\/app\.example(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /base-uri 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(res.body, /Acme &lt;Reports&gt; &amp; &quot;Co&quot;/);
      assert.doesNotMatch(res.body, /<Reports>/);
      assert.match(res.body, /<label for="email">Email<\/label>/);
      assert.match(res.body, /<input id="email" name="email" type="email" autocomplete="username"/);
      assert.match(res.body, /<label for="password">Password<\/label>/);
      assert.match(res.body, /<input id="password" name="password" type="password" autocomplete="current-password"/);
      assert.match(res.body, /<form method="post" action="\/oauth\/authorize"/);
      assert.doesNotMatch(res.body, /<script|<link|src=/, 'no scripts and no external assets');
      assert.doesNotMatch(res.body, /role="alert"/, 'no error on a fresh page');
    });

    test('sets a short-lived HttpOnly SameSite=Lax CSRF cookie on the authorize path, matching a hidden field', async () => {
      const { res, fields } = await openLoginPage(h, authorizeQuery(s));
      const cookie = setCookies(res).find((c) => c.startsWith('sei_authorize_csrf='))!;
      assert.match(cookie, /; Max-Age=600; Path=\/oauth\/authorize; HttpOnly; SameSite=Lax$/);
      assert.doesNotMatch(cookie, /Secure/, 'not Secure for an http issuer');
      assert.equal(cookie.split(';')[0]!.split('=')[1], fields.csrf_token);
      assert.equal(fields.client_id, s.clientId);
      assert.equal(fields.state, 'xyz-state');
      assert.equal(fields.redirect_uri, undefined, 'only the parameters that were sent are carried');
    });

    test('on an https issuer the CSRF cookie is __Host-: Secure, Path=/, no Domain, and the login works with it', async () => {
      const secure = await createHarness({ kind, issuer: 'https://login.example' });
      try {
        const seeded = await secure.seed();
        const query = authorizeQuery(seeded, { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' });
        const res = await getAuthorize(secure, query);
        assert.equal(res.statusCode, 200);
        const cookies = setCookies(res);
        assert.equal(cookies.length, 1);
        assert.match(cookies[0]!, /^__Host-sei_authorize_csrf=[^;]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
        assert.doesNotMatch(cookies[0]!, /Domain=/i);
        // The browser sends it back under the same name; a plain-named cookie is not read there.
        const page = await openLoginPage(secure, query);
        const plain = page.cookie.replace(/^__Host-/, '');
        const refused = await submitLogin(secure, page, { email: seeded.email, password: seeded.password }, { cookie: plain });
        assert.equal(refused.statusCode, 403);
        const res2 = await submitLogin(secure, page, { email: seeded.email, password: seeded.password });
        assert.equal(res2.statusCode, 303, res2.body);
        assert.ok(new URL(String(res2.headers.location)).searchParams.get('code'));
      } finally {
        await secure.close();
      }
    });

    test('keeps an existing CSRF cookie so two open login tabs both work', async () => {
      const first = await openLoginPage(h, authorizeQuery(s));
      const second = await getAuthorize(h, authorizeQuery(s), { cookie: first.cookie });
      assert.equal(second.statusCode, 200);
      assert.match(second.body, new RegExp(`name="csrf_token" value="${first.fields.csrf_token}"`));
    });

    test('an unknown client gets an error page, never a redirect', async () => {
      const res = await getAuthorize(h, authorizeQuery(s, { client_id: 'cl_unknown', redirect_uri: CALLBACK }));
      assertErrorPage(res, /not registered/);
    });

    test('a client_id with a NUL byte is an error page, not a server error', async () => {
      assertErrorPage(await getAuthorize(h, authorizeQuery(s, { client_id: `${s.clientId}\u0000` })), /NUL|not registered/);
    });

    test('a missing client_id gets an error page', async () => {
      assertErrorPage(await getAuthorize(h, authorizeQuery(s, { client_id: undefined })), /client_id is missing/);
    });

    test('an unregistered redirect_uri gets an error page, never a redirect (RFC 6749 §4.1.2.1)', async () => {
      const res = await getAuthorize(h, authorizeQuery(s, { redirect_uri: 'https://evil.example/callback' }));
      assertErrorPage(res, /redirect_uri\) is not registered/);
    });

    test('redirect_uri must match exactly: a prefix or an extra slash is refused', async () => {
      assertErrorPage(await getAuthorize(h, authorizeQuery(s, { redirect_uri: `${CALLBACK}/` })), /not registered/);
      assertErrorPage(await getAuthorize(h, authorizeQuery(s, { redirect_uri: `${CALLBACK}?x=1` })), /not registered/);
    });

    test('redirect_uri may be left out when exactly one is registered, not when several are', async () => {
      await openLoginPage(h, authorizeQuery(s));
      assertErrorPage(await getAuthorize(h, authorizeQuery(multi)), /several/);
      await openLoginPage(h, authorizeQuery(multi, { redirect_uri: 'https://app.example/other?tenant=7' }));
    });

    test('a repeated parameter gets an HTML error page, not JSON and not a redirect', async () => {
      const res = await getAuthorize(h, `${authorizeQuery(s)}&state=second`);
      assertErrorPage(res, /state is given more than once/);
    });

    test('a missing response_type is redirected back as invalid_request with state', async () => {
      assertErrorRedirect(await getAuthorize(h, authorizeQuery(s, { response_type: undefined })), 'invalid_request');
    });

    test('response_type=token is unsupported_response_type and yields no token', async () => {
      const location = assertErrorRedirect(
        await getAuthorize(h, authorizeQuery(s, { response_type: 'token' })),
        'unsupported_response_type',
      );
      assert.equal(location.hash, '');
      assert.equal(location.searchParams.get('access_token'), null);
    });

    test('a registered query component is kept when the error is added (RFC 6749 §3.1.2)', async () => {
      const res = await getAuthorize(
        h,
        authorizeQuery(multi, { redirect_uri: 'https://app.example/other?tenant=7', response_type: 'token' }),
      );
      assert.equal(res.statusCode, 302);
      assert.match(String(res.headers.location), /^https:\/\/app\.example\/other\?tenant=7&error=unsupported_response_type&/);
    });

    test('code_challenge_method=plain is refused', async () => {
      const { verifier } = pkcePair();
      const res = await getAuthorize(h, authorizeQuery(s, { code_challenge: verifier, code_challenge_method: 'plain' }));
      assert.match(String(assertErrorRedirect(res, 'invalid_request').searchParams.get('error_description')), /S256/);
    });

    test('a challenge without a method (which would mean plain) is refused', async () => {
      assertErrorRedirect(await getAuthorize(h, authorizeQuery(s, { code_challenge: pkcePair().challenge })), 'invalid_request');
    });

    test('a malformed S256 challenge is refused', async () => {
      assertErrorRedirect(
        await getAuthorize(h, authorizeQuery(s, { code_challenge: 'short', code_challenge_method: 'S256' })),
        'invalid_request',
      );
    });

    test('a method without a challenge is refused', async () => {
      assertErrorRedirect(await getAuthorize(h, authorizeQuery(s, { code_challenge_method: 'S256' })), 'invalid_request');
    });

    test('response_mode other than query is refused', async () => {
      assertErrorRedirect(await getAuthorize(h, authorizeQuery(s, { response_mode: 'form_post' })), 'invalid_request');
    });

    test('an S256 challenge is accepted and carried to the form', async () => {
      const { challenge } = pkcePair();
      const { fields } = await openLoginPage(h, authorizeQuery(s, { code_challenge: challenge, code_challenge_method: 'S256' }));
      assert.equal(fields.code_challenge, challenge);
      assert.equal(fields.code_challenge_method, 'S256');
    });

    test('a JSON body on the authorize POST gets an HTML error page (415), not the JSON renderer', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/authorize',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 415);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /role="alert"/);
    });

    test('metadata lists the authorization endpoint, S256, the code response type and the grant types', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
      const meta = res.json();
      assert.equal(meta.authorization_endpoint, `${h.issuer}/oauth/authorize`);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(meta.response_types_supported, ['code']);
      for (const grant of ['authorization_code', 'refresh_token', 'client_credentials'])
        assert.ok(meta.grant_types_supported.includes(grant), grant);
    });
  });
}
