/**
 * SQLite durability (issue #8): with SQLITE_SYNCHRONOUS=FULL the driver runs SQLite at NORMAL and
 * fdatasyncs the WAL itself before a write is reported done, one flush shared by the commits made
 * meanwhile (group commit). These tests pin the behaviour that can be observed without pulling
 * the power: every write commits and survives a reopen, under heavy concurrency, with
 * transactions, autocommit writes and a close racing a flush.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteDriver } from '../../src/store/sqlite-driver.ts';

const dirs: string[] = [];
function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sei-auth-group-commit-'));
  dirs.push(dir);
  return join(dir, 'db.sqlite');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const CREATE_TABLE = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)';

/** A driver on a new database at `path` with the table every test writes to. */
async function withTable(path: string): Promise<SqliteDriver> {
  const driver = new SqliteDriver(path);
  await driver.run(CREATE_TABLE);
  return driver;
}

async function count(path: string): Promise<number> {
  const driver = new SqliteDriver(path);
  try {
    return Number((await driver.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n);
  } finally {
    await driver.close();
  }
}

describe('SQLite FULL durability by group commit', () => {
  test('FULL runs SQLite at NORMAL and flushes the WAL itself; NORMAL stays NORMAL; :memory: keeps FULL', async () => {
    const level = async (driver: SqliteDriver) =>
      Number(Object.values((await driver.get<Record<string, number>>('PRAGMA synchronous'))!)[0]);
    const full = new SqliteDriver(file());
    const normal = new SqliteDriver(file(), { synchronous: 'NORMAL' });
    const memory = new SqliteDriver(':memory:');
    try {
      assert.equal(await level(full), 1);
      assert.equal(await level(normal), 1);
      assert.equal(await level(memory), 2);
    } finally {
      await Promise.all([full.close(), normal.close(), memory.close()]);
    }
  });

  test('hundreds of concurrent write transactions and autocommit writes all commit and survive a reopen', async () => {
    const path = file();
    const driver = await withTable(path);
    const transactions = Array.from({ length: 300 }, (_, i) =>
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [i, 'tx']);
        // A read inside the transaction sees its own write.
        assert.equal((await tx.get<{ v: string }>('SELECT v FROM t WHERE id = ?', [i]))!.v, 'tx');
        return i;
      }),
    );
    const autocommits = Array.from({ length: 100 }, (_, i) => driver.run('INSERT INTO t (id, v) VALUES (?, ?)', [1000 + i, 'auto']));
    const results = await Promise.all(transactions);
    assert.deepEqual(
      results,
      Array.from({ length: 300 }, (_, i) => i),
    );
    assert.ok((await Promise.all(autocommits)).every((r) => r.changes === 1));
    await driver.close();
    assert.equal(await count(path), 400);
  });

  test('a failed transaction rolls back; the next ones commit', async () => {
    const path = file();
    const driver = await withTable(path);
    await assert.rejects(
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, v) VALUES (1, ?)', ['lost']);
        throw new Error('boom');
      }),
      /boom/,
    );
    await driver.transaction((tx) => tx.run('INSERT INTO t (id, v) VALUES (2, ?)', ['kept']));
    await driver.close();
    assert.equal(await count(path), 1);
  });

  test('statements that change no row, and reads, need no flush; writes after them still commit', async () => {
    const path = file();
    const driver = await withTable(path);
    assert.equal((await driver.run('DELETE FROM t WHERE id = ?', [42])).changes, 0);
    assert.equal((await driver.run('UPDATE t SET v = ? WHERE id = ?', ['x', 42])).changes, 0);
    assert.equal(await driver.transaction((tx) => tx.get('SELECT v FROM t WHERE id = ?', [1])), undefined);
    await driver.run('INSERT INTO t (id, v) VALUES (1, ?)', ['kept']);
    await driver.run('INSERT INTO t (id, v) VALUES (1, ?) ON CONFLICT (id) DO NOTHING', ['ignored']);
    await driver.close();
    assert.equal(await count(path), 1);
  });

  test('close() waits for writes still being flushed', async () => {
    const path = file();
    const driver = await withTable(path);
    const writes = Array.from({ length: 50 }, (_, i) =>
      driver.transaction((tx) => tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [i, 'x'])),
    );
    const closed = driver.close();
    await Promise.all(writes);
    await closed;
    assert.equal(await count(path), 50);
  });
});

