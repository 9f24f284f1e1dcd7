/**
 * The verifier's opaque-token path (RFC 7662) against a fake issuer: client authentication, the
 * checks of the answer, the bounded cache (TTL never past exp, negative answers briefly),
 * coalescing, revocation, and 503 when the issuer cannot answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createVerifier, TokenError, type VerifierOptions } from '../../packages/resource-server/src/index.ts';
import { type FakeIssuer, startFakeIssuer } from './fake-issuer.ts';

let fake: FakeIssuer;
before(async () => {
  // Credentials that need form-encoding (RFC 6749 App. B): a space, a colon, a plus, a percent.
  fake = await startFakeIssuer({ clientId: 'rs: api+1', clientSecret: 's3cr%t:+ x' });
});
after(() => fake.close());

const verifierFor = (extra: Partial<VerifierOptions> = {}) =>
  createVerifier({ issuer: fake.issuer, audience: fake.audience, clientId: fake.clientId, clientSecret: fake.clientSecret, ...extra });

async function rejects(promise: Promise<unknown>, status: number, code: string, description?: RegExp): Promise<TokenError> {
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

describe('an active opaque token', () => {
  test('resolves the answer; HTTP Basic with form-encoded credentials, token_type_hint=access_token', async () => {
    const answer = fake.activeAnswer();
    const token = fake.opaque(answer);
    const result = await verifierFor().verify(`Bearer ${token}`);
    assert.deepEqual(
      { ...result },
      {
        sub: 'usr_1',
        email: 'ada@example.com',
        clientId: 'cl_app',
        scope: ['orders:read', 'profile'],
        sessionId: 'ses_1',
        expiresAt: answer.exp,
        format: 'opaque',
      },
    );
    assert.equal(fake.lastIntrospection?.clientId, fake.clientId);
    assert.equal(fake.lastIntrospection?.clientSecret, fake.clientSecret);
    assert.equal(fake.lastIntrospection?.form.get('token'), token);
    assert.equal(fake.lastIntrospection?.form.get('token_type_hint'), 'access_token');
  });

  test('any token that is not a three-part JWS is introspected, whatever its prefix', async () => {
    for (const token of ['no-prefix-at-all', 'a.b', 'a.b.c.d.e', 'tok~en+/=']) {
      fake.opaque(fake.activeAnswer(), token);
      assert.equal((await verifierFor().verify(token)).format, 'opaque');
    }
  });

  test('aud as an array containing the audience; a service token without email and sid', async () => {
    const token = fake.opaque(fake.activeAnswer({ aud: ['https://x.example', fake.audience], email: undefined, sid: undefined }));
    const result = await verifierFor().verify(token);
    assert.equal(result.email, undefined);
    assert.equal(result.sessionId, undefined);
  });

  test('served from the cache; concurrent lookups of one token share one request', async () => {
    const token = fake.opaque(fake.activeAnswer());
    const verifier = verifierFor();
    const before = fake.introspections;
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    assert.equal(fake.introspections, before + 1);
    assert.ok(results.every((r) => r === results[0]));
    await verifier.verify(token);
    assert.equal(fake.introspections, before + 1);
  });
});

describe('refused opaque tokens: 401 invalid_token', () => {
  test('inactive; the negative answer is cached for negativeTtlMs only', async () => {
    let now = Date.now();
    const verifier = verifierFor({ now: () => now, introspection: { negativeTtlMs: 1000 } });
    const before = fake.introspections;
    await rejects(verifier.verify('sat_unknown'), 401, 'invalid_token', /not active/);
    await rejects(verifier.verify('sat_unknown'), 401, 'invalid_token');
    assert.equal(fake.introspections, before + 1);
    now += 1500;
    await rejects(verifier.verify('sat_unknown'), 401, 'invalid_token');
    assert.equal(fake.introspections, before + 2);
  });

  test('revoked: refused once the cached answer is older than cacheTtlMs', async () => {
    let now = Date.now();
    const verifier = verifierFor({ now: () => now, introspection: { cacheTtlMs: 2000 } });
    const token = fake.opaque(fake.activeAnswer());
    await verifier.verify(token);
    fake.revoke(token);
    await verifier.verify(token); // still within the cache TTL: the documented window
    now += 2500;
    await rejects(verifier.verify(token), 401, 'invalid_token');
  });

  test('a cached answer never outlives the token exp', async () => {
    let now = Date.now();
    const verifier = verifierFor({ now: () => now, clockToleranceSeconds: 0, introspection: { cacheTtlMs: 600_000 } });
    const token = fake.opaque(fake.activeAnswer({ exp: Math.floor(now / 1000) + 2 }));
    await verifier.verify(token);
    const before = fake.introspections;
    now += 3000;
    // Past exp the cache has nothing: the issuer is asked again (and here still says active, but exp has passed).
    await rejects(verifier.verify(token), 401, 'invalid_token', /expired/);
    assert.equal(fake.introspections, before + 1);
  });

  test('a refresh token, another audience, another issuer, a malformed answer', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ token_type: 'refresh_token' }, /refresh token/],
      [{ aud: 'https://other.example' }, /audience/],
      [{ aud: ['https://other.example'] }, /audience/],
      [{ aud: undefined }, /audience/],
      [{ iss: 'https://evil.example' }, /issuer/],
      [{ sub: undefined }, /lacks/],
      [{ exp: undefined }, /lacks/],
    ];
    for (const [extra, why] of cases) {
      await rejects(verifierFor().verify(fake.opaque(fake.activeAnswer(extra))), 401, 'invalid_token', why);
    }
  });

  test('no introspection credentials: opaque tokens are refused without asking', async () => {
    const verifier = createVerifier({ issuer: fake.issuer, audience: fake.audience });
    const before = fake.introspections;
    await rejects(verifier.verify(fake.opaque(fake.activeAnswer())), 401, 'invalid_token', /opaque/);
    assert.equal(fake.introspections, before);
  });

  test('scopes required: 403 insufficient_scope', async () => {
    const token = fake.opaque(fake.activeAnswer({ scope: 'profile' }));
    await rejects(verifierFor().verify(token, { scopes: ['orders:read'] }), 403, 'insufficient_scope');
  });
});

describe('the introspection cache is bounded (LRU)', () => {
  test('cacheSize 2: a third token evicts the least recently used', async () => {
    const verifier = verifierFor({ introspection: { cacheSize: 2 } });
    const [a, b, c] = [1, 2, 3].map(() => fake.opaque(fake.activeAnswer()));
    await verifier.verify(a!);
    await verifier.verify(b!);
    await verifier.verify(a!); // a is now the most recent
    await verifier.verify(c!); // evicts b
    const before = fake.introspections;
    await verifier.verify(a!);
    await verifier.verify(c!);
    assert.equal(fake.introspections, before);
    await verifier.verify(b!);
    assert.equal(fake.introspections, before + 1);
  });
});

describe('an issuer that cannot answer: 503, never accepted, never cached', () => {
  for (const mode of ['down', 'error500', 'garbage', 'slow'] as const) {
    test(mode, async () => {
      const verifier = verifierFor({ introspection: { timeoutMs: 300 } });
      const token = fake.opaque(fake.activeAnswer());
      fake.introspectionMode = mode;
      fake.slowMs = 1500;
      try {
        await rejects(verifier.verify(token), 503, 'temporarily_unavailable');
      } finally {
        fake.introspectionMode = 'up';
      }
      await verifier.verify(token);
    });
  }

  test('wrong resource-server credentials (401 invalid_client from the issuer) are a 503, not the token’s fault', async () => {
    const verifier = verifierFor({ clientSecret: 'wrong' });
    await rejects(verifier.verify(fake.opaque(fake.activeAnswer())), 503, 'temporarily_unavailable', /HTTP 401/);
  });

  test('an answer that is JSON but not an introspection response', async () => {
    const verifier = createVerifier({
      issuer: fake.issuer,
      audience: fake.audience,
      clientId: 'x',
      clientSecret: 'y',
      fetch: async () => new Response('[1,2]', { status: 200 }),
    });
    await rejects(verifier.verify('sat_x'), 503, 'temporarily_unavailable');
  });
});

test('a connection reset before any answer is retried once (a keep-alive socket the issuer just closed)', async () => {
  let calls = 0;
  const verifier = verifierFor({
    fetch: async (input, init) => {
      if (++calls === 1)
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      return fetch(input, init);
    },
  });
  assert.equal((await verifier.verify(fake.opaque(fake.activeAnswer()))).format, 'opaque');
  assert.equal(calls, 2);
});
