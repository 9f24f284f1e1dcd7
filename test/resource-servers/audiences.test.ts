/**
 * Contract §6–§7: `aud` on every token (RFC 8707 `resource`, else DEFAULT_AUDIENCE), resource
 * servers that only introspect, and who may read a token through introspection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exchangeCode, loginForCode, pkcePair } from '../code-flow/flow.ts';
import { assertOAuthError } from '../core/support.ts';
import { createHarness, type Harness, introspect, passwordLogin, storeKinds } from '../support/harness.ts';

const API = 'https://api.example.com/invoices';

for (const kind of storeKinds()) {
  describe(`audiences and resource servers [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    test('without resource the token is for the default audience (the issuer); with it, for that resource server', async () => {
      const s = await h.seed();
      const api = await h.resourceServer(API);
      const plain = (await passwordLogin(h, s)).json().access_token;
      assert.equal((await introspect(h, s, plain)).json().aud, h.issuer);
      const res = await passwordLogin(h, s, { resource: API });
      assert.equal(res.statusCode, 200, res.body);
      const body = (await introspect(h, api, res.json().access_token)).json();
      assert.equal(body.active, true);
      assert.equal(body.aud, API);
      assert.equal(body.sub, s.userId);
      assert.equal(body.client_id, s.clientId);
      assert.deepEqual((await introspect(h, api, plain)).json(), { active: false }, 'a token for another audience is not its business');
    });

    test('resource must be a registered resource server audience, an absolute URI without fragment: else invalid_target', async () => {
      const s = await h.seed();
      for (const bad of ['https://unregistered.example', 'relative/path', `${API}#frag`, 'not a uri', 'https://exämple.com']) {
        assertOAuthError(await passwordLogin(h, s, { resource: bad }), 400, 'invalid_target');
      }
      const twice = `grant_type=client_credentials&client_id=${s.clientId}&client_secret=${s.clientSecret}&email=${encodeURIComponent(s.email)}&password=${encodeURIComponent(s.password)}&resource=${encodeURIComponent(API)}&resource=${encodeURIComponent(API)}`;
      await h.resourceServer(API);
      assertOAuthError(await h.post('/oauth/token', twice), 400, 'invalid_request');
    });

    test('a disabled resource server is no longer a valid target', async () => {
      const s = await h.seed();
      const api = await h.resourceServer('https://disabled-api.example');
      await h.services.clients.setClientDisabled(api.clientId, true);
      assertOAuthError(await passwordLogin(h, s, { resource: api.audience }), 400, 'invalid_target');
    });

    test('a resource server cannot obtain tokens: unauthorized_client on every grant, client_credentials included', async () => {
      const s = await h.seed();
      const api = await h.resourceServer('https://no-logins.example');
      const auth = { client_id: api.clientId, client_secret: api.clientSecret };
      const forms: Record<string, string>[] = [
        { grant_type: 'client_credentials' },
        { grant_type: 'client_credentials', email: s.email, password: s.password },
        { grant_type: 'password', username: s.email, password: s.password },
        { grant_type: 'refresh_token', refresh_token: 'srt_x' },
        { grant_type: 'authorization_code', code: 'sac_x' },
      ];
      for (const form of forms) {
        assertOAuthError(await h.post('/oauth/token', { ...form, ...auth }), 400, 'unauthorized_client');
      }
    });

    test('refresh keeps the session audience unless resource names another', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const api = await h.resourceServer(API);
      const pkce = pkcePair();
      const params = await loginForCode(h, s, { code_challenge: pkce.challenge, code_challenge_method: 'S256' });
      const first = (await exchangeCode(h, s, params.get('code')!, { code_verifier: pkce.verifier, resource: API })).json();
      assert.equal((await introspect(h, api, first.access_token)).json().aud, API);
      const refresh = (token: string, extra: Record<string, string> = {}) =>
        h.post('/oauth/token', {
          grant_type: 'refresh_token',
          client_id: s.clientId,
          client_secret: s.clientSecret,
          refresh_token: token,
          ...extra,
        });
      const kept = (await refresh(first.refresh_token)).json();
      assert.equal((await introspect(h, api, kept.access_token)).json().aud, API);
      const other = await h.resourceServer('https://reports.example');
      const moved = (await refresh(kept.refresh_token, { resource: other.audience })).json();
      assert.equal((await introspect(h, other, moved.access_token)).json().aud, other.audience);
      assert.deepEqual((await introspect(h, api, moved.access_token)).json(), { active: false });
      assert.deepEqual(
        (await introspect(h, api, moved.refresh_token)).json(),
        { active: false },
        'refresh tokens are never a resource server business',
      );
    });

    test('introspection: the own client reads everything it was issued; another client learns nothing, the same answer as for an unknown token', async () => {
      const s = await h.seed();
      const stranger = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token;
      const own = (await introspect(h, s, token)).json();
      assert.deepEqual(Object.keys(own).sort(), [
        'active',
        'aud',
        'client_id',
        'email',
        'exp',
        'iat',
        'iss',
        'sid',
        'sub',
        'token_type',
        'username',
      ]);
      const refused = await introspect(h, stranger, token);
      assert.equal(refused.statusCode, 200);
      assert.equal(refused.body, '{"active":false}');
      assert.equal((await introspect(h, stranger, 'sat_unknown')).body, refused.body);
    });

    test('CLI-level rules for resource servers: audience required, unique, an absolute URI; no redirect URL or scopes', async () => {
      const make = (input: Record<string, unknown>) =>
        h.services.clients.createClient({ name: 'x', redirectUrls: [], ...input } as Parameters<
          Harness['services']['clients']['createClient']
        >[0]);
      await assert.rejects(make({ resourceServer: true }), /needs --audience/);
      await assert.rejects(make({ resourceServer: true, audience: 'nope' }), /absolute URI/);
      await assert.rejects(make({ resourceServer: true, audience: 'https://a.example/#x' }), /absolute URI/);
      await assert.rejects(
        make({ resourceServer: true, audience: 'https://b.example', redirectUrls: ['https://b.example/cb'] }),
        /no --redirect-url/,
      );
      await assert.rejects(make({ resourceServer: true, audience: 'https://b.example', scopes: ['read'] }), /no --scope/);
      await assert.rejects(
        make({ audience: 'https://b.example', redirectUrls: ['https://b.example/cb'] }),
        /--audience is for a --resource-server/,
      );
      await assert.rejects(make({ resourceServer: true, service: true, audience: 'https://b.example' }), /not both/);
      await make({ resourceServer: true, audience: 'https://unique.example' });
      await assert.rejects(make({ resourceServer: true, audience: 'https://unique.example' }), /already exists/);
    });
  });
}
