import pg from 'pg';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';
import { StoreUnavailableError } from './store.ts';

export interface PostgresOptions {
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** How many times a transaction is retried after a serialization failure or deadlock. */
  maxRetries?: number;
}

// int8 (COUNT(*), BIGINT epoch ms) as number, not string, so both stores return the same types.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

const RETRYABLE = new Set(['40001', '40P01']);
// Connection-level failures: the database is down, restarting or unreachable.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;

function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNAVAILABLE_SQLSTATE.test(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /timeout|Connection terminated|connection error|Client has encountered a connection error|not queryable/i.test(message);
}

/** host:port of a PostgreSQL URL, never its credentials: what an operator needs to find the database. */
export function postgresHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return 'an unparsable address';
  }
}

/** The cause's error code (ECONNREFUSED, 57P01 …) or, failing that, a short kind of failure. */
function failureCode(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /timeout/i.test(message) ? 'timeout' : 'connection lost';
}

function translate(error: unknown, host: string): unknown {
  if (!isUnavailable(error)) return error;
  // The message names the host and the code, never the URL's user or password; clients never see it.
  return new StoreUnavailableError(`PostgreSQL at ${host} is unavailable (${failureCode(error)})`, { cause: error });
}

/** `?` placeholders become `$1, $2 …` (the store never puts a literal ? in its SQL). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executor(client: pg.Pool | pg.PoolClient, cache: Map<string, string>, host: string): SqlExecutor {
  const text = (sql: string): string => {
    let converted = cache.get(sql);
    if (converted === undefined) {
      converted = numbered(sql);
      cache.set(sql, converted);
    }
    return converted;
  };
  const query = async (sql: string, params: readonly SqlValue[] = []): Promise<pg.QueryResult> => {
    try {
      return await client.query(text(sql), params as SqlValue[]);
    } catch (error) {
      throw translate(error, host);
    }
  };
  return {
    all: async <Row>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows as Row[],
    get: async <Row>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows[0] as Row | undefined,
    run: async (sql: string, params?: readonly SqlValue[]) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
  };
}

/**
 * PostgreSQL through a `pg` pool. Transactions run at READ COMMITTED; the store makes its
 * critical sections safe with row locks (`FOR UPDATE`) and compare-and-swap UPDATEs, and a
 * serialization failure or deadlock is retried a bounded number of times rather than surfacing.
 */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly cache = new Map<string, string>();
  private readonly direct: SqlExecutor;
  private readonly maxRetries: number;
  /** host:port, for error messages */
  readonly host: string;

  constructor(url: string, options: PostgresOptions = {}) {
    this.host = postgresHost(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      types,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
    this.direct = executor(this.pool, this.cache, this.host);
    this.maxRetries = options.maxRetries ?? 5;
  }

  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.direct.all<Row>(sql, params);
  }
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    return this.direct.get<Row>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw translate(error, this.host);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client, this.cache, this.host));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        const code = (error as { code?: string } | null)?.code;
        const cause = (error as { cause?: { code?: string } } | null)?.cause?.code;
        if ((RETRYABLE.has(code ?? '') || RETRYABLE.has(cause ?? '')) && attempt < this.maxRetries) continue;
        throw translate(error, this.host);
      } finally {
        client.release(broken);
      }
    }
  }

  withMigrationLock<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // Two instances starting at once against an empty database: only one migrates; the other
    // waits for the lock, then finds nothing left to do.
    return this.transaction(async (tx) => {
      await tx.run("SELECT pg_advisory_xact_lock(hashtext('sei-auth:migrations'))");
      return fn(tx);
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
