import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, passwordLogin, storeKinds, type Harness, type Seeded } from './support/harness.ts';

for (const kind of storeKinds()) {
  describe(`token endpoint, password login [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed();
    });
    after(() => h.close());

    test('the seed form in the query string returns exactly the seed fields', async () => {
      const query = new URLSearchParams({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret }).toString();
      const res = await h.post('/oauth/token', { email: s.email, password: s.password }, { query });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'email', 'expires_in', 'redirect_url', 'token_type']);
      assert.match(body.access_token, /^sat_[A-Za-z0-9_-]{43}$/);
      assert.equal(body.token_type, 'BearerToken');
      assert.equal(body.expires_in, 3600);
      assert.equal(body.redirect_url, 'https://app.example/callback');
      assert.equal(body.email, s.email);
    });

    test('a wrong password is invalid_grant', async () => {
      const res = await passwordLogin(h, s, { password: 'nope-nope-nope' });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: 'The email or password is incorrect.' });
    });
  });
}
