/**
 * POST /oauth/introspect (RFC 7662): client-authenticated; an active token describes itself, and
 * a revoked, ended, disabled-user, expired or unknown token is exactly {"active": false}.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { newSecret, storedKey } from '../../src/crypto/secrets.ts';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertNoEcho, assertOAuthError, basicAuth } from './support.ts';

for (const kind of storeKinds()) {
  describe(`introspection [${kind}]`, () => {
    let h: Harness;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock();
      h = await createHarness({ kind, clock });
    });
    after(() => h.close());

    async function loggedIn(seedOptions: Parameters<Harness['seed']>[0] = {}): Promise<{ s: Seeded; token: string }> {
      const s = await h.seed(seedOptions);
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
      return { s, token: res.json().access_token as string };
    }

    test('an active access token introspects with its claims', async () => {
      const { s, token } = await loggedIn();
      const res = await introspect(h, s, token);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.equal(body.active, true);
      assert.equal(body.client_id, s.clientId);
      assert.equal(body.email, s.email);
      assert.equal(body.username, s.email);
      assert.equal(body.sub, s.userId);
      assert.equal(body.token_type, 'BearerToken');
      assert.equal(body.iss, h.issuer);
      assert.equal(body.iat, Math.floor(clock.now() / 1000));
      assert.equal(body.exp, Math.floor(clock.now() / 1000) + 3600);
      assert.match(body.sid, /^ses_/);
    });

    test('introspection with HTTP Basic works the same', async () => {
      const { s, token } = await loggedIn();
      const res = await h.post('/oauth/introspect', { token }, { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().active, true);
    });

    test('the token may be sent in the query string', async () => {
      const { s, token } = await loggedIn();
      const res = await h.post(
        '/oauth/introspect',
        { client_id: s.clientId, client_secret: s.clientSecret },
        { query: new URLSearchParams({ token }).toString() },
      );
      assert.equal(res.json().active, true);
    });

    test("contract §7: another client learns nothing about a token; the resource server of the token's audience reads it", async () => {
      const { token } = await loggedIn();
      const stranger = await h.seed();
      assert.deepEqual((await introspect(h, stranger, token)).json(), { active: false });
      const api = await h.resourceServer();
      const body = (await introspect(h, api, token)).json();
      assert.equal(body.active, true);
      assert.equal(body.aud, h.issuer, 'issued without resource: the default audience (the issuer)');
      const otherApi = await h.resourceServer('https://other-api.example');
      assert.deepEqual((await introspect(h, otherApi, token)).json(), { active: false });
    });

    test('a wrong token_type_hint does not stop the lookup', async () => {
      const { s, token } = await loggedIn();
      const res = await h.post('/oauth/introspect', {
        client_id: s.clientId,
        client_secret: s.clientSecret,
        token,
        token_type_hint: 'refresh_token',
      });
      assert.equal(res.json().active, true);
    });

    test('an unknown token is exactly {"active": false}', async () => {
      const s = await h.seed();
      const res = await introspect(h, s, 'sat_thisTokenWasNeverIssuedByTheServer000000000');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { active: false });
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    test('a revoked token is {"active": false} (before and after revocation)', async () => {
      const { s, token } = await loggedIn();
      assert.equal((await introspect(h, s, token)).json().active, true);
      assert.equal((await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token })).statusCode, 200);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
    });

    test('a token of a session ended by the admin is {"active": false}', async () => {
      const { s, token } = await loggedIn();
      const sid = (await introspect(h, s, token)).json().sid as string;
      await h.services.sessions.end(sid);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      assert.equal((await h.store.sessions.find(sid))?.endReason, 'admin');
    });

    test('the tokens of a disabled user are {"active": false}', async () => {
      const { s, token } = await loggedIn();
      const { endedSessions } = await h.services.accounts.setUserDisabled(s.email, true);
      assert.equal(endedSessions, 1);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      // Re-enabling the user does not bring old sessions back.
      await h.services.accounts.setUserDisabled(s.email, false);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
    });

    test('an expired token is {"active": false}', async () => {
      const { s, token } = await loggedIn({ client: { accessTtl: 300 } });
      clock.advance(299 * 1000);
      assert.equal((await introspect(h, s, token)).json().active, true);
      clock.advance(1000);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
    });

    test('a refresh token of the session introspects with token_type refresh_token', async () => {
      const { s, token } = await loggedIn({ client: { refreshTokens: true } });
      const sid = (await introspect(h, s, token)).json().sid as string;
      const refresh = newSecret('refresh_token');
      await h.store.tokens.createRefresh({
        hash: storedKey(refresh),
        sessionId: sid,
        expiresAt: clock.now() + 86_400_000,
        createdAt: clock.now(),
      });
      const res = await h.post('/oauth/introspect', {
        client_id: s.clientId,
        client_secret: s.clientSecret,
        token: refresh,
        token_type_hint: 'refresh_token',
      });
      assert.equal(res.json().active, true);
      assert.equal(res.json().token_type, 'refresh_token');
      assert.equal(res.json().sid, sid);
    });

    test('introspection requires client authentication', async () => {
      const { s, token } = await loggedIn();
      const none = await h.post('/oauth/introspect', { token });
      assertOAuthError(none, 400, 'invalid_client');
      assertNoEcho(none, [token]);
      const wrong = await h.post('/oauth/introspect', { client_id: s.clientId, client_secret: 'scs_wrong-secret-value', token });
      assertOAuthError(wrong, 400, 'invalid_client');
      const basic = await h.post(
        '/oauth/introspect',
        { token },
        { headers: { authorization: basicAuth(s.clientId, 'scs_wrong-secret-value') } },
      );
      assertOAuthError(basic, 401, 'invalid_client');
      assert.match(String(basic.headers['www-authenticate']), /^Basic /);
    });

    test('a disabled client may not introspect', async () => {
      const { s, token } = await loggedIn();
      const rs = await h.seed();
      await h.services.clients.setClientDisabled(rs.clientId, true);
      assertOAuthError(await introspect(h, rs, token), 400, 'invalid_client');
      assert.equal((await introspect(h, s, token)).json().active, true);
    });

    test('a missing or empty token is invalid_request', async () => {
      const s = await h.seed();
      assertOAuthError(await h.post('/oauth/introspect', { client_id: s.clientId, client_secret: s.clientSecret }), 400, 'invalid_request');
      assertOAuthError(await introspect(h, s, ''), 400, 'invalid_request');
    });

    test('a repeated token parameter is invalid_request', async () => {
      const { s, token } = await loggedIn();
      const res = await h.post(
        '/oauth/introspect',
        `${new URLSearchParams({ client_id: s.clientId, client_secret: s.clientSecret, token })}&token=${token}`,
      );
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, [token]);
    });

    test('HTTP Basic and client_secret together is invalid_request', async () => {
      const { s, token } = await loggedIn();
      const res = await h.post(
        '/oauth/introspect',
        { client_secret: s.clientSecret, token },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('a JSON body is 400 invalid_request (send a form)', async () => {
      const { s, token } = await loggedIn();
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ client_id: s.clientId, client_secret: s.clientSecret, token }),
      });
      assert.match(assertOAuthError(res, 400, 'invalid_request').error_description, /application\/x-www-form-urlencoded/);
    });
  });
}
