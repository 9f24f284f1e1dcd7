/**
 * The verifier's JWT path (RFC 9068 §4) against a fake issuer: claims, typ, alg allow-list,
 * issuer and audience, clock leeway, unknown and retired keys, rotation, and the verified-token
 * cache (exp re-checked on every hit, entries dropped with their key).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportSPKI, importJWK, SignJWT } from 'jose';
import { createVerifier, TokenError, type VerifierOptions } from '../../packages/resource-server/src/index.ts';
import { type FakeIssuer, startFakeIssuer } from './fake-issuer.ts';

let fake: FakeIssuer;
let kid: string;
before(async () => {
  fake = await startFakeIssuer();
  kid = await fake.addKey('ES256');
});
after(() => fake.close());

const verifierFor = (extra: Partial<VerifierOptions> = {}) => createVerifier({ issuer: fake.issuer, audience: fake.audience, ...extra });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function rejects(promise: Promise<unknown>, status: number, code: string | undefined, description?: RegExp): Promise<TokenError> {
  const error = await promise.then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TokenError, `a TokenError, got ${String(error)}`);
  assert.equal(error.status, status, error.message);
  assert.equal(error.code, code);
  if (description) assert.match(error.description ?? '', description);
  return error;
}

describe('a valid JWT access token', () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    test(`${alg}: resolves sub, email, clientId, scope, sessionId, expiresAt`, async () => {
      const k = await fake.addKey(alg);
      const claims = fake.claims();
      const token = await fake.sign(claims, { kid: k });
      const result = await verifierFor().verify(`Bearer ${token}`);
      assert.deepEqual(
        { ...result },
        {
          sub: 'usr_1',
          email: 'ada@example.com',
          clientId: 'cl_app',
          scope: ['orders:read', 'profile'],
          sessionId: 'ses_1',
          expiresAt: claims.exp,
          format: 'jwt',
        },
      );
    });
  }

  test('a service token: no email, no session, no scope claim → an empty scope list', async () => {
    const claims = fake.claims({ sub: 'cl_svc', client_id: 'cl_svc' });
    delete claims.email;
    delete claims.sid;
    delete claims.scope;
    const result = await verifierFor().verify(await fake.sign(claims, { kid }));
    assert.equal(result.sub, 'cl_svc');
    assert.equal(result.email, undefined);
    assert.equal(result.sessionId, undefined);
    assert.deepEqual(result.scope, []);
  });

  test('typ application/at+jwt is accepted too (RFC 9068 §4)', async () => {
    await verifierFor().verify(await fake.sign(fake.claims(), { kid, typ: 'application/at+jwt' }));
  });

  test('aud as an array containing the audience', async () => {
    await verifierFor().verify(await fake.sign(fake.claims({ aud: ['https://other.example', fake.audience] }), { kid }));
  });
});

describe('refused JWTs: 401 invalid_token', () => {
  test('expired (beyond the leeway); within the leeway still accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejects(
      verifierFor().verify(await fake.sign(fake.claims({ exp: now - 30, iat: now - 400 }), { kid })),
      401,
      'invalid_token',
      /expired/,
    );
    await verifierFor({ clockToleranceSeconds: 60 }).verify(await fake.sign(fake.claims({ exp: now - 30, iat: now - 400 }), { kid }));
  });

  test('iat in the future (beyond the leeway)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejects(verifierFor().verify(await fake.sign(fake.claims({ iat: now + 120 }), { kid })), 401, 'invalid_token', /iat/);
  });

  test('wrong audience', async () => {
    const e = await rejects(
      verifierFor().verify(await fake.sign(fake.claims({ aud: 'https://other.example' }), { kid })),
      401,
      'invalid_token',
      /aud/,
    );
    assert.match(e.wwwAuthenticate, /^Bearer realm="https:\/\/api.example", error="invalid_token", error_description="[^"]+"$/);
  });

  test('wrong issuer (exact match: a trailing slash is another issuer)', async () => {
    await rejects(
      verifierFor().verify(await fake.sign(fake.claims({ iss: 'https://evil.example' }), { kid })),
      401,
      'invalid_token',
      /iss/,
    );
    await rejects(verifierFor().verify(await fake.sign(fake.claims({ iss: `${fake.issuer}/` }), { kid })), 401, 'invalid_token', /iss/);
  });

  test('typ missing, or JWT instead of at+jwt (an ID token is not an access token)', async () => {
    await rejects(verifierFor().verify(await fake.sign(fake.claims(), { kid, typ: null })), 401, 'invalid_token', /typ/);
    await rejects(verifierFor().verify(await fake.sign(fake.claims(), { kid, typ: 'JWT' })), 401, 'invalid_token', /typ/);
  });

  test('a required claim missing (jti, client_id, sub, exp)', async () => {
    for (const claim of ['jti', 'client_id', 'sub', 'exp']) {
      const claims = fake.claims();
      delete claims[claim];
      await rejects(verifierFor().verify(await fake.sign(claims, { kid })), 401, 'invalid_token');
    }
  });

  test('alg: none', async () => {
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(fake.claims())}.`;
    await rejects(verifierFor().verify(token), 401, 'invalid_token', /algorithm/);
  });

  test('HS256 with the public key (PEM and JWK) as the HMAC secret', async () => {
    const publicKey = await importJWK(fake.publicJwk(kid), 'ES256');
    const pem = await exportSPKI(publicKey as CryptoKey);
    for (const secret of [pem, JSON.stringify(fake.publicJwk(kid))]) {
      const token = await new SignJWT(fake.claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
        .sign(new TextEncoder().encode(secret));
      await rejects(verifierFor().verify(token), 401, 'invalid_token', /algorithm/);
    }
  });

  test('an algorithm left out of the allow-list', async () => {
    await rejects(
      verifierFor({ algorithms: ['RS256'] }).verify(await fake.sign(fake.claims(), { kid })),
      401,
      'invalid_token',
      /algorithm/,
    );
  });

  test('a forged signature (claims changed after signing)', async () => {
    const token = await fake.sign(fake.claims(), { kid });
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64(fake.claims({ sub: 'usr_admin' }))}.${s}`;
    await rejects(verifierFor().verify(forged), 401, 'invalid_token', /signature/);
  });

  test('a token signed by a key the issuer does not publish (unknown kid, or a kid reused by another key)', async () => {
    const stranger = await startFakeIssuer();
    try {
      const strangerKid = await stranger.addKey('ES256');
      await rejects(verifierFor().verify(await stranger.sign(fake.claims(), { kid: strangerKid })), 401, 'invalid_token', /key/);
      const impostor = await stranger.sign(fake.claims(), { kid: strangerKid, header: { kid } });
      await rejects(verifierFor().verify(impostor), 401, 'invalid_token', /signature/);
    } finally {
      await stranger.close();
    }
  });

  test('verify() with scopes: 403 insufficient_scope, the needed scopes in the challenge', async () => {
    const token = await fake.sign(fake.claims(), { kid });
    await verifierFor().verify(token, { scopes: ['orders:read'] });
    const e = await rejects(verifierFor().verify(token, { scopes: ['orders:read', 'orders:write'] }), 403, 'insufficient_scope');
    assert.match(e.wwwAuthenticate, /error="insufficient_scope", error_description="[^"]+", scope="orders:read orders:write"$/);
  });
});

describe('keys: rotation, retirement, refetch bounds', () => {
  test('a key added while the API runs: the unknown kid makes the verifier refetch the JWKS once', async () => {
    const verifier = verifierFor({ jwks: { cooldownMs: 0 } });
    await verifier.verify(await fake.sign(fake.claims(), { kid }));
    const fetches = fake.jwksFetches;
    const rotated = await fake.addKey('ES256');
    await verifier.verify(await fake.sign(fake.claims(), { kid: rotated }));
    assert.equal(fake.jwksFetches, fetches + 1);
    await verifier.verify(await fake.sign(fake.claims(), { kid: rotated }));
    assert.equal(fake.jwksFetches, fetches + 1, 'the new key is cached');
  });

  test('unknown kids are refetched at most once per cooldown', async () => {
    const verifier = verifierFor({ jwks: { cooldownMs: 60_000 } });
    await verifier.verify(await fake.sign(fake.claims(), { kid }));
    const fetches = fake.jwksFetches;
    const stranger = await startFakeIssuer();
    try {
      const strangerKid = await stranger.addKey('ES256');
      for (let i = 0; i < 20; i++)
        await rejects(verifier.verify(await stranger.sign(fake.claims(), { kid: strangerKid })), 401, 'invalid_token');
    } finally {
      await stranger.close();
    }
    assert.ok(fake.jwksFetches - fetches <= 1, `${fake.jwksFetches - fetches} JWKS fetches for 20 unknown kids`);
  });

  test('a retired key: its tokens are refused once the verifier has refetched the JWKS, cached ones included', async () => {
    const old = await fake.addKey('ES256');
    const verifier = verifierFor({ jwks: { cacheMaxAgeMs: 200, cooldownMs: 0 } });
    const token = await fake.sign(fake.claims(), { kid: old });
    const first = await verifier.verify(token);
    assert.equal(await verifier.verify(token), first, 'served from the verified-token cache');
    fake.retire(old);
    await new Promise((r) => setTimeout(r, 300));
    // This hit finds the JWKS stale and refetches it in the background; the key is gone after that.
    await verifier.verify(token).catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    await rejects(verifier.verify(token), 401, 'invalid_token', /key/);
  });

  test('the verified-token cache re-checks exp on every hit', async () => {
    let now = Date.now();
    const verifier = verifierFor({ now: () => now, clockToleranceSeconds: 0 });
    const claims = fake.claims({ exp: Math.floor(now / 1000) + 2 });
    const token = await fake.sign(claims, { kid });
    const first = await verifier.verify(token);
    assert.equal(await verifier.verify(token), first);
    now += 3000;
    await rejects(verifier.verify(token), 401, 'invalid_token', /expired/);
  });

  test('the verified-token cache is bounded (LRU) and can be disabled', async () => {
    const verifier = verifierFor({ verifiedCache: { size: 2 } });
    const tokens = await Promise.all([1, 2, 3].map((i) => fake.sign(fake.claims({ jti: `j${i}` }), { kid })));
    const results = [];
    for (const t of tokens) results.push(await verifier.verify(t));
    assert.notEqual(await verifier.verify(tokens[0]!), results[0], 'the oldest entry was evicted');
    assert.equal(await verifier.verify(tokens[2]!), results[2]);
    const uncached = verifierFor({ verifiedCache: { size: 0 } });
    assert.notEqual(await uncached.verify(tokens[0]!), await uncached.verify(tokens[0]!));
  });
});

describe('an unreachable JWKS: 503, never accepted, never cached', () => {
  for (const mode of ['down', 'error500', 'garbage', 'slow'] as const) {
    test(mode, async () => {
      const verifier = verifierFor({ jwks: { timeoutMs: 300 } });
      fake.jwksMode = mode;
      fake.slowMs = 1500;
      try {
        const e = await rejects(verifier.verify(await fake.sign(fake.claims(), { kid })), 503, 'temporarily_unavailable');
        assert.equal(e.retryAfterSeconds, 5);
        assert.match(e.wwwAuthenticate, /error="temporarily_unavailable"/);
      } finally {
        fake.jwksMode = 'up';
      }
      await verifier.verify(await fake.sign(fake.claims(), { kid }));
    });
  }

  test('nothing listening at all', async () => {
    const verifier = createVerifier({ issuer: 'http://127.0.0.1:9', audience: fake.audience });
    await rejects(verifier.verify(await fake.sign(fake.claims({ iss: 'http://127.0.0.1:9' }), { kid })), 503, 'temporarily_unavailable');
  });
});
