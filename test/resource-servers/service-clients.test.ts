/**
 * Contract §8: RFC 6749 §4.4 tokens of a service client for itself, beside the seed's user login
 * under the same grant name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOAuthError, basicAuth } from '../core/support.ts';
import { createHarness, type Harness, introspect, passwordLogin, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`service clients [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    const service = (extra: Record<string, unknown> = {}) =>
      h.seed({ client: { service: true, redirectUrls: [], scopes: ['jobs:run reports:read'], ...extra } });
    const serviceToken = (s: { clientId: string; clientSecret: string }, extra: Record<string, string> = {}) =>
      h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', ...extra },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );

    test('client_credentials without email and password: a token for the client itself, no refresh token, no user fields', async () => {
      const s = await service();
      const res = await serviceToken(s);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
      assert.equal(body.token_type, 'Bearer', 'RFC 6750 type by default for a service client');
      assert.equal(body.scope, 'jobs:run reports:read');
      assert.equal(body.expires_in, 3600);
      const seen = (await introspect(h, s, body.access_token)).json();
      assert.equal(seen.active, true);
      assert.equal(seen.sub, s.clientId);
      assert.equal(seen.client_id, s.clientId);
      assert.equal('email' in seen || 'sid' in seen || 'username' in seen, false);
      assert.equal(seen.aud, h.issuer);
    });

    test('no session: session limits do not apply, and no session is counted', async () => {
      const s = await h.seed({ maxSessions: 1, client: { service: true, redirectUrls: [] } });
      for (let i = 0; i < 3; i++) assert.equal((await serviceToken(s)).statusCode, 200);
      assert.equal((await h.store.sessions.listActive(s.userId, Date.now())).length, 0);
    });

    test('with email and password it stays the seed user login, for a service client too', async () => {
      const s = await service();
      const res = await passwordLogin(h, s);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().email, s.email);
      assert.equal((await introspect(h, s, res.json().access_token)).json().sub, s.userId);
      assertOAuthError(await serviceToken(s, { email: s.email }), 400, 'invalid_request');
    });

    test('a client that is not a service: client_credentials without email/password stays invalid_request', async () => {
      const s = await h.seed();
      assertOAuthError(await serviceToken(s), 400, 'invalid_request');
    });

    test('scope and resource apply to service tokens', async () => {
      const s = await service();
      const api = await h.resourceServer('https://jobs-api.example');
      const res = await serviceToken(s, { scope: 'jobs:run', resource: api.audience });
      assert.equal(res.json().scope, 'jobs:run');
      const seen = (await introspect(h, api, res.json().access_token)).json();
      assert.equal(seen.active, true);
      assert.equal(seen.aud, api.audience);
      assert.equal(seen.scope, 'jobs:run');
      assertOAuthError(await serviceToken(s, { scope: 'admin' }), 400, 'invalid_scope');
    });

    test('revoking a service token revokes only it; disabling the client revokes them all', async () => {
      const s = await service();
      const a = (await serviceToken(s)).json().access_token;
      const b = (await serviceToken(s)).json().access_token;
      const other = await service();
      assertOAuthError(
        await h.post('/oauth/revoke', { client_id: other.clientId, client_secret: other.clientSecret, token: a }),
        400,
        'unauthorized_client',
      );
      assert.equal((await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: a })).statusCode, 200);
      assert.deepEqual((await introspect(h, s, a)).json(), { active: false });
      assert.equal((await introspect(h, s, b)).json().active, true);
      const api = await h.resourceServer();
      assert.equal((await introspect(h, api, b)).json().active, true);
      await h.services.clients.setClientDisabled(s.clientId, true);
      assert.deepEqual((await introspect(h, api, b)).json(), { active: false });
    });

    test('each service token writes a service_token_issued event naming the client', async () => {
      const s = await service();
      await serviceToken(s);
      const events = await h.store.events.list({ limit: 100_000 });
      assert.ok(events.some((e) => e.type === 'service_token_issued' && e.clientId === s.clientId && e.userId === null));
    });
  });
}
