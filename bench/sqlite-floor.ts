/**
 * Reference D (no target): what SQLite alone costs on this machine, through better-sqlite3 in a
 * child process pinned like the server — a primary-key read, and a write transaction shaped like
 * the smallest token write (BEGIN IMMEDIATE, two inserts keyed by random 256-bit hashes into a
 * table with a secondary index, COMMIT) at synchronous NORMAL, in WAL mode. Every token request
 * that writes pays at least one such transaction; this is the floor under the write scenarios.
 * Then the write path's two SQLite-level levers (issue #18) on and off in the same process: keys
 * random or time-ordered (the prefix sei-auth's tokens now carry), and one commit per transaction
 * or 32 transactions as savepoints of one commit (SqliteDriver's group transactions), each with
 * the WAL frames a transaction wrote (from the wal-index header, as the driver counts them).
 * Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const seconds = Number(process.env.BENCH_CHILD_SECONDS ?? 2);
const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'sei-auth-floor-'));
try {
  const db = new Database(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE tokens (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL)',
  );
  db.exec('CREATE INDEX tokens_session ON tokens (session_id)');
  const insert = db.prepare('INSERT INTO tokens (hash, session_id, expires_at, created_at) VALUES (?, ?, ?, ?)');
  const select = db.prepare('SELECT * FROM tokens WHERE hash = ?');
  const key = () => randomBytes(32).toString('base64url');
  const keys: string[] = [];
  // Some volume first, so the B-trees are not trivially small.
  db.transaction(() => {
    for (let i = 0; i < 20_000; i++) {
      const k = key();
      if (i % 10 === 0) keys.push(k);
      insert.run(k, `ses_${i % 5000}`, Date.now(), Date.now());
    }
  })();

  const loop = (op: (i: number) => void) => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) op(n++);
    const used = process.cpuUsage(cpu);
    const elapsed = (performance.now() - start) / 1000;
    return { ops: n, rps: n / elapsed, cpuPerRequest: (used.user + used.system) / n };
  };
  const read = loop((i) => select.get(keys[i % keys.length]));
  const write = loop((i) => {
    db.exec('BEGIN IMMEDIATE');
    insert.run(key(), `ses_${i % 5000}`, Date.now(), Date.now());
    insert.run(key(), `ses_${i % 5000}`, Date.now(), Date.now());
    db.exec('COMMIT');
  });

  // The levers, each combination on a fresh file with the same volume first.
  const GROUP = 32;
  const levers: Array<{
    keys: 'random' | 'time-ordered';
    group: number;
    rps: number;
    cpuPerRequest: number;
    framesPerTransaction: number;
  }> = [];
  for (const keys of ['random', 'time-ordered'] as const) {
    for (const group of [1, GROUP]) {
      const file = join(dir, `lever-${keys}-${group}.db`);
      const ldb = new Database(file);
      ldb.pragma('journal_mode = WAL');
      ldb.pragma('synchronous = NORMAL');
      ldb.pragma('wal_autocheckpoint = 0');
      ldb.exec(
        'CREATE TABLE tokens (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL)',
      );
      ldb.exec('CREATE INDEX tokens_session ON tokens (session_id)');
      const put = ldb.prepare('INSERT INTO tokens (hash, session_id, expires_at, created_at) VALUES (?, ?, ?, ?)');
      let counter = 0;
      const next = () =>
        keys === 'random' ? key() : `${Date.now().toString(16).padStart(12, '0')}${(counter++).toString(36).padStart(8, '0')}${key()}`;
      ldb.transaction(() => {
        for (let i = 0; i < 20_000; i++) put.run(next(), `ses_${i % 5000}`, Date.now(), Date.now());
      })();
      ldb.pragma('wal_checkpoint(TRUNCATE)');
      const shm = openSync(`${file}-shm`, 'r');
      const header = Buffer.alloc(4);
      const frames = () => {
        readSync(shm, header, 0, 4, 16);
        return header.readUInt32LE(0);
      };
      const begin = ldb.prepare('BEGIN IMMEDIATE');
      const commit = ldb.prepare('COMMIT');
      const savepoint = ldb.prepare('SAVEPOINT member');
      const release = ldb.prepare('RELEASE member');
      const before = frames();
      let transactions = 0;
      const result = loop((i) => {
        begin.run();
        for (let m = 0; m < group; m++) {
          if (group > 1) savepoint.run();
          put.run(next(), `ses_${(i * group + m) % 5000}`, Date.now(), Date.now());
          put.run(next(), `ses_${(i * group + m) % 5000}`, Date.now(), Date.now());
          if (group > 1) release.run();
        }
        commit.run();
        transactions += group;
      });
      const written = frames() - before;
      closeSync(shm);
      ldb.close();
      // Per transaction (a group counts as its members).
      levers.push({
        keys,
        group,
        rps: (result.rps * group) | 0,
        cpuPerRequest: result.cpuPerRequest / group,
        framesPerTransaction: written / transactions,
      });
    }
  }
  db.close();
  console.log(JSON.stringify({ read, write, levers }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
