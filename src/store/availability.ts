/**
 * A SqlDriver decorator that notices when the database stops answering and when it answers
 * again, and says so once each time: an outage is one warning with its cause, then one line on
 * recovery — not a line per failed request.
 */
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';
import { StoreUnavailableError } from './store.ts';

export type AvailabilityChange = { available: false; cause: string } | { available: true; downForMs: number };

/** Called on each change; it must not throw (a throw is swallowed). */
export type AvailabilityObserver = (change: AvailabilityChange) => void;

export function watchAvailability(driver: SqlDriver, observe: AvailabilityObserver, now: () => number = Date.now): SqlDriver {
  let downSince: number | undefined;
  const tell = (change: AvailabilityChange) => {
    try {
      observe(change);
    } catch {
      // Logging an outage must never fail a query.
    }
  };
  const watched = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      if (downSince !== undefined) {
        const downForMs = now() - downSince;
        downSince = undefined;
        tell({ available: true, downForMs });
      }
      return result;
    } catch (error) {
      if (error instanceof StoreUnavailableError && downSince === undefined) {
        downSince = now();
        tell({ available: false, cause: error.message });
      }
      throw error;
    }
  };
  return {
    dialect: driver.dialect,
    all: <Row>(sql: string, params?: readonly SqlValue[]) => watched(() => driver.all<Row>(sql, params)),
    get: <Row>(sql: string, params?: readonly SqlValue[]) => watched(() => driver.get<Row>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => watched(() => driver.run(sql, params)),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => watched(() => driver.transaction(fn)),
    withMigrationLock: <T>(fn: (tx: SqlExecutor) => Promise<T>) => watched(() => driver.withMigrationLock(fn)),
    close: () => driver.close(),
    walFramesWritten: driver.walFramesWritten && (() => driver.walFramesWritten!()),
  };
}
