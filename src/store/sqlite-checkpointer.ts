import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * A thread with its own SQLite connection that runs WAL checkpoints on request (SqliteDriver
 * decides when; docs/benchmarks.md has the measurements).
 *
 * In WAL mode SQLite copies the WAL back into the database file every ~1000 pages written, and
 * it does so inside the COMMIT that crosses the mark: the pages are written and the database
 * file is fsynced on the calling thread. With better-sqlite3 that thread is the event loop, so
 * every ~70 token requests the whole server stood still for a checkpoint's fsync. SQLite's
 * documentation suggests the remedy used here: turn automatic checkpoints off on the serving
 * connection and run them from another thread. A PASSIVE checkpoint never blocks readers or
 * writers and never waits for them.
 *
 * Nothing about durability changes: a checkpoint only copies committed pages from the WAL into
 * the database file, which SQLite fsyncs before the WAL may be reused.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly waiting: Array<() => void> = [];
  private closed = false;
  /** checkpoints that have completed (tests and diagnostics) */
  completed = 0;

  private constructor(worker: Worker, onFailure: () => void) {
    this.worker = worker;
    // It must not keep the process alive by itself; the driver's close() ends it.
    worker.unref();
    worker.on('message', () => {
      this.completed++;
      this.waiting.shift()?.();
    });
    const fail = () => {
      if (this.closed) return;
      this.closed = true;
      this.releaseWaiting();
      onFailure();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
  }

  /** A checkpointer for the database at `path`; `onFailure` runs once if its thread dies. */
  static start(path: string, onFailure: () => void): SqliteCheckpointer {
    const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
    // Plain CommonJS evaluated in the worker: it needs no TypeScript loader, whether the server
    // runs from dist/ or from the sources through tsx.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const Database = require(workerData.module);
      const db = new Database(workerData.path, { fileMustExist: true });
      db.pragma('wal_autocheckpoint = 0');
      parentPort.on('message', (message) => {
        if (message === 'close') {
          db.close();
          parentPort.close();
          return;
        }
        try {
          db.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // SQLITE_BUSY and the like: the next request tries again.
        }
        parentPort.postMessage('done');
      });
    `;
    const worker = new Worker(source, { eval: true, workerData: { module: betterSqlite3, path } });
    return new SqliteCheckpointer(worker, onFailure);
  }

  /** Runs one PASSIVE checkpoint; resolves at once if the thread is gone. */
  checkpoint(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage('checkpoint');
    });
  }

  private releaseWaiting(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** Lets a running checkpoint finish, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Held by the event loop from here on: close() must be able to wait for the thread's exit.
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)));
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await this.worker.terminate();
    this.releaseWaiting();
  }
}
