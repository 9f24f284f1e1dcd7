/**
 * Reference D (no target): what SQLite alone costs on this machine, through better-sqlite3 in a
 * child process pinned like the server — a primary-key read, and a write transaction shaped like
 * the smallest token write (BEGIN IMMEDIATE, two inserts keyed by random 256-bit hashes into a
 * table with a secondary index, COMMIT) at synchronous NORMAL, in WAL mode. Every token request
 * that writes pays at least one such transaction; this is the floor under the write scenarios.
 * Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
  db.close();
  console.log(JSON.stringify({ read, write }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
