/**
 * RFC 8414 metadata at /.well-known/oauth-authorization-server, and the health endpoints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`metadata and health [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind, issuer: 'https://auth.example.test' });
    });
    after(() => h.close());

    test('the metadata names the issuer and every endpoint served', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const doc = res.json();
      assert.equal(doc.issuer, 'https://auth.example.test');
      assert.equal(doc.token_endpoint, 'https://auth.example.test/oauth/token');
      assert.equal(doc.introspection_endpoint, 'https://auth.example.test/oauth/introspect');
      assert.equal(doc.revocation_endpoint, 'https://auth.example.test/oauth/revoke');
      assert.deepEqual([...doc.introspection_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post']);
      // Contract §11: a public client authenticates with its client_id alone ("none") at the token and revocation endpoints.
      for (const key of ['token_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported']) {
        assert.deepEqual([...doc[key]].sort(), ['client_secret_basic', 'client_secret_post', 'none'], key);
      }
      assert.equal(doc.userinfo_endpoint, 'https://auth.example.test/oauth/userinfo');
      assert.equal(doc.end_session_endpoint, 'https://auth.example.test/oauth/logout');
    });

    test('the metadata lists the grant types the token endpoint accepts, and each is accepted', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
      const grants: string[] = doc.grant_types_supported;
      for (const g of ['client_credentials', 'password', 'refresh_token']) assert.ok(grants.includes(g), g);
      // Whatever is listed is known to the token endpoint (never unsupported_grant_type).
      const s = await h.seed();
      for (const grant_type of grants) {
        const res = await h.post('/oauth/token', { grant_type, client_id: s.clientId, client_secret: s.clientSecret });
        assert.notEqual(res.json().error, 'unsupported_grant_type', grant_type);
        assert.ok(res.statusCode < 500, `${grant_type}: ${res.statusCode}`);
      }
    });

    test('/healthz and /readyz answer', async () => {
      const health = await h.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
      assert.deepEqual(health.json(), { status: 'ok' });
      const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { status: 'ready' });
    });

    test('POST on the metadata document is not allowed (4xx, no-store)', async () => {
      const res = await h.app.inject({ method: 'POST', url: '/.well-known/oauth-authorization-server' });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500);
      assert.equal(res.headers['cache-control'], 'no-store');
    });
  });
}

for (const kind of storeKinds()) {
  describe(`RFC 8414 §3.1 metadata for an issuer with a path [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind, issuer: 'https://auth.example/sei' });
    });
    after(() => h.close());

    test('ISSUER=https://auth.example/sei: /.well-known/oauth-authorization-server/sei and the root path answer the same document', async () => {
      const inserted = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server/sei' });
      assert.equal(inserted.statusCode, 200, inserted.body);
      assert.equal(inserted.headers['cache-control'], 'no-store');
      const doc = inserted.json();
      assert.equal(doc.issuer, 'https://auth.example/sei');
      assert.equal(doc.token_endpoint, 'https://auth.example/sei/oauth/token');
      const root = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
      assert.equal(root.statusCode, 200);
      assert.deepEqual(root.json(), doc);
      // A query string does not change the path.
      assert.deepEqual((await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server/sei?x=1' })).json(), doc);
    });

    test('another path under the well-known URI is 404 not_found', async () => {
      for (const url of [
        '/.well-known/oauth-authorization-server/other',
        '/.well-known/oauth-authorization-server/sei/extra',
        '/.well-known/oauth-authorization-server/SEI',
      ]) {
        const res = await h.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 404, url);
        assert.equal(res.json().error, 'not_found', url);
      }
    });
  });
}
