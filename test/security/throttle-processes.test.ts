/**
 * Issue #6 §1: the login counters live in the store, so a lock taken through one server process
 * holds on another process on the same database — and the LOGIN_* variables configure `serve`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { freshDatabase, type StoreKind, servicesFor, storeKinds } from '../support/harness.ts';
import { postForm, type ServerProcess, startServerProcess } from '../support/server-process.ts';

for (const kind of storeKinds()) {
  describe(`login throttling across server processes [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let store: Store;
    let a: ServerProcess;
    let b: ServerProcess;
    let client: { client_id: string; client_secret: string };

    before(async () => {
      db = await freshDatabase(kind as StoreKind);
      store = await openStore({ databaseUrl: db.url, now: Date.now() });
      const services = servicesFor(store, systemClock);
      client = await services.clients.createClient({ name: 'throttle', redirectUrls: ['https://app.example/cb'] });
      await services.accounts.createUser({ email: 'locked@example.com', password: 'correct horse battery' });
      const env = { DATABASE_URL: db.url, LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '3', LOGIN_MAX_LOCK_SECONDS: '10' };
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    });

    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await store?.close();
      await db?.drop();
    });

    const loginAt = (server: ServerProcess, password: string) =>
      postForm(`${server.url}/oauth/token`, {
        grant_type: 'client_credentials',
        ...client,
        email: 'locked@example.com',
        password,
      });

    test('a lock taken through one server process refuses the right password on another process on the same database', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await loginAt(a, `wrong guess ${i}`);
        assert.equal(res.status, 400);
        assert.equal(res.json.error, 'invalid_grant');
      }
      // LOGIN_MAX_FAILURES=3 applies to `serve`: the third failure locked the account, everywhere.
      for (const server of [b, a]) {
        const res = await loginAt(server, 'correct horse battery');
        assert.equal(res.status, 429);
        assert.equal(res.json.error, 'slow_down');
        const retryAfter = Number(res.headers.get('retry-after'));
        assert.ok(retryAfter >= 1 && retryAfter <= 3, `Retry-After within LOGIN_LOCK_SECONDS=3: ${retryAfter}`);
      }
      const locked = (await store.events.list({})).filter((e) => e.type === 'account_locked');
      assert.equal(locked.length, 1);

      // The lock passes (LOGIN_LOCK_SECONDS=3) and the right password works on the other process.
      await new Promise((resolve) => setTimeout(resolve, 3_100));
      const res = await loginAt(b, 'correct horse battery');
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.ok(res.json.access_token);
    });
  });
}
