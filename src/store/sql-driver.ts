/**
 * The narrow SQL surface the store is written against. Queries use `?` placeholders; a driver
 * for a database with another placeholder style rewrites them. Nothing outside `store/` sees
 * this interface.
 */
export type SqlValue = string | number | null;

export interface SqlExecutor {
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlDriver extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs fn holding a lock that keeps other processes from migrating at the same time. */
  withMigrationLock<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** WAL frames (pages) this connection's commits have written so far; SQLite only. */
  walFramesWritten?(): number;
}
