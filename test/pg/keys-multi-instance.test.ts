/**
 * Contract §6 on several instances sharing one PostgreSQL database: a rotation made on one is
 * published by the other within a second (its key-set cache) and signed with from its activation;
 * a retirement leaves every instance within a second; concurrent first starts make one key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../src/clock.ts';
import { composePlatform, type Services } from '../../src/composition-root.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { runCliInProcess, singleJson } from '../core/support.ts';
import { freshDatabase, TEST_KEY_ENCRYPTION_KEY } from '../support/harness.ts';
import { type ServerProcess, startServerProcess, TEST_KEY_ENCRYPTION_KEY_BASE64 } from '../support/server-process.ts';

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL suite skipped)';

describe('signing keys on two instances of one PostgreSQL database', { skip }, () => {
  let db: { url: string; drop: () => Promise<void> };
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const stores: Store[] = [];
  let a: Services;
  let b: Services;

  /** One instance: its own store connection (pool) and its own key-set cache, the shared clock. */
  async function instance(): Promise<Services> {
    const store = await openStore({ databaseUrl: db.url, now: clock.now() });
    stores.push(store);
    return composePlatform({
      store,
      clock,
      settings: {
        issuer: 'http://sei-auth.test',
        lifetimes: { accessTokenTtl: 600, refreshTokenTtl: 86_400 },
        keyEncryptionKey: TEST_KEY_ENCRYPTION_KEY,
      },
    }).services;
  }

  before(async () => {
    db = await freshDatabase('postgres');
    const starting = await Promise.all(Array.from({ length: 4 }, () => instance()));
    // Concurrent first starts on a fresh database: one key.
    await Promise.all(starting.map((s) => s.keys.ensureInitialKey()));
    [a, b] = starting as [Services, Services];
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.drop();
  });

  const kidOf = (token: string) => decodeProtectedHeader(token).kid;
  const kids = async (s: Services) => (await s.keys.jwks()).keys.map((k) => k.kid).sort();

  test('concurrent first starts made exactly one key of each first algorithm (ES256, RS256 for ID tokens)', async () => {
    assert.deepEqual((await a.keys.list()).map((k) => k.alg).sort(), ['ES256', 'RS256']);
    assert.deepEqual(await kids(a), await kids(b));
  });

  test('a rotation on A: published by B within a second, signed with by B from its activation', async () => {
    const old = (await b.keys.list()).find((k) => k.alg === 'ES256')!.kid;
    const rs = (await b.keys.list()).find((k) => k.alg === 'RS256')!.kid;
    assert.equal(kidOf(await b.keys.sign({ sub: 'x' }, { typ: 'at+jwt' })), old); // B's cache is warm
    const { kid } = await a.keys.rotate({ activateInSeconds: 5 });
    clock.advance(1_000);
    assert.deepEqual(await kids(b), [kid, old, rs].sort(), 'B publishes it after at most a second');
    assert.equal(kidOf(await b.keys.sign({ sub: 'x' }, { typ: 'at+jwt' })), old, 'not before its activation');
    clock.advance(4_000);
    const signed = await b.keys.sign({ sub: 'x' }, { typ: 'at+jwt' });
    assert.equal(kidOf(signed), kid, 'B signs with it from its activation');
    assert.equal((await a.keys.verifyOwn(signed))?.sub, 'x');
  });

  test('a retirement on A leaves B within a second', async () => {
    const retiring = (await a.keys.list()).find((k) => k.status === 'retiring')!;
    const token = await a.keys.sign({ sub: 'y' }, { typ: 'at+jwt' });
    assert.ok(await b.keys.verifyOwn(token));
    await a.keys.retire(retiring.kid);
    clock.advance(1_000);
    assert.ok(!(await kids(b)).includes(retiring.kid));
  });

  describe('server processes', () => {
    let servers: ServerProcess[] = [];
    after(async () => Promise.all(servers.map((s) => s.stop())));

    test('a rotation by the CLI is in the other instance’s JWKS within about a second', async () => {
      servers = await Promise.all([startServerProcess({ DATABASE_URL: db.url }), startServerProcess({ DATABASE_URL: db.url })]);
      const jwks = async (s: ServerProcess) => ((await (await fetch(`${s.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] }).keys;
      await jwks(servers[1]!); // warm its cache
      const made = singleJson(
        await runCliInProcess(['keys', 'rotate', '--activate-in', '60', '--json'], {
          env: { DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY_BASE64 },
        }),
      );
      const started = Date.now();
      while (!(await jwks(servers[1]!)).some((k) => k.kid === made.kid)) {
        assert.ok(Date.now() - started < 3_000, 'not published within 3 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    });
  });
});
