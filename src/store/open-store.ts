import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type AvailabilityListener, failureCode, watchAvailability } from './availability.ts';
import type { SqlDriver } from './sql-driver.ts';
import { SqlStore } from './sql-store.ts';
import { SqliteDriver } from './sqlite-driver.ts';
import { type Store, StoreUnavailableError } from './store.ts';
import { type QueryObserver, timeQueries } from './timed-driver.ts';

export interface OpenStoreOptions {
  databaseUrl: string;
  now: number;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  poolSize?: number;
  /** Told the duration of every statement and transaction (the store-latency metric). */
  onQuery?: QueryObserver;
  /** Told once when the database stops answering, and once when it answers again. */
  onAvailability?: AvailabilityListener;
  /**
   * SQLite: create the file's folder when it is missing. Only for the default database
   * (`./data/sei-auth.db`, so that a fresh clone starts); any other path must point into an
   * existing folder, so that a typo is an error rather than a new, empty database.
   */
  createMissingFolder?: boolean;
}

/** A database that cannot be opened as configured (a missing folder). */
export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

/** The one place that turns DATABASE_URL into a store: `sqlite:<path>` or `postgres://…`. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  const wrap = (driver: SqlDriver): SqlDriver => {
    const timed = options.onQuery ? timeQueries(driver, options.onQuery) : driver;
    return options.onAvailability ? watchAvailability(timed, options.onAvailability) : timed;
  };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const file = path === ':memory:' ? path : resolve(path);
    if (file !== ':memory:') sqliteFolder(file, options.createMissingFolder ?? false);
    return retryWhileBusy(() =>
      SqlStore.open(wrap(new SqliteDriver(file, { synchronous: options.sqliteSynchronous ?? 'FULL' })), options.now),
    );
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresDriver } = await import('./postgres-driver.ts');
    try {
      return await SqlStore.open(wrap(new PostgresDriver(url, { poolSize: options.poolSize })), options.now);
    } catch (error) {
      // The one line an operator sees when the server cannot start: which database, and why.
      if (!(error instanceof StoreUnavailableError)) throw error;
      const code = failureCode(error.cause ?? error);
      throw new StoreUnavailableError(`cannot reach the database ${describeDatabaseUrl(url)}: ${describeFailure(code)}`, {
        cause: error,
      });
    }
  }
  throw new Error('DATABASE_URL must start with sqlite: or postgres://');
}

/** The SQLite file's folder must exist (or be created, for the default database only). */
function sqliteFolder(file: string, create: boolean): void {
  const folder = dirname(file);
  if (existsSync(folder)) {
    if (!statSync(folder).isDirectory()) throw new StoreOpenError(`DATABASE_URL: ${folder} is not a folder`);
    return;
  }
  if (create) {
    mkdirSync(folder, { recursive: true });
    return;
  }
  throw new StoreOpenError(
    `DATABASE_URL: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) — sei-auth does not create it, so that a mistyped path cannot start a new, empty database`,
  );
}

/** Readable words for the usual causes; the code itself either way. */
function describeFailure(code: string): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'timed out',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    '57P03': 'the database is starting up',
    '53300': 'too many connections',
  };
  return words[code] ? `${words[code]} (${code})` : code;
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
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return `sqlite (${path === ':memory:' ? path : resolve(path)})`;
  }
  try {
    const u = new URL(url);
    return `postgres (${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname})`;
  } catch {
    return 'postgres';
  }
}
