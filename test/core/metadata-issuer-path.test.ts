/** RFC 8414 §3.1: an issuer with a path also publishes its metadata at /.well-known/oauth-authorization-server/<path>. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHarness, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`metadata for an issuer with a path [${kind}]`, () => {
    test('ISSUER=https://auth.example/sei answers at both well-known paths with the same document', async () => {
      const h = await createHarness({ kind, issuer: 'https://auth.example/sei' });
      try {
        const inserted = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server/sei' });
        const plain = await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
        assert.equal(inserted.statusCode, 200);
        assert.equal(plain.statusCode, 200);
        assert.deepEqual(inserted.json(), plain.json());
        assert.equal(inserted.json().issuer, 'https://auth.example/sei');
        assert.equal(inserted.json().token_endpoint, 'https://auth.example/sei/oauth/token');
        assert.equal(inserted.headers['cache-control'], 'no-store');
        // Another path is not an alias.
        assert.equal((await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server/other' })).statusCode, 404);
      } finally {
        await h.close();
      }
    });

    test('an issuer without a path publishes only the plain well-known path', async () => {
      const h = await createHarness({ kind, issuer: 'https://auth.example' });
      try {
        assert.equal((await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).statusCode, 200);
        assert.equal((await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server/' })).statusCode, 404);
      } finally {
        await h.close();
      }
    });
  });
}
