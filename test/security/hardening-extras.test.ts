/**
 * RFC 9700 items closed after the first security review: https-only redirect URIs (loopback
 * excepted), the login form under the per-IP rate limit, and --no-query-secrets covering the
 * user's password and SAML assertions as well as the client secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { AdminError } from '../../src/common/admin-error.ts';
import { authorizeQuery, openLoginPage } from '../code-flow/flow.ts';
import { createHarness, type Harness, storeKinds } from '../support/harness.ts';

for (const kind of storeKinds()) {
  describe(`hardening extras [${kind}]`, () => {
    let h: Harness;
    let limited: Harness;
    before(async () => {
      h = await createHarness({ kind });
      limited = await createHarness({ kind, clock: new ManualClock(), rateLimits: { perIp: 1, perClient: 0 } });
    });
    after(async () => {
      await h?.close();
      await limited?.close();
    });

    test('redirect URIs must be https, except http on loopback', async () => {
      for (const url of ['http://app.example/callback', 'http://10.0.0.5/cb']) {
        await assert.rejects(h.services.clients.createClient({ name: 'x', redirectUrls: [url] }), AdminError);
      }
      for (const url of ['https://app.example/callback', 'http://127.0.0.1:8765/cb', 'http://localhost/cb', 'http://[::1]:9000/cb']) {
        const created = await h.services.clients.createClient({ name: 'x', redirectUrls: [url] });
        assert.match(created.client_id, /^cl_/);
      }
    });

    test('the login form submit is rate limited per IP (429, Retry-After)', async () => {
      const s = await limited.seed({ client: { allowNoPkce: true } });
      const page = await openLoginPage(limited, authorizeQuery(s));
      const body = new URLSearchParams({ ...page.fields, email: s.email, password: 'wrong-password-1' }).toString();
      const submit = () =>
        limited.app.inject({
          method: 'POST',
          url: '/oauth/authorize',
          payload: body,
          remoteAddress: '10.9.9.9',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie ?? '' },
        });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await submit()).statusCode);
      assert.deepEqual(
        statuses.slice(0, 2).map((s) => s !== 429),
        [true, true],
      );
      const refused = await submit();
      assert.equal(refused.statusCode, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    });

    test('a --no-query-secrets client refuses the password and SAML assertions in the query string too', async () => {
      const s = await h.seed({ client: { querySecrets: false } });
      const viaQuery = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, email: s.email },
        { query: new URLSearchParams({ password: s.password }).toString() },
      );
      assert.equal(viaQuery.statusCode, 400);
      assert.equal(viaQuery.json().error, 'invalid_request');
      assert.ok(!viaQuery.body.includes(s.password));
      const saml = await h.post(
        '/oauth/token',
        { grant_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_id: s.clientId, client_secret: s.clientSecret },
        { query: 'SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4' },
      );
      assert.equal(saml.statusCode, 400);
      assert.equal(saml.json().error, 'invalid_request');
      // In the body, the same login works.
      const viaBody = await h.post('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email: s.email,
        password: s.password,
      });
      assert.equal(viaBody.statusCode, 200);
    });

    test('a default client accepts the password in the query string (the seed)', async () => {
      const s = await h.seed();
      const res = await h.post(
        '/oauth/token',
        {},
        {
          query: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: s.clientId,
            client_secret: s.clientSecret,
            email: s.email,
            password: s.password,
          }).toString(),
        },
      );
      assert.equal(res.statusCode, 200);
    });
  });
}
