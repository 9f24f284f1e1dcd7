import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';
import { SqliteCheckpointer } from './sqlite-checkpointer.ts';

const fdatasyncAsync = promisify(fdatasync);

/**
 * WAL frames (pages) between two checkpoints: the WAL holds ~16 MB at most. Counted in frames,
 * not transactions, since a group of transactions writes a page they share once: a checkpoint
 * every 200 transactions ran ~25 times a second under load, each pausing the driver's queue for
 * its second step.
 */
const FRAMES_PER_CHECKPOINT = 4000;
/** SQLite's default, restored should the checkpoint thread fail. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Write transactions of one group at most (see {@link SqliteDriver.transaction}): a bound on how
 * much one failed COMMIT can take with it and on how long other processes wait for the write lock.
 */
const MAX_GROUP_MEMBERS = 64;

export interface SqliteOptions {
  /** `synchronous` pragma: FULL survives power loss; NORMAL (WAL) may lose the last commits. */
  synchronous?: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
  /**
   * Run the write transactions of one event-loop turn as savepoints of one SQLite transaction
   * (default true; `SQLITE_GROUP_TRANSACTIONS=off` turns it off, for comparison).
   */
  groupTransactions?: boolean;
  /** WAL frames between two checkpoints (default FRAMES_PER_CHECKPOINT; tests use fewer) */
  framesPerCheckpoint?: number;
}

/** The write transactions that share one SQLite transaction and one commit. */
interface WriteGroup {
  members: number;
  /** whether any member (or a statement run while the group was open) changed a row */
  wrote: boolean;
  /** WAL frames before the group began (see SqliteDriver.walFrames) */
  framesBefore: number;
  /** resolves once the group has committed and (FULL) is on disk; rejects if it was lost */
  readonly settled: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * better-sqlite3 is synchronous, so one connection serves the whole process. What needs care is
 * the async transaction API: while one transaction awaits, another request must not run
 * statements on the same connection (they would join the open transaction). So statements and
 * transactions queue behind an in-process lock while a transaction is open; across processes,
 * `BEGIN IMMEDIATE` takes SQLite's write lock up front, which is what makes check-then-insert
 * sequences (the session limit) atomic.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private lock: Promise<void> = Promise.resolve();
  private locked = false;
  /** FULL durability by group commit (see the constructor): the WAL file's path, else undefined. */
  private readonly walPath: string | undefined;
  private walFd: number | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;
  /** whether the open transaction has written anything */
  private dirty = false;
  /** WAL checkpoints run on a thread of their own (see SqliteCheckpointer); started at the first one needed */
  private readonly path: string;
  private checkpointer: SqliteCheckpointer | undefined;
  private checkpointOnThread: boolean;
  /** the WAL frame count at which the next checkpoint is asked for */
  private readonly framesPerCheckpoint: number;
  private nextCheckpointAt: number;
  private lastFrames = 0;
  private checkpointing = false;
  private readonly groupTransactions: boolean;
  /** the group of write transactions open on the connection, if any */
  private group: WriteGroup | undefined;
  /** the wal-index (`-shm`) file, read for the WAL frame count */
  private shmFd: number | undefined;
  private readonly frameCounter = Buffer.alloc(4);
  /** WAL frames this connection's commits have written (the bench's pages-per-request measure) */
  private framesWritten = 0;

  constructor(path: string, options: SqliteOptions = {}) {
    this.db = new Database(path);
    let wal: boolean;
    try {
      wal = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    } catch (error) {
      // SQLITE_BUSY when another process is setting up the same new file: openStore tries again,
      // so this connection is not left open.
      this.db.close();
      throw error;
    }
    // FULL, group-committed (docs/benchmarks.md). SQLite's own synchronous=FULL fsyncs the WAL
    // inside every COMMIT — on the event-loop thread, one transaction per fsync, so the whole
    // server stalls for each write's disk flush (the refresh and code-exchange profiles were
    // dominated by it). Instead SQLite runs at NORMAL (WAL mode: always consistent) and this
    // driver fdatasyncs the WAL itself, on libuv's thread pool, after every write commits and
    // before the write is reported done; commits made while one flush runs share the next one.
    // The guarantee is FULL's: no write is acknowledged (no response sent) before its WAL frames
    // are on disk. What other requests may see in the few milliseconds in between is committed
    // but not yet durable data — tokens not yet handed to anyone, or a revocation (seen early).
    const full = (options.synchronous ?? 'FULL') === 'FULL' && wal;
    this.walPath = full ? `${path}-wal` : undefined;
    this.db.pragma(`synchronous = ${full ? 'NORMAL' : (options.synchronous ?? 'FULL')}`);
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma('foreign_keys = ON');
    this.path = path;
    // Checkpoints off the event loop (see SqliteCheckpointer).
    this.checkpointOnThread = wal && path !== ':memory:';
    if (this.checkpointOnThread) this.db.pragma('wal_autocheckpoint = 0');
    this.groupTransactions = (options.groupTransactions ?? true) && path !== ':memory:';
    this.framesPerCheckpoint = options.framesPerCheckpoint ?? FRAMES_PER_CHECKPOINT;
    this.nextCheckpointAt = this.framesPerCheckpoint;
  }

