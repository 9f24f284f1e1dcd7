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
    const driver = new SqliteDriver(path);
    await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
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
    const driver = new SqliteDriver(path);
    await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
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
    const driver = new SqliteDriver(path);
    await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
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
    const driver = new SqliteDriver(path);
    await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const writes = Array.from({ length: 50 }, (_, i) =>
      driver.transaction((tx) => tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [i, 'x'])),
    );
    const closed = driver.close();
    await Promise.all(writes);
    await closed;
    assert.equal(await count(path), 50);
  });
});
