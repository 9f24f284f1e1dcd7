/**
 * Issue #6 §1: the login counters live in the store, so a lock taken through one server process
 * holds on another process on the same database — and the LOGIN_* variables configure `serve`.
 * Issue #13 §1: an attempt is reserved in the store before its verify, so a burst split over
 * both processes checks no more passwords than one process would.
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
      await services.accounts.createUser({ email: 'burst@example.com', password: 'correct horse battery' });
      const env = { DATABASE_URL: db.url, LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '3', LOGIN_MAX_LOCK_SECONDS: '10' };
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    });

    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await store?.close();
      await db?.drop();
    });

    const loginAt = (server: ServerProcess, password: string, email = 'locked@example.com') =>
      postForm(`${server.url}/oauth/token`, {
        grant_type: 'client_credentials',
        ...client,
        email,
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

    test('60 parallel wrong guesses and the right password split over two processes: at most LOGIN_MAX_FAILURES passwords checked in all, every other request 429', async () => {
      const email = 'burst@example.com';
      const user = await store.users.findByEmail(email);
      assert.ok(user);
      const passwords = [...Array.from({ length: 60 }, (_, i) => `wrong guess #${i}`), 'correct horse battery'];
      const answers = await Promise.all(passwords.map((password, i) => loginAt(i % 2 ? b : a, password, email)));

      // Every checked password leaves exactly one login event (login_failed or login_succeeded), and
      // a refused attempt none: an honest count of the argon2 verifications on both processes.
      const checked = (await store.events.list({ limit: 10_000 })).filter(
        (e) => e.userId === user.id && (e.type === 'login_failed' || e.type === 'login_succeeded'),
      );
      assert.ok(checked.length >= 1 && checked.length <= 3, `at most LOGIN_MAX_FAILURES=3 verifications, got ${checked.length}`);
      const honest = answers.filter((r) => r.status === 400 || r.status === 200);
      assert.equal(honest.length, checked.length, 'each checked password is answered for what it is');
      for (const r of honest) assert.ok(r.status === 200 || r.json.error === 'invalid_grant', JSON.stringify(r.json));
      for (const r of answers.filter((x) => x.status !== 400 && x.status !== 200)) {
        assert.equal(r.status, 429);
        assert.equal(r.json.error, 'slow_down');
        assert.match(String(r.headers.get('retry-after')), /^\d+$/);
      }
      for (const server of [a, b]) assert.equal((await loginAt(server, 'correct horse battery', email)).status, 429);
    });
  });
}