  /**
   * The WAL's last valid frame, from the wal-index header (mxFrame, a native-endian u32 at byte 16
   * of the `-shm` file: sqlite.org/walformat.html §2.1). Read while holding the write lock, so only
   * this connection's commit moves it; 0 when there is no wal-index (not WAL mode, :memory:).
   */
  private walFrames(): number {
    if (this.path === ':memory:') return 0;
    try {
      this.shmFd ??= openSync(`${this.path}-shm`, 'r');
      readSync(this.shmFd, this.frameCounter, 0, 4, 16);
      return this.frameCounter.readUInt32LE(0);
    } catch {
      return 0;
    }
  }

  /**
   * Writes have committed: count the WAL frames they wrote (from `framesBefore`, the count when
   * their transaction began), ask for a checkpoint when the WAL is long enough, and make them
   * durable (FULL). An autocommit statement passes no `framesBefore`: its frames are not counted.
   */
  private committed(framesBefore?: number): Promise<void> | undefined {
    if (this.checkpointOnThread || framesBefore !== undefined) {
      const frames = this.walFrames();
      // The WAL restarts from its first frame after a complete checkpoint.
      if (framesBefore !== undefined) this.framesWritten += frames >= framesBefore ? frames - framesBefore : frames;
      if (frames < this.lastFrames) this.nextCheckpointAt = this.framesPerCheckpoint;
      this.lastFrames = frames;
      if (this.checkpointOnThread && frames >= this.nextCheckpointAt) {
        // Should a reader keep the WAL from restarting, the next one waits for as many frames again.
        this.nextCheckpointAt = frames + this.framesPerCheckpoint;
        this.requestCheckpoint();
      }
    }
    return this.walPath === undefined ? undefined : this.durable();
  }

  /**
   * One checkpoint cycle, in two steps. First the thread copies the WAL into the database file
   * while serving goes on. But under steady writes a PASSIVE checkpoint never catches up (new
   * frames arrive while it copies), and SQLite reuses the WAL from its start only once every
   * frame has been copied — the WAL would grow without bound (seen: 1.7 GB in a 30 s benchmark).
   * So a second checkpoint copies the few frames written meanwhile while this process's
   * statements wait in the driver's queue (the event loop keeps running: only database work
   * waits, for the copy of those frames and an fsync); it completes, and the next write restarts
   * the WAL. SQLite's inline checkpoint held the whole event loop for all of it.
   */
  private requestCheckpoint(): void {
    if (this.checkpointing) return;
    let checkpointer: SqliteCheckpointer;
    try {
      checkpointer = this.checkpointer ??= SqliteCheckpointer.start(this.path, () => this.checkpointInline());
    } catch {
      this.checkpointInline();
      return;
    }
    this.checkpointing = true;
    void (async () => {
      try {
        await checkpointer.checkpoint();
        await this.exclusive(async () => {
          // An open group would keep the WAL from restarting after this checkpoint.
          if (this.group) this.commitGroup(this.group);
          if (this.checkpointer === checkpointer) await checkpointer.checkpoint();
        });
      } finally {
        this.checkpointing = false;
      }
    })();
  }

  /** The checkpoint thread is gone: SQLite checkpoints inside COMMIT again, as by default. */
  private checkpointInline(): void {
    this.checkpointOnThread = false;
    this.checkpointer = undefined;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
  }

  walFramesWritten(): number {
    return this.framesWritten;
  }

