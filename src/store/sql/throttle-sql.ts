import type { SqlExecutor } from '../sql-driver.ts';
import type { ThrottleState, ThrottleStore } from '../store.ts';
import { flag, type Row, toThrottle } from './rows.ts';

// The row, created if missing, locked until the transaction ends: on PostgreSQL the DO UPDATE takes
// the row lock; SQLite's write transaction already excludes other writers.
const LOCK_SQL = 'INSERT INTO login_throttle (key) VALUES (?) ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING *';

export class SqlThrottleStore implements ThrottleStore {
  private readonly db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async find(key: string): Promise<ThrottleState | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM login_throttle WHERE key = ?', [key]);
    return r && toThrottle(r);
  }

  async lock(key: string): Promise<ThrottleState> {
    // One statement creates the row if needed and returns it locked. (An INSERT … DO NOTHING then a
    // SELECT … FOR UPDATE could find nothing on PostgreSQL: a transaction deleting the row
    // between the two commits, and READ COMMITTED lets the SELECT see that.)
    const r = await this.db.get<Row>(LOCK_SQL, [key]);
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
