/**
 * Issue #13, item 13: failures that say what failed. An unreachable PostgreSQL at start names
 * the host (never the password); a store outage is one line when it starts and one when it ends,
 * not one per request (the PostgreSQL outage itself: test/pg/outage.test.ts); the CLI says which
 * database it read when it finds nothing. (A sqlite: path into a missing folder:
 * test/core/config.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AvailabilityChange, watchAvailability } from '../../src/store/availability.ts';
import { describeDatabaseUrl } from '../../src/store/open-store.ts';
import type { SqlDriver } from '../../src/store/sql-driver.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { runBin, runCliInProcess, singleJson } from '../core/support.ts';
import { rawDriver } from '../store/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';
import { freePort } from '../support/server-process.ts';

describe('an unreachable PostgreSQL at start', () => {
  test('serve and the CLI exit 1 with one line naming the host, port and cause, never the password', async () => {
    const port = await freePort(); // nothing listens there
    const url = `postgres://sei:hunter2-not-printed@127.0.0.1:${port}/auth`;
    for (const args of [['serve'], ['user', 'list', '--json']]) {
      const result = await runBin(args, { env: { DATABASE_URL: url, PORT: '0' } });
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout.trim(), '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.ok(lines[0]!.includes(`127.0.0.1:${port}/auth`), lines[0]);
      assert.match(lines[0]!, /connection refused \(ECONNREFUSED\)/);
      assert.ok(!result.stderr.includes('hunter2'), 'the password is never printed');
      assert.ok(!result.stderr.includes('sei:'), 'nor the user name');
    }
  });
});

for (const kind of storeKinds()) {
  describe(`store availability is reported once per change [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let real: SqlDriver;
    before(async () => {
      db = await freshDatabase(kind);
      real = await rawDriver(kind, db.url);
    });
    after(async () => {
      await real.close();
      await db.drop();
    });

    test('20 failing queries and transactions make one "down" with the error code; the first success one "up"; nothing more', async () => {
      let down = false;
      const cut = () => {
        throw new StoreUnavailableError('the database is unavailable', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) });
      };
      // The real driver, cut off on demand as a dead network would.
      const flaky: SqlDriver = {
        dialect: real.dialect,
        all: (sql, params) => (down ? Promise.resolve().then(cut) : real.all(sql, params)),
        get: (sql, params) => (down ? Promise.resolve().then(cut) : real.get(sql, params)),
        run: (sql, params) => (down ? Promise.resolve().then(cut) : real.run(sql, params)),
        transaction: (fn) => (down ? Promise.resolve().then(cut) : real.transaction(fn)),
        withMigrationLock: (fn) => real.withMigrationLock(fn),
        close: async () => {},
      };
      const changes: AvailabilityChange[] = [];
      let clock = 1000;
      const watched = watchAvailability(
        flaky,
        (c) => changes.push(c),
        () => clock,
      );
      // Before the database has ever answered, a failure is the open's to report, not an outage.
      down = true;
      await assert.rejects(watched.get('SELECT 1 AS one'), StoreUnavailableError);
      down = false;
      assert.equal((await watched.get<{ one: number }>('SELECT 1 AS one'))?.one, 1);
      assert.deepEqual(changes, []);

      down = true;
      const failures = await Promise.allSettled([
        ...Array.from({ length: 10 }, () => watched.get('SELECT 1 AS one')),
        ...Array.from({ length: 10 }, () => watched.transaction((tx) => tx.run('SELECT 1'))),
      ]);
      assert.ok(failures.every((f) => f.status === 'rejected' && f.reason instanceof StoreUnavailableError));
      assert.deepEqual(changes, [{ available: false, cause: 'ECONNREFUSED' }]);

      // An application error is not an outage.
      down = false;
      clock = 4500;
      await assert.rejects(
        watched.transaction(async () => {
          throw new Error('refused by the application');
        }),
        /refused by the application/,
      );
      assert.equal(changes.length, 1);
      await watched.get('SELECT 1 AS one');
      await watched.transaction((tx) => tx.get('SELECT 1 AS one'));
      assert.deepEqual(changes, [
        { available: false, cause: 'ECONNREFUSED' },
        { available: true, downForMs: 3500 },
      ]);
    });
  });

  describe(`the CLI names the database it read when it finds nothing [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    const cli = (args: string[]) => run(args, { env: { DATABASE_URL: db.url } });
    before(async () => {
      db = await freshDatabase(kind);
    });
    after(() => db.drop());

    test('user list, client list and events on an empty store say "no … in <database>" on stderr; --json keeps its shape', async () => {
      const where = describeDatabaseUrl(db.url);
      if (kind === 'sqlite') assert.match(where, /^sqlite \(\/.+test\.db\)$/, 'an absolute path');
      for (const [args, what, json] of [
        [['user', 'list'], 'users', { users: [] }],
        [['client', 'list'], 'clients', { clients: [] }],
        [['events'], 'matching events', { events: [] }],
      ] as const) {
        const asJson = await cli([...args, '--json']);
        assert.deepEqual(singleJson(asJson), json);
        assert.equal(asJson.stderr.trim(), `no ${what} in ${where}`);
        const asText = await cli([...args]);
        assert.equal(asText.code, 0);
        assert.equal(asText.stdout.trim(), '');
        assert.equal(asText.stderr.trim(), `no ${what} in ${where}`);
      }
      // Once there is something to list, no note.
      const created = singleJson(await cli(['client', 'create', '--name', 'x', '--redirect-url', 'https://x.example/cb', '--json']));
      const listed = await cli(['client', 'list', '--json']);
      assert.equal((singleJson(listed).clients as unknown[]).length, 1, String(created.client_id));
      assert.equal(listed.stderr.trim(), '');
    });
  });
}
