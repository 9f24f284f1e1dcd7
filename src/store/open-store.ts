import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type AvailabilityObserver, watchAvailability } from './availability.ts';
import type { SqlDriver } from './sql-driver.ts';
import { SqlStore } from './sql-store.ts';
import { SqliteDriver } from './sqlite-driver.ts';
import type { Store } from './store.ts';
import { type QueryObserver, timeQueries } from './timed-driver.ts';

export interface OpenStoreOptions {
  databaseUrl: string;
  now: number;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  sqliteGroupTransactions?: boolean;
  poolSize?: number;
  /** Told the duration of every statement and transaction (the store-latency metric). */
  onQuery?: QueryObserver;
  /** Told once when the database stops answering, and once when it answers again (PostgreSQL). */
  onAvailability?: AvailabilityObserver;
  /**
   * Create a missing folder for a SQLite file: only for the default DATABASE_URL, so that a
   * mistyped path is an error rather than a new, empty database somewhere else.
   */
  createFolder?: boolean;
}

/** The one place that turns DATABASE_URL into a store: `sqlite:<path>` or `postgres://…`. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  const timed = (driver: SqlDriver): SqlDriver => (options.onQuery ? timeQueries(driver, options.onQuery) : driver);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const file = path === ':memory:' ? path : resolve(path);
    if (file !== ':memory:' && !existsSync(dirname(file))) {
      if (!options.createFolder) {
        throw new StoreOpenError(`DATABASE_URL: the folder ${dirname(file)} does not exist; create it, or correct the path`);
      }
      mkdirSync(dirname(file), { recursive: true });
    }
    return retryWhileBusy(() =>
      SqlStore.open(
        timed(
          new SqliteDriver(file, {
            synchronous: options.sqliteSynchronous ?? 'FULL',
            groupTransactions: options.sqliteGroupTransactions ?? true,
          }),
        ),
        options.now,
      ),
    );
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresDriver } = await import('./postgres-driver.ts');
    const driver = new PostgresDriver(url, { poolSize: options.poolSize });
    const watched = options.onAvailability ? watchAvailability(driver, options.onAvailability) : driver;
    return SqlStore.open(timed(watched), options.now);
  }
  throw new Error('DATABASE_URL must start with sqlite: or postgres://');
}

/** The store cannot be opened as configured; the message says why, for the operator. */
export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

const OPEN_RETRY_MS = 5000;

/**
 * Several processes opening one new SQLite file at the same moment (servers and CLI commands
 * started together) can collide while one of them switches the file to WAL mode and creates the
 * schema: where waiting could deadlock, SQLite answers SQLITE_BUSY at once instead of waiting for
 * its busy timeout (seen in CI: three CLI processes on a fresh file, one failed with "database is
 * locked"). Opening again a moment later succeeds; after ~5 s, as long as the busy timeout, the
 * error stands.
 */
export async function retryWhileBusy<T>(open: () => Promise<T>, retryMs = OPEN_RETRY_MS): Promise<T> {
  const deadline = performance.now() + retryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY');
      if (!busy || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, 10 * attempt + Math.random() * 40)));
    }
  }
}

/** Scheme and host of a database URL, never its credentials: safe for logs. */
export function describeDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) return `sqlite (${url.slice('sqlite:'.length)})`;
  try {
    const u = new URL(url);
    return `postgres (${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname})`;
  } catch {
    return 'postgres';
  }
}