  /** Checkpoints completed by the checkpoint thread so far (tests). */
  get checkpointsOnThread(): number {
    return this.checkpointer?.completed ?? 0;
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Statements outside a transaction wait for durability after a write; inside one (or queued
   * behind one) they mark it dirty and the caller waits once the lock is released.
   */
  private executor(inTransaction: boolean): SqlExecutor {
    const wrote = (stmt: Database.Statement, sql: string, changes: number): Promise<void> | undefined => {
      if (stmt.readonly) return undefined;
      // An INSERT/UPDATE/DELETE that changed no row wrote nothing (e.g. the login throttle's
      // DELETE of a counter that does not exist): there is nothing to flush.
      if (changes === 0 && this.isDml(sql)) return undefined;
      if (inTransaction) {
        this.dirty = true;
        return undefined;
      }
      // Outside any transaction but while a group is open, the statement ran inside the group's
      // SQLite transaction: it is durable when the group is.
      if (this.group) return this.joinGroup(this.group);
      return this.committed();
    };
    return {
      all: async <Row>(sql: string, params: readonly SqlValue[] = []) => {
        const stmt = this.statement(sql);
        if (!stmt.reader) {
          await wrote(stmt, sql, stmt.run(...params).changes);
          return [] as Row[];
        }
        const rows = stmt.all(...params) as Row[];
        await wrote(stmt, sql, rows.length);
        return rows;
      },
      get: async <Row>(sql: string, params: readonly SqlValue[] = []) => {
        const stmt = this.statement(sql);
        if (!stmt.reader) {
          await wrote(stmt, sql, stmt.run(...params).changes);
          return undefined;
        }
        const row = stmt.get(...params) as Row | undefined;
        await wrote(stmt, sql, row === undefined ? 0 : 1);
        return row;
      },
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        const stmt = this.statement(sql);
        // A statement with RETURNING is a reader; run it through all() to execute it.
        const changes = stmt.reader ? stmt.all(...params).length : stmt.run(...params).changes;
        await wrote(stmt, sql, changes);
        return { changes };
      },
    };
  }

