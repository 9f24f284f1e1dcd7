/**
 * GET /oauth/jwks (RFC 7517): the JWK Set media type, Cache-Control max-age = JWKS_MAX_AGE, an
 * ETag for conditional requests, never the per-IP limit of the client endpoints; the metadata's
 * jwks_uri and the OpenAPI document name it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`GET /oauth/jwks [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind, jwksMaxAge: 120, rateLimits: { perIp: 1, perClient: 0 } });
    });
    after(() => h?.close());

    test('the public keys with the JWK Set media type, cacheable for JWKS_MAX_AGE, with an ETag', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/oauth/jwks' });
      assert.equal(res.statusCode, 200);
      // RFC 7517 §8.5 registers application/jwk-set+json.
      assert.match(String(res.headers['content-type']), /^application\/jwk-set\+json/);
      assert.equal(res.headers['cache-control'], 'public, max-age=120');
      const etag = String(res.headers.etag);
      assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
      const body = res.json() as { keys: Record<string, unknown>[] };
      // ES256 for access tokens, RS256 for ID tokens (contract §11)
      assert.deepEqual(body.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.deepEqual(Object.keys(body.keys.find((k) => k.alg === 'ES256')!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      assert.deepEqual(Object.keys(body.keys.find((k) => k.alg === 'RS256')!).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);

      const again = await h.app.inject({ method: 'GET', url: '/oauth/jwks', headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
      assert.equal(again.headers.etag, etag);
      await h.services.keys.rotate({});
      const changed = await h.app.inject({ method: 'GET', url: '/oauth/jwks', headers: { 'if-none-match': etag } });
      assert.equal(changed.statusCode, 200, 'a rotation changes the ETag');
      assert.equal((changed.json() as { keys: unknown[] }).keys.length, 3);
    });

    test('not rate-limited as a client endpoint', async () => {
      for (let i = 0; i < 5; i++) assert.equal((await h.app.inject({ method: 'GET', url: '/oauth/jwks' })).statusCode, 200);
    });

    test('the metadata names it as jwks_uri; the OpenAPI document describes it', async () => {
      const metadata = (await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
      assert.equal(metadata.jwks_uri, `${h.issuer}/oauth/jwks`);
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      assert.ok(doc.paths['/oauth/jwks'].get);
    });
  });
}
