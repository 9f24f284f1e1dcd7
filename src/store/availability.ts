/**
 * A SqlDriver decorator that notices when the database stops answering and when it answers again,
 * and says so once each time — not once per failed request — so that an outage is one line in the
 * log, with its cause, and its end another. It adds no behaviour to the queries themselves.
 */
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';
import { StoreUnavailableError } from './store.ts';

export type AvailabilityChange =
  /** `cause`: the error code of the failure (ECONNREFUSED, 57P01 …), never a message or a URL */
  | { available: false; cause: string }
  /** `downForMs`: how long the outage lasted */
  | { available: true; downForMs: number };

/** Called on each change; it must not throw (a throw is swallowed). */
export type AvailabilityListener = (change: AvailabilityChange) => void;

/** The code of the first error in a cause chain that has one: what an operator can look up. */
export function failureCode(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    e = (e as { cause?: unknown }).cause;
  }
  // pg reports its own timeouts without a code; the phrase is fixed text, never user data.
  let m: unknown = error;
  for (let depth = 0; depth < 5 && m; depth++) {
    const message = (m as { message?: unknown }).message;
    if (typeof message === 'string' && /timeout|timed out/i.test(message)) return 'ETIMEDOUT';
    if (typeof message === 'string' && /Connection terminated/i.test(message)) return 'ECONNRESET';
    m = (m as { cause?: unknown }).cause;
  }
  return 'unknown';
}

/**
 * Reports changes only once the database has answered once: a database that cannot be reached at
 * start makes the open fail with its own message (open-store.ts), not an outage line as well.
 */
export function watchAvailability(driver: SqlDriver, listener: AvailabilityListener, now: () => number = Date.now): SqlDriver {
  let answered = false;
  let downSince: number | undefined;
  const tell = (change: AvailabilityChange) => {
    try {
      listener(change);
    } catch {
      // A log line must never fail a query.
    }
  };
  const ok = <T>(value: T): T => {
    answered = true;
    if (downSince !== undefined) {
      const downForMs = now() - downSince;
      downSince = undefined;
      tell({ available: true, downForMs });
    }
    return value;
  };
  const failed = (error: unknown): never => {
    if (answered && error instanceof StoreUnavailableError && downSince === undefined) {
      downSince = now();
      tell({ available: false, cause: failureCode(error.cause ?? error) });
    }
    throw error;
  };
  const watched = <T>(promise: Promise<T>): Promise<T> => promise.then(ok, failed);
  return {
    dialect: driver.dialect,
    all: <Row>(sql: string, params?: readonly SqlValue[]) => watched(driver.all<Row>(sql, params)),
    get: <Row>(sql: string, params?: readonly SqlValue[]) => watched(driver.get<Row>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => watched(driver.run(sql, params)),
    // A transaction is watched as a whole: its statements succeed or fail with it.
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => watched(driver.transaction(fn)),
    withMigrationLock: <T>(fn: (tx: SqlExecutor) => Promise<T>) => watched(driver.withMigrationLock(fn)),
    close: () => driver.close(),
  };
}
