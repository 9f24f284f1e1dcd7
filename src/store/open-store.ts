import { resolve } from 'node:path';
import type { SqlDriver } from './sql-driver.ts';
import { SqliteDriver } from './sqlite-driver.ts';
import { SqlStore } from './sql-store.ts';
import type { Store } from './store.ts';
import { timeQueries, type QueryObserver } from './timed-driver.ts';

export interface OpenStoreOptions {
  databaseUrl: string;
  now: number;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  poolSize?: number;
  /** Told the duration of every statement and transaction (the store-latency metric). */
  onQuery?: QueryObserver;
}

/** The one place that turns DATABASE_URL into a store: `sqlite:<path>` or `postgres://…`. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  const timed = (driver: SqlDriver): SqlDriver => (options.onQuery ? timeQueries(driver, options.onQuery) : driver);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const file = path === ':memory:' ? path : resolve(path);
    return SqlStore.open(timed(new SqliteDriver(file, { synchronous: options.sqliteSynchronous ?? 'FULL' })), options.now);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresDriver } = await import('./postgres-driver.ts');
    return SqlStore.open(timed(new PostgresDriver(url, { poolSize: options.poolSize })), options.now);
  }
  throw new Error('DATABASE_URL must start with sqlite: or postgres://');
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
