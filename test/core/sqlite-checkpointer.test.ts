/**
 * WAL checkpoints on a thread of their own (issue #8): the serving connection never checkpoints
 * inside a COMMIT (that blocked the event loop on the database file's fsync); a worker thread
 * with its own connection does it every so many write transactions. These tests pin what can be
 * observed: the serving connection's automatic checkpoints are off, checkpoints do run and move
 * the pages into the database file, nothing is lost, close() is clean, and if the thread cannot
 * work SQLite's own automatic checkpoints come back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteDriver } from '../../src/store/sqlite-driver.ts';

const dirs: string[] = [];
function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sei-auth-checkpoint-'));
  dirs.push(dir);
  return join(dir, 'db.sqlite');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const pragma = async (driver: SqliteDriver, name: string) =>
  Number(Object.values((await driver.get<Record<string, number>>(`PRAGMA ${name}`))!)[0]);

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `n` write transactions of a few kilobytes each, `parallel` at a time. */
async function write(driver: SqliteDriver, from: number, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [from + i, 'x'.repeat(3000)]);
      }),
    ),
  );
}

describe('SQLite WAL checkpoints off the event loop', () => {
  test('the serving connection never checkpoints in COMMIT; the thread does, and every row survives a reopen', async () => {
    const path = file();
    const driver = new SqliteDriver(path, { framesPerCheckpoint: 200 });
    try {
      assert.equal(await pragma(driver, 'wal_autocheckpoint'), 0);
      await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const before = statSync(path).size;
      await write(driver, 0, 450);
      await until(() => driver.checkpointsOnThread >= 1, 'a checkpoint on the thread');
      // The checkpoint copied pages from the WAL into the database file itself.
      assert.ok(statSync(path).size > before + 100 * 3000, `database file grew from ${before} to ${statSync(path).size}`);
      // And serving went on meanwhile.
      await write(driver, 1000, 50);
    } finally {
      await driver.close();
    }
    const reopened = new SqliteDriver(path, { framesPerCheckpoint: 200 });
    try {
      assert.equal(Number((await reopened.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n), 500);
    } finally {
      await reopened.close();
    }
  });

  test('under sustained writes the WAL is reused from its start: it stops growing after the first checkpoints', async () => {
    const path = file();
    const driver = new SqliteDriver(path, { framesPerCheckpoint: 200 });
    try {
      await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      // 6,000 transactions of 3 KB (~24 MB of pages), 50 in flight at a time, without a pause.
      // The WAL file never shrinks (SQLite overwrites it from the start), so its size is the most
      // it ever held: once the first cycles have run it must not grow any more.
      for (let batch = 0; batch < 40; batch++) await write(driver, batch * 50, 50);
      const early = statSync(`${path}-wal`).size;
      for (let batch = 40; batch < 120; batch++) await write(driver, batch * 50, 50);
      const late = statSync(`${path}-wal`).size;
      assert.ok(driver.checkpointsOnThread >= 20, `${driver.checkpointsOnThread} checkpoints`);
      assert.ok(late <= early + 1024 * 1024, `WAL grew from ${early} to ${late} bytes while 16 MB more were written`);
      // Below what was written, so pages were reused; how far below depends on how soon the thread
      // got a core (another test file runs beside this one on a 2-core machine).
      assert.ok(late < 20 * 1024 * 1024, `WAL ${late} bytes after ~24 MB written`);
      assert.equal(Number((await driver.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n), 6000);
    } finally {
      await driver.close();
    }
  });

  test('NORMAL checkpoints on the thread too; :memory: has no WAL and no thread', async () => {
    const normal = new SqliteDriver(file(), { synchronous: 'NORMAL', framesPerCheckpoint: 200 });
    const memory = new SqliteDriver(':memory:');
    try {
      assert.equal(await pragma(normal, 'wal_autocheckpoint'), 0);
      await normal.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      await write(normal, 0, 450);
      await until(() => normal.checkpointsOnThread >= 1, 'a checkpoint on the thread');
      assert.equal(await pragma(memory, 'wal_autocheckpoint'), 1000);
      await memory.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      await write(memory, 0, 250);
      assert.equal(memory.checkpointsOnThread, 0);
    } finally {
      await Promise.all([normal.close(), memory.close()]);
    }
  });

  test('close() while checkpoints are being requested ends the thread and keeps every row', async () => {
    const path = file();
    const driver = new SqliteDriver(path, { framesPerCheckpoint: 200 });
    await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const writing = write(driver, 0, 600);
    await writing;
    await driver.close();
    // The last connection to close checkpoints everything and removes the WAL.
    assert.throws(() => statSync(`${path}-wal`), /ENOENT/);
    const reopened = new SqliteDriver(path, { framesPerCheckpoint: 200 });
    try {
      assert.equal(Number((await reopened.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n), 600);
    } finally {
      await reopened.close();
    }
  });

  test('if the checkpoint thread cannot work, SQLite checkpoints inside COMMIT again (the WAL never grows without bound)', async () => {
    const path = file();
    const driver = new SqliteDriver(path, { framesPerCheckpoint: 200 });
    try {
      await driver.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      // The thread opens the database by its path: moved away, it cannot (fileMustExist); the
      // serving connection keeps its open file and goes on working.
      renameSync(path, `${path}.moved`);
      await write(driver, 0, 250);
      await until(async () => (await pragma(driver, 'wal_autocheckpoint')) === 1000, 'automatic checkpoints back on');
      await write(driver, 1000, 10);
      assert.equal(Number((await driver.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n), 260);
    } finally {
      await driver.close();
    }
  });
});
