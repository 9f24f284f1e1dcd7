/** RFC 6750 §2.1 header parsing and §3 challenges, without any issuer. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAuthorization } from '../../packages/resource-server/src/authorization-header.ts';
import { createVerifier, TokenError } from '../../packages/resource-server/src/index.ts';
import { LruCache } from '../../packages/resource-server/src/lru-cache.ts';

describe('parseAuthorization', () => {
  test('the Bearer scheme, case-insensitive, one or more spaces, surrounding whitespace ignored', () => {
    for (const value of ['Bearer abc', 'bearer abc', 'BEARER abc', 'Bearer   abc', ' Bearer abc ', 'Bearer a-b.c_d~e+f/g=='])
      assert.equal(parseAuthorization(value).kind, 'token', value);
    assert.deepEqual(parseAuthorization('Bearer a-b.c_d~e+f/g=='), { kind: 'token', token: 'a-b.c_d~e+f/g==' });
  });

  test('a bare token is accepted', () => {
    assert.deepEqual(parseAuthorization('abc.def.ghi'), { kind: 'token', token: 'abc.def.ghi' });
  });

  test('no credentials, or another scheme: missing (401 without an error code)', () => {
    for (const value of [undefined, null, '', '   ', 'Basic dXNlcjpwYXNz', 'DPoP abc'])
      assert.equal(parseAuthorization(value).kind, 'missing');
  });

  test('malformed: a lone scheme, two tokens, characters outside b64token, padding inside', () => {
    for (const value of ['Bearer', 'Bearer a b', 'Bearer a,b', 'Bearer "a"', 'Bearer a=b', 'Bearer\tabc', 'a"b', 'Bearer ä'])
      assert.equal(parseAuthorization(value).kind, 'malformed', value);
  });
});

describe('verify() on the header alone', () => {
  const verifier = createVerifier({ issuer: 'http://127.0.0.1:9', audience: 'https://api.example', realm: 'orders' });

  test('no token: 401, a bare challenge (RFC 6750 §3.1)', async () => {
    const e = await verifier.verify(undefined).catch((x: unknown) => x);
    assert.ok(e instanceof TokenError);
    assert.equal(e.status, 401);
    assert.equal(e.code, undefined);
    assert.equal(e.wwwAuthenticate, 'Bearer realm="orders"');
  });

  test('a malformed header: 400 invalid_request', async () => {
    const e = await verifier.verify('Bearer a b').catch((x: unknown) => x);
    assert.ok(e instanceof TokenError);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'invalid_request');
    assert.equal(
      e.wwwAuthenticate,
      'Bearer realm="orders", error="invalid_request", error_description="more than one token in the Authorization header"',
    );
  });
});

describe('TokenError', () => {
  test('quoted values keep to RFC 6750 §3 characters', () => {
    const e = new TokenError('invalid_token', 'bad "quoted" \\ välue\n', { realm: 're"alm' });
    assert.equal(e.wwwAuthenticate, 'Bearer realm="realm", error="invalid_token", error_description="bad quoted  vlue"');
  });

  test('body and headers; Retry-After on a 503 only', () => {
    const e = new TokenError('temporarily_unavailable', 'down', { realm: 'r', retryAfterSeconds: 7 });
    assert.equal(e.status, 503);
    assert.deepEqual(e.body(), { error: 'temporarily_unavailable', error_description: 'down' });
    assert.equal(e.headers()['retry-after'], '7');
    assert.equal(new TokenError('invalid_token', 'x', { realm: 'r' }).headers()['retry-after'], undefined);
  });
});

describe('createVerifier options', () => {
  test('refuses a bad configuration at once', () => {
    assert.throws(() => createVerifier({ issuer: 'not a url', audience: 'a' }), TypeError);
    assert.throws(() => createVerifier({ issuer: 'https://i.example', audience: '' }), TypeError);
    assert.throws(() => createVerifier({ issuer: 'https://i.example', audience: 'a', clientId: 'x' }), TypeError);
    // @ts-expect-error HS256 is not an allowed algorithm
    assert.throws(() => createVerifier({ issuer: 'https://i.example', audience: 'a', algorithms: ['HS256'] }), TypeError);
    assert.throws(() => createVerifier({ issuer: 'https://i.example', audience: 'a', jwks: { timeoutMs: -1 } }), TypeError);
  });
});

describe('LruCache', () => {
  test('bounded, least recently used first out, expiry', () => {
    const c = new LruCache<number>(2);
    c.set('a', 1, 100);
    c.set('b', 2, 100);
    assert.equal(c.get('a', 0), 1);
    c.set('c', 3, 100);
    assert.equal(c.get('b', 0), undefined);
    assert.equal(c.get('a', 0), 1);
    assert.equal(c.get('c', 100), undefined, 'expired at its expiry');
    assert.equal(c.size, 1);
  });
});
