/**
 * POST /oauth/revoke (RFC 7009), which is also logout: client-authenticated; revoking either token
 * of a session ends the session, so all its tokens die at once; an unknown token is still 200.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newSecret, storedKey } from '../../src/crypto/secrets.ts';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertNoEcho, assertOAuthError, basicAuth } from './support.ts';

for (const kind of storeKinds()) {
  describe(`revocation [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    const revoke = (s: Seeded, token: string, extra: Record<string, string> = {}) =>
      h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token, ...extra });

    /** A logged-in session with an access token and (added in the store) a refresh token. */
    async function sessionWithBothTokens(): Promise<{ s: Seeded; access: string; refresh: string; sid: string }> {
      const s = await h.seed({ client: { refreshTokens: true } });
      const access = (await passwordLogin(h, s)).json().access_token as string;
      const sid = (await introspect(h, s, access)).json().sid as string;
      const refresh = newSecret('refresh_token');
      await h.store.tokens.createRefresh({
        hash: storedKey(refresh),
        sessionId: sid,
        expiresAt: h.clock.now() + 86_400_000,
        createdAt: h.clock.now(),
      });
      assert.equal((await introspect(h, s, refresh)).json().active, true);
      return { s, access, refresh, sid };
    }

    test('revoking an access token answers 200 {} with no-store, and the token dies', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      const res = await revoke(s, token);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {});
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
    });

    test('revoking with HTTP Basic works the same', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      const res = await h.post('/oauth/revoke', { token }, { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } });
      assert.equal(res.statusCode, 200);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
    });

    test('revoking an access token ends the session: its refresh token dies too', async () => {
      const { s, access, refresh, sid } = await sessionWithBothTokens();
      assert.equal((await revoke(s, access)).statusCode, 200);
      assert.deepEqual((await introspect(h, s, access)).json(), { active: false });
      assert.deepEqual((await introspect(h, s, refresh)).json(), { active: false });
      const session = await h.store.sessions.find(sid);
      assert.notEqual(session?.endedAt, null);
      assert.equal(session?.endReason, 'logout');
    });

    test('revoking a refresh token ends the session: its access token dies too', async () => {
      const { s, access, refresh } = await sessionWithBothTokens();
      assert.equal((await revoke(s, refresh, { token_type_hint: 'refresh_token' })).statusCode, 200);
      assert.deepEqual((await introspect(h, s, refresh)).json(), { active: false });
      assert.deepEqual((await introspect(h, s, access)).json(), { active: false });
    });

    test('revocation records a session_ended event with reason logout', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      const sid = (await introspect(h, s, token)).json().sid as string;
      await revoke(s, token);
      const ended = (await h.store.events.list({ userId: s.userId })).filter((e) => e.type === 'session_ended');
      assert.deepEqual(
        ended.map((e) => [e.sessionId, e.reason]),
        [[sid, 'logout']],
      );
    });

    test('revoking an already revoked token is 200 again', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      assert.equal((await revoke(s, token)).statusCode, 200);
      assert.equal((await revoke(s, token)).statusCode, 200);
      assert.equal((await h.store.events.list({ userId: s.userId })).filter((e) => e.type === 'session_ended').length, 1);
    });

    test('revoking an unknown token is 200 (RFC 7009 §2.2)', async () => {
      const s = await h.seed();
      const res = await revoke(s, 'sat_neverIssuedNeverIssuedNeverIssued000000000');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {});
    });

    test("revoking another client's token is 400 unauthorized_client and the token lives on", async () => {
      const owner = await h.seed();
      const token = (await passwordLogin(h, owner)).json().access_token as string;
      const intruder = await h.seed();
      const res = await revoke(intruder, token);
      assertOAuthError(res, 400, 'unauthorized_client');
      assertNoEcho(res, [token]);
      assert.equal((await introspect(h, owner, token)).json().active, true);
    });

    test('revocation requires client authentication', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      assertOAuthError(await h.post('/oauth/revoke', { token }), 400, 'invalid_client');
      assertOAuthError(
        await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: 'scs_wrong-secret', token }),
        400,
        'invalid_client',
      );
      const basic = await h.post('/oauth/revoke', { token }, { headers: { authorization: basicAuth(s.clientId, 'scs_wrong-secret') } });
      assertOAuthError(basic, 401, 'invalid_client');
      assert.match(String(basic.headers['www-authenticate']), /^Basic /);
      assert.equal((await introspect(h, s, token)).json().active, true, 'a refused revocation revokes nothing');
    });

    test('a missing token is invalid_request', async () => {
      const s = await h.seed();
      assertOAuthError(await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret }), 400, 'invalid_request');
      assertOAuthError(await revoke(s, ''), 400, 'invalid_request');
    });

    test("revoking one session leaves the same user's other sessions alive", async () => {
      const s = await h.seed();
      const a = (await passwordLogin(h, s)).json().access_token as string;
      const b = (await passwordLogin(h, s)).json().access_token as string;
      await revoke(s, a);
      assert.equal((await introspect(h, s, a)).json().active, false);
      assert.equal((await introspect(h, s, b)).json().active, true);
    });
  });
}
