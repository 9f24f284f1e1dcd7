/**
 * Contract §11 under the house rule: no password, code, token, ID token (not even as an
 * id_token_hint in a logout URL), browser-session cookie or nonce reaches a log line or a
 * security event. The whole OpenID Connect flow runs through the real app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authorizeQuery, CALLBACK, openLoginPage, pkcePair, setCookies, submitLogin } from '../code-flow/flow.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';

const BYE = 'https://app.example/signed-out';

function assertNoSecrets(where: string, text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
      assert.equal(text.includes(form), false, `${where} contains a secret: ${form.slice(0, 24)}…`);
    }
  }
}

for (const kind of storeKinds()) {
  describe(`OpenID Connect writes no secret to logs or events [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed({
        password: 'Pw-OidcNeverLogged-7',
        client: { scopes: ['openid email'], refreshTokens: true, postLogoutRedirectUrls: [BYE] },
      });
    });
    after(() => h.close());

    test('sign-in, code exchange, userinfo, refresh, silent second sign-in and logout', async () => {
      const secrets: string[] = [s.password, s.clientSecret];
      const { verifier, challenge } = pkcePair();
      const nonce = 'n-0S6_WzA2Mj-never-logged';
      secrets.push(nonce, verifier);
      const query = authorizeQuery(s, {
        redirect_uri: CALLBACK,
        scope: 'openid email',
        nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const page = await openLoginPage(h, query);
      const login = await submitLogin(h, page, { email: s.email, password: s.password });
      assert.equal(login.statusCode, 303, login.body);
      const sessionCookie = setCookies(login)
        .find((c) => c.startsWith('sei_session='))!
        .split(';')[0]!;
      secrets.push(sessionCookie.slice('sei_session='.length));
      const code = new URL(String(login.headers.location)).searchParams.get('code')!;
      secrets.push(code);

      const exchanged = await h.post('/oauth/token', {
        grant_type: 'authorization_code',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      });
      assert.equal(exchanged.statusCode, 200, exchanged.body);
      const tokens = exchanged.json() as { access_token: string; refresh_token: string; id_token: string };
      assert.ok(tokens.id_token);
      secrets.push(tokens.access_token, tokens.refresh_token, tokens.id_token);

      const info = await h.app.inject({
        method: 'GET',
        url: '/oauth/userinfo',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(info.statusCode, 200);
      const infoPost = await h.post('/oauth/userinfo', { access_token: tokens.access_token });
      assert.equal(infoPost.statusCode, 200);
      const refused = await h.app.inject({
        method: 'GET',
        url: '/oauth/userinfo',
        headers: { authorization: 'Bearer sat_notAValidTokenButSecret' },
      });
      assert.equal(refused.statusCode, 401);
      secrets.push('sat_notAValidTokenButSecret');

      const refreshed = await h.post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        refresh_token: tokens.refresh_token,
      });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      const again = refreshed.json() as { access_token: string; refresh_token: string; id_token: string };
      secrets.push(again.access_token, again.refresh_token, again.id_token);

      // The second sign-in through the browser session: a code without a page.
      const silent = await h.app.inject({ method: 'GET', url: `/oauth/authorize?${query}`, headers: { cookie: sessionCookie } });
      assert.equal(silent.statusCode, 302);
      secrets.push(new URL(String(silent.headers.location)).searchParams.get('code')!);

      const logout = await h.app.inject({
        method: 'GET',
        url: `/oauth/logout?${new URLSearchParams({ id_token_hint: again.id_token, post_logout_redirect_uri: BYE, state: 's' })}`,
        headers: { cookie: sessionCookie },
      });
      assert.equal(logout.statusCode, 302, logout.body);

      const events = await h.store.events.list({ limit: 1000 });
      assert.ok(
        events.some((e) => e.type === 'browser_session_ended'),
        'the logout was recorded',
      );
      assertNoSecrets('the logs', h.logs.join('\n'), secrets);
      assertNoSecrets('the security events', JSON.stringify(events), secrets);
    });
  });
}
