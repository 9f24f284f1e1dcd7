/**
 * Issue #13 item 13, diagnosable failures: an outage is one warning with its cause (host and
 * code, never credentials) and one line on recovery; an unreachable PostgreSQL at start names the
 * host; an empty listing says which database it read.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AvailabilityChange, watchAvailability } from '../../src/store/availability.ts';
import type { SqlDriver } from '../../src/store/sql-driver.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { runBin } from '../core/support.ts';
import { freshDatabase } from '../support/harness.ts';
import { postForm, startServerProcess } from '../support/server-process.ts';
import { Relay } from '../support/tcp-relay.ts';

const PASSWORD_IN_URL = 'pw-never-printed-7Qx';

/** A driver whose queries fail as unavailable while `down` is true. */
function flakyDriver(state: { down: boolean }): SqlDriver {
  const query = async () => {
    if (state.down) throw new StoreUnavailableError('PostgreSQL at db.internal:5432 is unavailable (ECONNREFUSED)');
    return [];
  };
  return {
    dialect: 'postgres',
    all: query as SqlDriver['all'],
    get: (async () => {
      await query();
      return undefined;
    }) as SqlDriver['get'],
    run: async () => {
      await query();
      return { changes: 0 };
    },
    transaction: async (fn) =>
      fn({ all: query as SqlDriver['all'], get: (async () => undefined) as SqlDriver['get'], run: async () => ({ changes: 0 }) }),
    withMigrationLock: async (fn) =>
      fn({ all: query as SqlDriver['all'], get: (async () => undefined) as SqlDriver['get'], run: async () => ({ changes: 0 }) }),
    close: async () => {},
  };
}

describe('store outages are reported once, and recovery once', () => {
  test('many failed queries during one outage make one "down" with the cause; the first success after it makes one "up"', async () => {
    const state = { down: false };
    const changes: AvailabilityChange[] = [];
    // Read through a function: assert.deepEqual narrows the array it is given.
    const seen = (): AvailabilityChange[] => changes;
    let now = 1_000;
    const driver = watchAvailability(
      flakyDriver(state),
      (c) => changes.push(c),
      () => now,
    );
    await driver.all('SELECT 1');
    assert.deepEqual(changes, []);
    state.down = true;
    for (let i = 0; i < 20; i++) await assert.rejects(driver.get('SELECT 1'), StoreUnavailableError);
    await assert.rejects(
      driver.transaction(async (tx) => tx.all('SELECT 1')),
      StoreUnavailableError,
    );
    assert.deepEqual(seen(), [{ available: false, cause: 'PostgreSQL at db.internal:5432 is unavailable (ECONNREFUSED)' }]);
    now += 42_000;
    state.down = false;
    await driver.run('SELECT 1');
    await driver.run('SELECT 1');
    assert.deepEqual(seen().slice(1), [{ available: true, downForMs: 42_000 }]);
    // A second outage is reported again.
    state.down = true;
    await assert.rejects(driver.all('SELECT 1'), StoreUnavailableError);
    assert.equal(seen().filter((c) => !c.available).length, 2);
  });

  test('an observer that throws never fails a query', async () => {
    const state = { down: true };
    const driver = watchAvailability(flakyDriver(state), () => {
      throw new Error('observer bug');
    });
    await assert.rejects(driver.all('SELECT 1'), StoreUnavailableError);
    state.down = false;
    assert.deepEqual(await driver.all('SELECT 1'), []);
  });
});

describe('an unreachable PostgreSQL at start names the host, never the password', () => {
  const url = `postgres://sei:${PASSWORD_IN_URL}@127.0.0.1:1/sei`;
  for (const args of [['serve'], ['user', 'list']]) {
    test(`sei-auth ${args.join(' ')}`, async () => {
      const result = await runBin(args, { env: { DATABASE_URL: url, PORT: '0' }, timeoutMs: 30_000 });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /^sei-auth: PostgreSQL at 127\.0\.0\.1:1 is unavailable \(ECONNREFUSED\)$/m);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD_IN_URL));
      assert.ok(!result.stderr.includes('    at '), 'no stack trace');
    });
  }
});

describe('an empty listing names the database it read', () => {
  test('user list, client list and idp list on an empty SQLite store', async () => {
    const db = await freshDatabase('sqlite');
    try {
      const path = db.url.slice('sqlite:'.length);
      for (const [command, what] of [
        ['user', 'users'],
        ['client', 'clients'],
        ['idp', 'identity providers'],
      ] as const) {
        const json = await runBin([command, 'list', '--json'], { env: { DATABASE_URL: db.url } });
        assert.equal(json.code, 0, json.stderr);
        assert.equal(Object.values(JSON.parse(json.stdout) as Record<string, unknown[]>)[0]?.length, 0, 'stdout stays one JSON object');
        assert.equal(json.stderr.trim(), `sei-auth: no ${what} in sqlite (${path}) (DATABASE_URL)`);
      }
    } finally {
      await db.drop();
    }
  });
});

const skip = process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL suite skipped)';

describe('a PostgreSQL outage under a running server', { skip }, () => {
  test('one warning naming host and code when it starts, one info line when it ends; the password never appears', async () => {
    const db = await freshDatabase('postgres');
    const target = new URL(db.url);
    const relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) });
    await relay.up();
    const proxied = new URL(db.url);
    proxied.port = String(relay.port);
    proxied.username = 'postgres';
    proxied.password = PASSWORD_IN_URL; // trust authentication ignores it; it must still never be printed
    const server = await startServerProcess({ DATABASE_URL: proxied.toString(), LOG_LEVEL: 'info' });
    try {
      const form = { grant_type: 'client_credentials', client_id: 'cl_none', client_secret: 'x', email: 'a@example.com', password: 'x' };
      assert.equal(
        (await postForm(`${server.url}/oauth/token`, form)).status,
        400,
        'the store answers: an unknown client (invalid_client)',
      );
      await relay.down();
      for (let i = 0; i < 5; i++) assert.equal((await postForm(`${server.url}/oauth/token`, form)).status, 503);
      await relay.up();
      let back = false;
      let status = 0;
      for (let i = 0; i < 50 && !back; i++) {
        status = (await postForm(`${server.url}/oauth/token`, form)).status;
        back = status !== 503;
        if (!back) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(back, 'the server recovered');
      assert.equal(status, 400, `the first answer after the outage is the store's (invalid_client), not ${status}`);
      // The recovery line is written when the store answers again, which the response may overtake: wait for it (bounded).
      for (let i = 0; i < 40 && !server.output().includes('"store":"available"'); i++) await new Promise((r) => setTimeout(r, 50));
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string; store?: string; cause?: string });
      const down = lines.filter((l) => l.store === 'unavailable');
      const up = lines.filter((l) => l.store === 'available');
      assert.equal(down.length, 1, server.output());
      assert.equal(down[0]!.level, 40, 'a warning');
      assert.match(
        down[0]!.cause!,
        new RegExp(
          `^PostgreSQL at 127\\.0\\.0\\.1:${relay.port} is unavailable \\((ECONNREFUSED|ECONNRESET|57P01|08\\w+|timeout|connection lost)\\)$`,
        ),
      );
      assert.equal(up.length, 1, server.output());
      assert.equal(up[0]!.level, 30);
      assert.ok(!server.output().includes(PASSWORD_IN_URL), 'the password never reaches the log');
    } finally {
      await server.stop();
      await relay.down();
      await db.drop();
    }
  });
});