describe('SQLite write transactions grouped into one commit', () => {
  const inserts = (driver: SqliteDriver, from: number, n: number, failEvery = 0) =>
    Array.from({ length: n }, (_, i) =>
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [from + i, 'x'.repeat(200)]);
        if (failEvery > 0 && i % failEvery === 0) throw new Error(`member ${i} fails`);
        return from + i;
      }),
    );

  test('the transactions of one turn share one commit: far fewer WAL frames than one commit each', async () => {
    const grouped = new SqliteDriver(file());
    const solo = new SqliteDriver(file(), { groupTransactions: false });
    try {
      for (const driver of [grouped, solo]) await driver.run(CREATE_TABLE);
      const before = [grouped.walFramesWritten(), solo.walFramesWritten()];
      await Promise.all(inserts(grouped, 0, 40));
      await Promise.all(inserts(solo, 0, 40));
      const groupedFrames = grouped.walFramesWritten() - before[0]!;
      const soloFrames = solo.walFramesWritten() - before[1]!;
      // One commit per transaction rewrites the table's last leaf every time (40 frames at least);
      // one group writes each changed page once.
      assert.ok(soloFrames >= 40, `solo: ${soloFrames} frames`);
      assert.ok(groupedFrames * 4 <= soloFrames, `grouped: ${groupedFrames} frames against ${soloFrames}`);
    } finally {
      await Promise.all([grouped.close(), solo.close()]);
    }
  });

  test('a failing member rolls back to its savepoint alone; the others of its group commit', async () => {
    const path = file();
    const driver = await withTable(path);
    const results = await Promise.allSettled(inserts(driver, 0, 30, 3));
    const failed = results.filter((r) => r.status === 'rejected').length;
    assert.equal(failed, 10);
    // A constraint violation inside a member also stays inside it.
    const duplicate = driver.transaction(async (tx) => {
      await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'duplicate']);
    });
    const next = driver.transaction(async (tx) => tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [1000, 'after']));
    await assert.rejects(duplicate, /UNIQUE/);
    await next;
    await driver.close();
    assert.equal(await count(path), 21);
  });

  test('a member is reported done only once its group has committed: another connection sees its row', async () => {
    const path = file();
    const driver = await withTable(path);
    const other = new SqliteDriver(path);
    try {
      const seen = await Promise.all(
        inserts(driver, 0, 20).map(async (done) => {
          const id = await done;
          return (await other.get<{ id: number }>('SELECT id FROM t WHERE id = ?', [id]))?.id;
        }),
      );
      assert.deepEqual(
        seen,
        Array.from({ length: 20 }, (_, i) => i),
      );
    } finally {
      await Promise.all([driver.close(), other.close()]);
    }
  });

  test('a member sees the writes of the members before it; exactly one of many racing check-then-insert wins', async () => {
    const path = file();
    const driver = await withTable(path);
    const race = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        driver.transaction(async (tx) => {
          const taken = await tx.get('SELECT id FROM t WHERE v = ?', ['the one']);
          if (taken) throw new Error('taken');
          await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [i, 'the one']);
        }),
      ),
    );
    assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
    await driver.close();
    assert.equal(await count(path), 1);
  });

  test('more members than one group holds, with autocommit writes between them, all commit', async () => {
    const path = file();
    const driver = await withTable(path);
    const autocommits = Array.from({ length: 50 }, (_, i) => driver.run('INSERT INTO t (id, v) VALUES (?, ?)', [5000 + i, 'auto']));
    await Promise.all([...inserts(driver, 0, 200), ...autocommits]);
    await driver.close();
    assert.equal(await count(path), 250);
  });
});
