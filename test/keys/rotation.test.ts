/**
 * Contract §6 on the real app and store: the first key, rotation (published at once, signing
 * after --activate-in), a superseded key leaving by itself once its tokens expired, retire, other
 * algorithms, and that a verifier holding the JWKS it fetched before a rotation keeps accepting
 * the tokens signed before it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { ManualClock } from '../../src/clock.ts';
import { AdminError } from '../../src/common/admin-error.ts';
import { createHarness, type Harness, storeKinds } from '../support/harness.ts';

const TTL = 600;

async function fetchJwks(h: Harness): Promise<JSONWebKeySet> {
  const res = await h.app.inject({ method: 'GET', url: '/oauth/jwks' });
  assert.equal(res.statusCode, 200);
  return res.json() as JSONWebKeySet;
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid).sort();

/** A resource server that verifies locally with a JWKS it holds (jose), at the test clock's time. */
async function verifiesWith(set: JSONWebKeySet, token: string, clock: ManualClock): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(set), { currentDate: new Date(clock.now()), typ: 'at+jwt' });
    return true;
  } catch {
    return false;
  }
}

for (const kind of storeKinds()) {
  describe(`signing keys: rotation [${kind}]`, () => {
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind, clock, accessTokenTtl: TTL, jwksMaxAge: 300 });
    });
    after(() => h?.close());

    const token = (sub: string) =>
      h.services.keys.sign({ sub, iat: Math.floor(clock.now() / 1000), exp: Math.floor(clock.now() / 1000) + TTL }, { typ: 'at+jwt' });
    const status = async (kid: string | undefined) => (await h.services.keys.list()).find((k) => k.kid === kid)?.status;

    test('the first start made one active ES256 key and one RS256 key (ID tokens), published and signing; starting again makes no other', async () => {
      const keys = await h.services.keys.list();
      assert.deepEqual(keys.map((k) => [k.alg, k.status]).sort(), [
        ['ES256', 'active'],
        ['RS256', 'active'],
      ]);
      const es = keys.find((k) => k.alg === 'ES256')!;
      await h.services.keys.ensureInitialKey();
      assert.equal((await h.services.keys.list()).length, 2);
      const jwks = await fetchJwks(h);
      assert.deepEqual(kids(jwks), keys.map((k) => k.kid).sort());
      const jwk = jwks.keys.find((k) => k.kid === es.kid)!;
      assert.equal(jwk.alg, 'ES256');
      assert.equal(jwk.use, 'sig');
      assert.equal(jwk.kty, 'EC');
      assert.equal(jwk.d, undefined, 'no private part');
      const t = await token('first');
      assert.deepEqual(decodeProtectedHeader(t), { alg: 'ES256', kid: es.kid, typ: 'at+jwt' });
      assert.equal((await h.services.keys.verifyOwn(t))?.sub, 'first');
      assert.ok(await verifiesWith(jwks, t, clock));
    });

    test('rotate publishes at once, signs after activate-in; the old key verifies tokens from a cached JWKS, then leaves by itself', async () => {
      const old = (await h.services.keys.list()).find((k) => k.alg === 'ES256');
      const rs = (await h.services.keys.list()).find((k) => k.alg === 'RS256')!;
      const cachedBefore = await fetchJwks(h); // a resource server's copy, fetched before the rotation
      const before = await token('before');
      assert.equal(kidOf(before), old!.kid);

      const { kid } = await h.services.keys.rotate({});
      const published = await fetchJwks(h);
      assert.deepEqual(kids(published), [kid, old!.kid, rs.kid].sort(), 'published at once');
      assert.equal(await status(kid), 'pending');
      assert.equal(await status(old!.kid), 'active');
      clock.advance(299_000);
      assert.equal(kidOf(await token('still-old')), old!.kid, 'the default delay is the JWKS max-age (300 s)');
      clock.advance(1_000);
      const after = await token('after');
      assert.equal(kidOf(after), kid, 'signs from its activation');
      assert.equal(await status(kid), 'active');
      assert.equal(await status(old!.kid), 'retiring');

      // Signed before, verified after: by the verifier that cached the old JWKS, and by us.
      assert.ok(await verifiesWith(cachedBefore, before, clock));
      assert.equal((await h.services.keys.verifyOwn(before))?.sub, 'before');
      // Signed after activation: known to whoever fetched the JWKS after publication.
      assert.ok(await verifiesWith(published, after, clock));
      assert.ok(!(await verifiesWith(cachedBefore, after, clock)), 'the old copy does not know the new key');

      // The old key stays published while a token it signed can be valid, then leaves by itself.
      clock.advance(TTL * 1000);
      assert.ok(kids(await fetchJwks(h)).includes(old!.kid));
      clock.advance(1_000);
      assert.deepEqual(kids(await fetchJwks(h)), [kid, rs.kid].sort());
      assert.equal(await status(old!.kid), 'retired');
      assert.equal(await h.services.keys.verifyOwn(before), undefined);
    });

    test("a client's longer access-token lifetime keeps a superseded key published longer", async () => {
      await h.services.clients.createClient({ name: 'long-lived', redirectUrls: ['https://app.example/cb'], accessTtl: TTL * 3 });
      const [current] = (await h.services.keys.list()).filter((k) => k.status === 'active' && k.alg === 'ES256');
      await h.services.keys.rotate({ activateInSeconds: 0 });
      clock.advance(TTL * 2 * 1000);
      assert.equal(await status(current!.kid), 'retiring');
      clock.advance(TTL * 1000 + 1_000);
      assert.equal(await status(current!.kid), 'retired');
    });

    test('retire takes a key out of the JWKS at once; the active key, an unknown kid and a retired one are refused', async () => {
      const [current] = (await h.services.keys.list()).filter((k) => k.status === 'active' && k.alg === 'ES256');
      const signed = await token('to-be-retired');
      const { kid } = await h.services.keys.rotate({ activateInSeconds: 0 });
      assert.equal(kidOf(await token('new')), kid, '--activate-in 0 signs at once');
      assert.equal(await status(current!.kid), 'retiring');
      await h.services.keys.retire(current!.kid);
      assert.ok(!kids(await fetchJwks(h)).includes(current!.kid), 'left the JWKS at once');
      assert.equal(await status(current!.kid), 'retired');
      assert.equal(await h.services.keys.verifyOwn(signed), undefined);
      await assert.rejects(
        h.services.keys.retire(current!.kid),
        (e: Error) => e instanceof AdminError && /already retired/.test(e.message),
      );
      await assert.rejects(
        h.services.keys.retire(kid),
        (e: Error) => e instanceof AdminError && /is the active ES256 key: rotate first/.test(e.message),
      );
      await assert.rejects(
        h.services.keys.retire('nope'),
        (e: Error) => e instanceof AdminError && /no signing key with kid nope/.test(e.message),
      );
      // A pending key may be retired: it never signs.
      const pending = await h.services.keys.rotate({ activateInSeconds: 60 });
      await h.services.keys.retire(pending.kid);
      clock.advance(61_000);
      assert.equal(kidOf(await token('still-current')), kid);
    });

    test('RS256 and EdDSA rotate independently of ES256; no EdDSA key exists until one is made', async () => {
      await assert.rejects(h.services.keys.sign({ sub: 'x' }, { typ: 'at+jwt', alg: 'EdDSA' }), /no active EdDSA signing key/);
      assert.equal(
        (await h.services.keys.list()).some((k) => k.alg === 'EdDSA'),
        false,
      );
      const firstRs = (await h.services.keys.list()).find((k) => k.alg === 'RS256' && k.status === 'active')!;
      const es = (await h.services.keys.list()).find((k) => k.alg === 'ES256' && k.status === 'active')!;
      const rs = await h.services.keys.rotate({ alg: 'RS256', activateInSeconds: 0 });
      const ed = await h.services.keys.rotate({ alg: 'EdDSA', activateInSeconds: 0 });
      const jwks = await fetchJwks(h);
      for (const [made, alg, kty] of [
        [rs, 'RS256', 'RSA'],
        [ed, 'EdDSA', 'OKP'],
      ] as const) {
        const t = await h.services.keys.sign({ sub: alg, exp: Math.floor(clock.now() / 1000) + 60 }, { typ: 'at+jwt', alg });
        assert.deepEqual(decodeProtectedHeader(t), { alg, kid: made.kid, typ: 'at+jwt' });
        assert.equal((await h.services.keys.verifyOwn(t))?.sub, alg);
        assert.ok(await verifiesWith(jwks, t, clock));
        const jwk = jwks.keys.find((k) => k.kid === made.kid)!;
        assert.equal(jwk.kty, kty);
        assert.equal(jwk.alg, alg);
      }
      assert.equal((await h.services.keys.list()).find((k) => k.kid === es.kid)?.status, 'active', 'ES256 untouched');
      assert.equal((await h.services.keys.list()).find((k) => k.kid === firstRs.kid)?.status, 'retiring', 'the first RS256 key steps down');
      assert.equal(kidOf(await token('es')), es.kid);
      // 2048-bit RSA
      assert.equal(Buffer.from(jwks.keys.find((k) => k.kid === rs.kid)!.n!, 'base64url').length, 256);
    });

    test('signatures asked for in the same turn start together: each gets its own payload, key and header; one failing fails alone', async () => {
      const rs = (await h.services.keys.list()).find((k) => k.alg === 'RS256' && k.status === 'active')!;
      const es = (await h.services.keys.list()).find((k) => k.alg === 'ES256' && k.status === 'active')!;
      const exp = Math.floor(clock.now() / 1000) + 60;
      const subs = Array.from({ length: 20 }, (_, i) => `batch-${i}`);
      const signed = subs.map((sub, i) =>
        h.services.keys.sign({ sub, exp }, { typ: i % 2 ? 'at+jwt' : 'JWT', ...(i % 5 === 0 ? { alg: 'RS256' as const } : {}) }),
      );
      const refused = h.services.keys.sign({ sub: 'nope', exp }, { typ: 'at+jwt', alg: 'HS256' as never });
      // jose refuses this payload at once (in SignJWT's constructor): that signature alone fails.
      const junk = h.services.keys.sign('not a claims set' as never, { typ: 'at+jwt' });
      await assert.rejects(refused, /no active HS256 signing key/);
      await assert.rejects(junk, TypeError);
      const jwks = await fetchJwks(h);
      for (const [i, token] of (await Promise.all(signed)).entries()) {
        const alg = i % 5 === 0 ? 'RS256' : 'ES256';
        assert.deepEqual(decodeProtectedHeader(token), { alg, kid: alg === 'RS256' ? rs.kid : es.kid, typ: i % 2 ? 'at+jwt' : 'JWT' });
        assert.equal((await h.services.keys.verifyOwn(token))?.sub, subs[i]);
        const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { currentDate: new Date(clock.now()) });
        assert.equal(payload.sub, subs[i]);
      }
    });

    test('bad rotate arguments are AdminErrors', async () => {
      for (const bad of [{ alg: 'HS256' }, { alg: 'none' }, { activateInSeconds: -1 }, { activateInSeconds: 1.5 }]) {
        await assert.rejects(h.services.keys.rotate(bad), AdminError, JSON.stringify(bad));
      }
    });

    test('verifyOwn: only a JWT signed by a published key with its own algorithm; never none or HMAC; expiry is not its business', async () => {
      const expired = await h.services.keys.sign({ sub: 'old', exp: Math.floor(clock.now() / 1000) - 3600 }, { typ: 'at+jwt' });
      assert.equal((await h.services.keys.verifyOwn(expired))?.sub, 'old');
      const good = await token('good');
      const [header, payload, signature] = good.split('.');
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const kid = kidOf(good)!;
      const forged = b64({ sub: 'admin', exp: Math.floor(clock.now() / 1000) + 60 });
      const jwk = (await fetchJwks(h)).keys.find((k) => k.kid === kid)!;
      const hmac = await new SignJWT({ sub: 'admin' })
        .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(JSON.stringify(jwk)));
      for (const bad of [
        `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${forged}.`,
        hmac,
        `${header}.${forged}.${signature}`,
        `${b64({ alg: 'ES256', kid: 'unknown', typ: 'at+jwt' })}.${payload}.${signature}`,
        `${b64({ alg: 'RS256', kid, typ: 'at+jwt' })}.${payload}.${signature}`,
        'not-a-jwt',
        '',
        `${header}.${b64([1, 2])}.${signature}`,
      ]) {
        assert.equal(await h.services.keys.verifyOwn(bad), undefined, bad);
      }
    });
  });
}