  private readonly dml = new Map<string, boolean>();
  private isDml(sql: string): boolean {
    let dml = this.dml.get(sql);
    if (dml === undefined) {
      dml = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql);
      this.dml.set(sql, dml);
    }
    return dml;
  }

  private readonly direct = this.executor(false);
  private readonly inTransaction = this.executor(true);

  /** Resolves once every write committed so far is on disk (group commit: one fdatasync for all waiting). */
  private durable(): Promise<void> {
    if (this.syncing === undefined) {
      this.syncing = this.syncWal().finally(() => {
        this.syncing = undefined;
      });
      return this.syncing;
    }
    // A flush is running, but it may have started before this commit: wait for the next one,
    // which every commit made meanwhile shares.
    this.nextSync ??= this.syncing
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.nextSync = undefined;
        return this.durable();
      });
    return this.nextSync;
  }

  private async syncWal(): Promise<void> {
    const walPath = this.walPath!;
    // SQLite keeps the WAL file while this connection is open; the inode check is cheap insurance.
    const inode = statSync(walPath).ino;
    if (this.walFd === undefined || fstatSync(this.walFd).ino !== inode) {
      if (this.walFd !== undefined) closeSync(this.walFd);
      this.walFd = openSync(walPath, 'r');
      // A new WAL file's directory entry must be durable too (SQLite syncs the directory of a new journal).
      const dir = openSync(dirname(walPath), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    await fdatasyncAsync(this.walFd);
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.locked = true;
    try {
      return await fn();
    } finally {
      this.locked = false;
      release();
    }
  }

  /** A statement that had to wait for an open transaction; like the transaction, it flushes after releasing the lock. */
  private async queued<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    let flushed: Promise<void> | undefined;
    const value = await this.exclusive(async () => {
      this.dirty = false;
      const result = await fn(this.inTransaction);
      flushed = this.flushAfterCommit();
      return result;
    });
    if (flushed) await flushed;
    return value;
  }

  /** Joins the next flush while still holding the lock (so close() waits for it); awaited once the lock is released. */
  private flushAfterCommit(framesBefore?: number): Promise<void> | undefined {
    if (!this.dirty) return undefined;
    const flushed = this.group ? this.joinGroup(this.group) : this.committed(framesBefore);
    flushed?.catch(() => {}); // awaited by the caller right after; this only keeps it from counting as unhandled meanwhile
    return flushed;
  }

  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    if (!this.locked) return this.direct.all<Row>(sql, params);
    return this.queued((ex) => ex.all<Row>(sql, params));
  }

  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    if (!this.locked) return this.direct.get<Row>(sql, params);
    return this.queued((ex) => ex.get<Row>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    if (!this.locked) return this.direct.run(sql, params);
    return this.queued((ex) => ex.run(sql, params));
  }

  /**
   * Group commit at the transaction level. Each write transaction takes SQLite's write lock,
   * writes every page it changed to the WAL and commits on its own: ~20 µs for `BEGIN IMMEDIATE`
   * and ~10 µs per page at COMMIT here, and concurrent requests touch many of the same pages
   * (the right-most leaf of every table and time-ordered index). So the transactions asked for in
   * one turn of the event loop run one after the other as savepoints of one SQLite transaction,
   * which commits once for all of them after the turn's I/O callbacks (setImmediate), or after
   * MAX_GROUP_MEMBERS. Each still runs alone, in order, with the in-process lock held, so it sees
   * every earlier member's writes: "exactly one winner" and the session limit hold as before, and
   * across processes `BEGIN IMMEDIATE` still excludes every other writer for the group's duration.
   * A member that throws rolls back to its savepoint only. No member is reported done before the
   * group has committed and (FULL) its WAL frames are on disk; should the COMMIT fail, every
   * member that wrote fails with it (nothing is acknowledged that was not kept).
   */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (!this.groupTransactions) return this.soloTransaction(fn);
    let settled: Promise<void> | undefined;
    const result = await this.exclusive(async () => {
      const group = this.group ?? this.openGroup();
      this.control('SAVEPOINT member');
      this.dirty = false;
      try {
        const value = await fn(this.inTransaction);
        this.control('RELEASE member');
        group.members++;
        if (this.dirty) settled = this.joinGroup(group);
        if (group.members >= MAX_GROUP_MEMBERS) this.commitGroup(group);
        return value;
      } catch (error) {
        this.abandonMember(group);
        throw error;
      }
    });
    if (settled) await settled;
    return result;
  }

  /** A transaction-control statement, prepared once (exec would parse it again on every call). */
  private control(sql: 'SAVEPOINT member' | 'RELEASE member' | 'BEGIN IMMEDIATE' | 'COMMIT'): void {
    this.statement(sql).run();
  }

  private openGroup(): WriteGroup {
    this.control('BEGIN IMMEDIATE');
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const settled = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    settled.catch(() => {}); // a read-only group's members do not await it
    const group: WriteGroup = { members: 0, wrote: false, framesBefore: this.walFrames(), settled, resolve, reject };
    this.group = group;
    // After this turn's I/O callbacks, and behind the transactions already waiting for the lock.
    setImmediate(() => {
      void this.exclusive(async () => this.commitGroup(group));
    });
    return group;
  }

  private joinGroup(group: WriteGroup): Promise<void> {
    group.wrote = true;
    return group.settled;
  }

  /** Commits the group (the caller holds the in-process lock); settles its members' promise once durable. */
  private commitGroup(group: WriteGroup): void {
    if (this.group !== group) return;
    this.group = undefined;
    try {
      if (this.db.inTransaction) this.control('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      group.reject(error);
      return;
    }
    if (!group.wrote) {
      group.resolve();
      return;
    }
    const flushed = this.committed(group.framesBefore);
    if (flushed) flushed.then(group.resolve, group.reject);
    else group.resolve();
  }

  /** A member failed: undo its writes; if SQLite rolled the whole transaction back (I/O error, disk full), the group is lost. */
  private abandonMember(group: WriteGroup): void {
    if (this.db.inTransaction) {
      try {
        this.db.exec('ROLLBACK TO member');
        this.db.exec('RELEASE member');
        return;
      } catch {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      }
    }
    if (this.group === group) this.group = undefined;
    group.reject(new Error('SQLite rolled back a group of write transactions'));
  }

  /** One write transaction with its own BEGIN and COMMIT (migrations; grouping turned off). */
  private async soloTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let flushed: Promise<void> | undefined;
    const result = await this.exclusive(async () => {
      if (this.group) this.commitGroup(this.group);
      this.db.exec('BEGIN IMMEDIATE');
      const framesBefore = this.walFrames();
      this.dirty = false;
      try {
        const value = await fn(this.inTransaction);
        this.db.exec('COMMIT');
        flushed = this.flushAfterCommit(framesBefore);
        return value;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
    // The lock is released first, so the next transactions run while this one's flush is on its way.
    if (flushed) await flushed;
    return result;
  }

  withMigrationLock<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // BEGIN IMMEDIATE already excludes every other writer, in this process and in others.
    return this.soloTransaction(fn);
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (this.group) this.commitGroup(this.group);
      await Promise.allSettled([this.syncing, this.nextSync]);
      // Its connection closes first, so that this one, the last, checkpoints and removes the WAL.
      const checkpointer = this.checkpointer;
      this.checkpointer = undefined;
      this.checkpointOnThread = false;
      await checkpointer?.close();
      if (this.walFd !== undefined) closeSync(this.walFd);
      this.walFd = undefined;
      if (this.shmFd !== undefined) closeSync(this.shmFd);
      this.shmFd = undefined;
      if (this.db.open) this.db.close();
    });
  }
}
