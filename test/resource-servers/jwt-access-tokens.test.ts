/**
 * Contract §6 / RFC 9068: JWT access tokens per client. Only the jti's hash and the session are
 * stored, so introspection and revocation work for JWTs as for opaque tokens; a JWT verifies with
 * the JWKS, and a forged one is never taken for ours.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { storedKey } from '../../src/crypto/secrets.ts';
import { exchangeCode, loginForCode, pkcePair } from '../code-flow/flow.ts';
import { assertOAuthError, basicAuth } from '../core/support.ts';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';

const API = 'https://api.example.com/orders';

for (const kind of storeKinds()) {
  describe(`JWT access tokens [${kind}]`, () => {
    let h: Harness;
    let jwks: JSONWebKeySet;
    before(async () => {
      h = await createHarness({ kind });
      jwks = (await h.app.inject({ method: 'GET', url: '/oauth/jwks' })).json();
    });
    after(() => h.close());

    const jwtClient = (extra: Record<string, unknown> = {}) =>
      h.seed({ client: { accessTokenFormat: 'jwt', scopes: ['orders:read orders:write'], refreshTokens: true, ...extra } });
    const verify = (token: string, audience = h.issuer) =>
      jwtVerify(token, createLocalJWKSet(jwks), { issuer: h.issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] });

    test('a jwt client gets an RFC 9068 token: typ at+jwt, kid, ES256, every claim of contract §6', async () => {
      const s = await jwtClient();
      const res = await passwordLogin(h, s, { scope: 'orders:read' });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      const header = decodeProtectedHeader(body.access_token);
      assert.equal(header.typ, 'at+jwt');
      assert.equal(header.alg, 'ES256');
      assert.ok(jwks.keys.some((k) => k.kid === header.kid));
      const { payload } = await verify(body.access_token);
      assert.equal(payload.iss, h.issuer);
      assert.equal(payload.sub, s.userId);
      assert.equal(payload.aud, h.issuer);
      assert.equal(payload.client_id, s.clientId);
      assert.equal(payload.scope, 'orders:read');
      assert.equal(payload.email, s.email);
      assert.match(String(payload.sid), /^ses_/);
      assert.equal(typeof payload.jti, 'string');
      assert.equal(payload.exp! - payload.iat!, 3600);
      assert.equal(body.expires_in, 3600);
      // Only the jti's hash is stored: the token itself is found nowhere.
      assert.equal(await h.store.tokens.findAccess(storedKey(body.access_token)), undefined);
      assert.ok(await h.store.tokens.findAccess(storedKey(String(payload.jti))));
    });

    test('introspection and revocation work for a JWT; ending its session makes it inactive at once', async () => {
      const s = await jwtClient();
      const token = (await passwordLogin(h, s)).json().access_token;
      const seen = (await introspect(h, s, token)).json();
      assert.equal(seen.active, true);
      assert.equal(seen.scope, 'orders:read orders:write');
      assert.equal(seen.sub, s.userId);
      const api = await h.resourceServer();
      assert.equal((await introspect(h, api, token)).json().active, true);
      assert.equal((await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token })).statusCode, 200);
      assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
      // A purely local verifier still accepts it until its exp (documented in docs/resource-servers.md).
      await verify(token);
    });

    test('code flow with a resource: the JWT aud is the resource server; refresh returns a fresh JWT', async () => {
      const s = await jwtClient();
      await h.resourceServer(API);
      const pkce = pkcePair();
      const params = await loginForCode(h, s, { code_challenge: pkce.challenge, code_challenge_method: 'S256' });
      const first = (await exchangeCode(h, s, params.get('code')!, { code_verifier: pkce.verifier, resource: API })).json();
      assert.equal((await verify(first.access_token, API)).payload.aud, API);
      assert.match(first.refresh_token, /^srt_/, 'refresh tokens stay opaque');
      const next = await h.post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        refresh_token: first.refresh_token,
        scope: 'orders:read',
      });
      assert.equal(next.statusCode, 200, next.body);
      const { payload } = await verify(next.json().access_token, API);
      assert.equal(payload.scope, 'orders:read');
      assert.notEqual(payload.jti, (await verify(first.access_token, API)).payload.jti);
    });

    test('a service client JWT: sub is the client, no email, no sid', async () => {
      const s = await h.seed({ client: { service: true, redirectUrls: [], accessTokenFormat: 'jwt', scopes: ['jobs:run'] } });
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
      );
      assert.equal(res.statusCode, 200, res.body);
      const { payload } = await verify(res.json().access_token);
      assert.equal(payload.sub, s.clientId);
      assert.equal(payload.client_id, s.clientId);
      assert.equal('email' in payload || 'sid' in payload, false);
      assert.equal((await introspect(h, s, res.json().access_token)).json().active, true);
      assert.equal(
        (await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: res.json().access_token }))
          .statusCode,
        200,
      );
      assert.deepEqual((await introspect(h, s, res.json().access_token)).json(), { active: false });
    });

    test('a JWT not signed by this server is never taken for one of ours: another key, alg none, a tampered payload', async () => {
      const s = await jwtClient();
      const real = (await passwordLogin(h, s)).json().access_token as string;
      const { payload, protectedHeader } = await verify(real);
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT(payload).setProtectedHeader(protectedHeader).sign(privateKey);
      const [head, body] = real.split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: protectedHeader.kid })).toString('base64url')}.${body}.`;
      const tampered = `${head}.${Buffer.from(JSON.stringify({ ...payload, scope: 'admin' })).toString('base64url')}.${real.split('.')[2]}`;
      for (const token of [forged, none, tampered]) {
        assert.deepEqual((await introspect(h, s, token)).json(), { active: false });
        assert.equal((await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token })).statusCode, 200);
      }
      assert.equal((await introspect(h, s, real)).json().active, true, 'the revocations of forgeries touched nothing');
    });

    test('an opaque client is unchanged (contract §3 response, sat_ token)', async () => {
      const s: Seeded = await h.seed();
      const res = await passwordLogin(h, s);
      assert.match(res.json().access_token, /^sat_/);
      assertOAuthError(await passwordLogin(h, s, { scope: 'x' }), 400, 'invalid_scope');
    });
  });
}
