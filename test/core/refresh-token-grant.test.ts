/**
 * grant_type=refresh_token (RFC 6749 §6; contract §4: "A refresh continues the session; it never
 * starts a new one"). The refresh tokens here are planted in the store for a session started by a
 * password login, since the authorization-code flow that really issues them is built elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newSecret, storedKey } from '../../src/crypto/secrets.ts';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertNoEcho, assertOAuthError, basicAuth } from './support.ts';

for (const kind of storeKinds()) {
  describe(`refresh_token grant [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    async function withRefresh(
      seedOptions: Parameters<Harness['seed']>[0] = {},
    ): Promise<{ s: Seeded; access: string; refresh: string; sid: string }> {
      const s = await h.seed({ ...seedOptions, client: { refreshTokens: true, ...seedOptions.client } });
      const access = (await passwordLogin(h, s)).json().access_token as string;
      const sid = (await introspect(h, s, access)).json().sid as string;
      const refresh = newSecret('refresh_token');
      await h.store.tokens.createRefresh({
        hash: storedKey(refresh),
        sessionId: sid,
        expiresAt: h.clock.now() + 86_400_000,
        createdAt: h.clock.now(),
      });
      return { s, access, refresh, sid };
    }
    const refreshWith = (s: Seeded, token: string) =>
      h.post('/oauth/token', { grant_type: 'refresh_token', client_id: s.clientId, client_secret: s.clientSecret, refresh_token: token });

    test('a refresh returns new tokens with the seed fields in the same session', async () => {
      const { s, refresh, sid } = await withRefresh();
      const res = await refreshWith(s, refresh);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'email',
        'expires_in',
        'redirect_url',
        'refresh_token',
        'refresh_token_expires_in',
        'token_type',
      ]);
      assert.match(body.refresh_token, /^srt_/);
      assert.notEqual(body.refresh_token, refresh);
      assert.equal(body.email, s.email);
      assert.equal((await introspect(h, s, body.access_token)).json().sid, sid);
      assert.equal((await h.store.sessions.listActive(s.userId, h.clock.now())).length, 1, 'no new session');
    });

    test('a refresh never starts a session, so it works for a user at the session limit', async () => {
      const { s, refresh } = await withRefresh({ maxSessions: 1 });
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      assert.equal((await refreshWith(s, refresh)).statusCode, 200);
    });

    test('the rotated refresh token no longer introspects as active', async () => {
      const { s, refresh } = await withRefresh();
      assert.equal((await refreshWith(s, refresh)).statusCode, 200);
      assert.deepEqual((await introspect(h, s, refresh)).json(), { active: false });
    });

    test('presenting a rotated refresh token again is invalid_grant and ends the session', async () => {
      const { s, refresh, access } = await withRefresh();
      const next = (await refreshWith(s, refresh)).json();
      const reuse = await refreshWith(s, refresh);
      assertOAuthError(reuse, 400, 'invalid_grant');
      assertNoEcho(reuse, [refresh]);
      for (const token of [access, next.access_token, next.refresh_token]) {
        assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      }
    });

    test('an unknown refresh token is invalid_grant', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      assertOAuthError(await refreshWith(s, 'srt_neverIssuedNeverIssuedNeverIssued00000000'), 400, 'invalid_grant');
    });

    test("another client's refresh token is invalid_grant", async () => {
      const { refresh } = await withRefresh();
      const other = await h.seed({ client: { refreshTokens: true } });
      assertOAuthError(await refreshWith(other, refresh), 400, 'invalid_grant');
    });

    test('a client without refresh tokens enabled gets unauthorized_client', async () => {
      const { s, refresh } = await withRefresh();
      const plain = await h.seed();
      const res = await h.post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: plain.clientId,
        client_secret: plain.clientSecret,
        refresh_token: refresh,
      });
      assertOAuthError(res, 400, 'unauthorized_client');
      assert.equal((await introspect(h, s, refresh)).json().active, true, 'the refused request did not use the token up');
    });

    test('a missing refresh_token is invalid_request', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      assertOAuthError(
        await h.post('/oauth/token', { grant_type: 'refresh_token', client_id: s.clientId, client_secret: s.clientSecret }),
        400,
        'invalid_request',
      );
    });

    test('a refresh token of a revoked session is invalid_grant', async () => {
      const { s, refresh, access } = await withRefresh();
      await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: access });
      assertOAuthError(await refreshWith(s, refresh), 400, 'invalid_grant');
    });

    test('a refresh with HTTP Basic client authentication works', async () => {
      const { s, refresh } = await withRefresh();
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: refresh },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assert.equal(res.statusCode, 200, res.body);
    });
  });
}
