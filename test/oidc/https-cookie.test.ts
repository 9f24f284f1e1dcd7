/**
 * Contract §11 / issue #17: behind an https issuer the browser-session cookie is `__Host-`
 * prefixed and Secure (only this origin, over TLS, can set or read it), HttpOnly, SameSite=Lax,
 * and logout clears it with the same attributes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authorizeQuery, CALLBACK, hiddenFields, openLoginPage, pkcePair, setCookies, submitLogin } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`the browser-session cookie behind an https issuer [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind, issuer: 'https://auth.example.test' });
      s = await h.seed({ client: { scopes: ['openid'] } });
    });
    after(() => h.close());

    test('__Host-sei_session: Path=/, HttpOnly, SameSite=Lax, Secure, no Domain, no Max-Age; a silent sign-in with it; logout clears it', async () => {
      const { challenge } = pkcePair();
      const query = authorizeQuery(s, {
        redirect_uri: CALLBACK,
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const page = await openLoginPage(h, query);
      const login = await submitLogin(h, page, { email: s.email, password: s.password });
      assert.equal(login.statusCode, 303, login.body);
      const set = setCookies(login).find((c) => c.startsWith('__Host-sei_session='));
      assert.ok(set, setCookies(login).join(' | '));
      const attributes = set
        .split(';')
        .slice(1)
        .map((a) => a.trim().toLowerCase());
      assert.deepEqual(attributes.sort(), ['httponly', 'path=/', 'samesite=lax', 'secure']);
      const cookie = set.split(';')[0]!;

      const silent = await h.app.inject({ method: 'GET', url: `/oauth/authorize?${query}`, headers: { cookie } });
      assert.equal(silent.statusCode, 302);
      assert.ok(new URL(String(silent.headers.location)).searchParams.get('code'));
      // A cookie without the prefix is not this server's: the login page.
      const unprefixed = await h.app.inject({
        method: 'GET',
        url: `/oauth/authorize?${query}`,
        headers: { cookie: cookie.replace('__Host-', '') },
      });
      assert.equal(unprefixed.statusCode, 200);

      const logout = await h.app.inject({ method: 'GET', url: '/oauth/logout', headers: { cookie } });
      assert.equal(logout.statusCode, 200, 'no hint: the confirmation page');
      const form = new URLSearchParams(hiddenFields(logout.body));
      const confirmed = await h.app.inject({
        method: 'POST',
        url: '/oauth/logout',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      assert.match(confirmed.body, /You are signed out/);
      const cleared = setCookies(confirmed).find((c) => c.startsWith('__Host-sei_session='));
      assert.ok(cleared);
      assert.match(cleared, /Max-Age=0/);
      assert.match(cleared, /Secure/);
      const after = await h.app.inject({ method: 'GET', url: `/oauth/authorize?${query}`, headers: { cookie } });
      assert.equal(after.statusCode, 200, 'the old cookie signs nobody in');
    });
  });
}
