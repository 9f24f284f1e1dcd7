import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';

export interface SqliteOptions {
  /** `synchronous` pragma: FULL survives power loss; NORMAL (WAL) may lose the last commits. */
  synchronous?: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
}

/**
 * better-sqlite3 is synchronous, so one connection serves the whole process. What needs care is
 * the async transaction API: while one transaction awaits, another request must not run
 * statements on the same connection (they would join the open transaction). So statements and
 * transactions queue behind an in-process lock while a transaction is open; across processes,
 * `BEGIN IMMEDIATE` takes SQLite's write lock up front, which is what makes check-then-insert
 * sequences (the session limit) atomic.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private lock: Promise<void> = Promise.resolve();
  private locked = false;

  constructor(path: string, options: SqliteOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma('foreign_keys = ON');
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private readonly direct: SqlExecutor = {
    all: async <Row>(sql: string, params: readonly SqlValue[] = []) => {
      const stmt = this.statement(sql);
      return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as Row[];
    },
    get: async <Row>(sql: string, params: readonly SqlValue[] = []) => {
      const stmt = this.statement(sql);
      if (!stmt.reader) {
        stmt.run(...params);
        return undefined;
      }
      return stmt.get(...params) as Row | undefined;
    },
    run: async (sql: string, params: readonly SqlValue[] = []) => {
      const stmt = this.statement(sql);
      if (stmt.reader) {
        // A statement with RETURNING is a reader; run it through all() to execute it.
        return { changes: stmt.all(...params).length };
      }
      return { changes: stmt.run(...params).changes };
    },
  };

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.locked = true;
    try {
      return await fn();
    } finally {
      this.locked = false;
      release();
    }
  }

  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    if (!this.locked) return this.direct.all<Row>(sql, params);
    return this.exclusive(() => this.direct.all<Row>(sql, params));
  }

  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    if (!this.locked) return this.direct.get<Row>(sql, params);
    return this.exclusive(() => this.direct.get<Row>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    if (!this.locked) return this.direct.run(sql, params);
    return this.exclusive(() => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  withMigrationLock<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // BEGIN IMMEDIATE already excludes every other writer, in this process and in others.
    return this.transaction(fn);
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (this.db.open) this.db.close();
    });
  }
}
