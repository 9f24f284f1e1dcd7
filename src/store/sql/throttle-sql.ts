import type { SqlDialect, SqlExecutor } from '../sql-driver.ts';
import type { ThrottleState, ThrottleStore } from '../store.ts';
import { flag, type Row, toThrottle } from './rows.ts';

// Row locks where the database has them (PostgreSQL); SQLite's write transaction already excludes other writers.
const LOCK_THROTTLE_SQL = {
  sqlite: 'SELECT * FROM login_throttle WHERE key = ?',
  postgres: 'SELECT * FROM login_throttle WHERE key = ? FOR UPDATE',
} as const;

export class SqlThrottleStore implements ThrottleStore {
  private readonly db: SqlExecutor;
  private readonly lockSql: string;

  constructor(db: SqlExecutor, dialect: SqlDialect) {
    this.db = db;
    this.lockSql = LOCK_THROTTLE_SQL[dialect];
  }

  async find(key: string): Promise<ThrottleState | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM login_throttle WHERE key = ?', [key]);
    return r && toThrottle(r);
  }

  async lock(key: string): Promise<ThrottleState> {
    await this.db.run('INSERT INTO login_throttle (key) VALUES (?) ON CONFLICT (key) DO NOTHING', [key]);
    const r = await this.db.get<Row>(this.lockSql, [key]);
    return toThrottle(r!);
  }

  async save(t: ThrottleState): Promise<void> {
    await this.db.run(
      `INSERT INTO login_throttle (key, failures, last_failure_at, locked_until, locks, in_flight, run_failed, claimed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
         locked_until = excluded.locked_until, locks = excluded.locks, in_flight = excluded.in_flight,
         run_failed = excluded.run_failed, claimed_at = excluded.claimed_at`,
      [t.key, t.failures, t.lastFailureAt, t.lockedUntil, t.locks, t.inFlight, flag(t.runFailed), t.claimedAt],
    );
  }

  async delete(key: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM login_throttle WHERE key = ?', [key]);
    return changes > 0;
  }

  async prune(quietSince: number): Promise<number> {
    // A row whose only news is an attempt still being verified (claimed_at) is not quiet.
    const { changes } = await this.db.run('DELETE FROM login_throttle WHERE last_failure_at < ? AND locked_until < ? AND claimed_at < ?', [
      quietSince,
      quietSince,
      quietSince,
    ]);
    return changes;
  }
}
