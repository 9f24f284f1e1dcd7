import type { SqlExecutor } from '../sql-driver.ts';
import type { BrowserSession, BrowserSessionStore, SessionEndReason } from '../store.ts';
import { type Row, str, toBrowserSession } from './rows.ts';

export class SqlBrowserSessionStore implements BrowserSessionStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(b: BrowserSession): Promise<void> {
    await this.db.run(
      'INSERT INTO browser_sessions (id, secret_hash, user_id, auth_time, expires_at, ended_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [b.id, b.secretHash, b.userId, b.authTime, b.expiresAt, b.endedAt, b.createdAt],
    );
  }

  async find(id: string): Promise<BrowserSession | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM browser_sessions WHERE id = ?', [id]);
    return r && toBrowserSession(r);
  }

  async findBySecret(secretHash: string): Promise<BrowserSession | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM browser_sessions WHERE secret_hash = ?', [secretHash]);
    return r && toBrowserSession(r);
  }

  async reauthenticate(id: string, authTime: number, expiresAt: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE browser_sessions SET auth_time = ?, expires_at = ? WHERE id = ? AND ended_at IS NULL', [
      authTime,
      expiresAt,
      id,
    ]);
    return changes > 0;
  }

  async end(id: string, reason: SessionEndReason, now: number): Promise<string[]> {
    await this.db.run('UPDATE browser_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL', [now, id]);
    const rows = await this.db.all<Row>(
      'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE browser_session_id = ? AND ended_at IS NULL RETURNING id',
      [now, reason, id],
    );
    const ids = rows.map((r) => str(r.id!));
    // Revoke the tokens too, so a token row alone tells whether it is alive.
    await this.db.run(
      'UPDATE access_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND session_id IN (SELECT id FROM sessions WHERE browser_session_id = ?)',
      [now, id],
    );
    await this.db.run(
      'UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND session_id IN (SELECT id FROM sessions WHERE browser_session_id = ?)',
      [now, id],
    );
    return ids;
  }

  async endAllOfUser(userId: string, now: number, except: string | null): Promise<void> {
    await this.db.run('UPDATE browser_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL AND id <> ?', [
      now,
      userId,
      except ?? '',
    ]);
  }

  async prune(before: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      `DELETE FROM browser_sessions WHERE id IN (
         SELECT id FROM browser_sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR expires_at < ? LIMIT ?)`,
      [before, before, limit],
    );
    return changes;
  }
}
