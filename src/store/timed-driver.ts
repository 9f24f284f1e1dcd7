/**
 * A SqlDriver decorator that times every statement and every whole transaction and reports it
 * to a callback (the store-latency metric). It adds no behaviour and knows nothing of metrics
 * libraries: the store stays free of prom-client.
 */
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';

export type QueryOperation = 'select' | 'insert' | 'update' | 'delete' | 'other' | 'transaction';

/** Called once per statement or transaction; it must not throw (a throw is swallowed). */
export type QueryObserver = (operation: QueryOperation, seconds: number, ok: boolean) => void;

const VERBS = new Set<QueryOperation>(['select', 'insert', 'update', 'delete']);

/** The statement's leading verb: a closed set, so a metric label never carries SQL text. */
export function queryOperation(sql: string): QueryOperation {
  const verb = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toLowerCase() as QueryOperation | undefined;
  return verb !== undefined && VERBS.has(verb) ? verb : 'other';
}

export function timeQueries(driver: SqlDriver, observe: QueryObserver): SqlDriver {
  const report = (operation: QueryOperation, start: number, ok: boolean) => {
    try {
      observe(operation, (performance.now() - start) / 1000, ok);
    } catch {
      // A metric must never fail a query.
    }
  };
  const timed = async <T>(operation: QueryOperation, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      const result = await run();
      report(operation, start, true);
      return result;
    } catch (error) {
      report(operation, start, false);
      throw error;
    }
  };
  // The store's SQL texts are a small fixed set: classify each once, not on every query.
  const operations = new Map<string, QueryOperation>();
  const operationOf = (sql: string): QueryOperation => {
    let operation = operations.get(sql);
    if (operation === undefined) {
      operation = queryOperation(sql);
      if (operations.size < 10_000) operations.set(sql, operation);
    }
    return operation;
  };
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    all: <Row>(sql: string, params?: readonly SqlValue[]) => timed(operationOf(sql), () => executor.all<Row>(sql, params)),
    get: <Row>(sql: string, params?: readonly SqlValue[]) => timed(operationOf(sql), () => executor.get<Row>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => timed(operationOf(sql), () => executor.run(sql, params)),
  });
  return {
    dialect: driver.dialect,
    ...wrap(driver),
    transaction: (fn) => timed('transaction', () => driver.transaction((tx) => fn(wrap(tx)))),
    withMigrationLock: (fn) => driver.withMigrationLock((tx) => fn(wrap(tx))),
    close: () => driver.close(),
    walFramesWritten: driver.walFramesWritten && (() => driver.walFramesWritten!()),
  };
}
