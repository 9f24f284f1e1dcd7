import type { SqlExecutor } from '../sql-driver.ts';
import type { ConsoleSessionRow, ConsoleSessionStore } from '../store.ts';
import { num, type Row, str, strOrNull } from './rows.ts';

export class SqlConsoleSessionStore implements ConsoleSessionStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(row: ConsoleSessionRow): Promise<void> {
    await this.db.run('INSERT INTO console_sessions (id_hash, sealed, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)', [
      row.idHash,
      row.sealed,
      row.userId,
      row.expiresAt,
      row.createdAt,
    ]);
  }

  async find(idHash: string): Promise<ConsoleSessionRow | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM console_sessions WHERE id_hash = ?', [idHash]);
    if (!r) return undefined;
    return {
      idHash: str(r.id_hash!),
      sealed: str(r.sealed!),
      userId: strOrNull(r.user_id ?? null),
      expiresAt: num(r.expires_at!),
      createdAt: num(r.created_at!),
    };
  }

  async update(idHash: string, patch: { sealed: string; userId: string | null; expiresAt: number }): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE console_sessions SET sealed = ?, user_id = ?, expires_at = ? WHERE id_hash = ?', [
      patch.sealed,
      patch.userId,
      patch.expiresAt,
      idHash,
    ]);
    return changes > 0;
  }

  async delete(idHash: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM console_sessions WHERE id_hash = ?', [idHash]);
    return changes > 0;
  }

  async prune(before: number): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM console_sessions WHERE expires_at < ?', [before]);
    return changes;
  }
}
