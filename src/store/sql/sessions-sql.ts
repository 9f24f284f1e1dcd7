import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import type { EndedSession, Session, SessionEndReason, SessionFilter, SessionStore } from '../store.ts';
import { keysetPage } from './keyset.ts';
import { num, type Row, str, toSession } from './rows.ts';

/** Session ids per token-revoking statement: well under every driver's parameter limit. */
const REVOKE_BATCH = 500;

export class SqlSessionStore implements SessionStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(s: Session): Promise<void> {
    await this.db.run(
      'INSERT INTO sessions (id, user_id, client_id, grant_type, redirect_url, started_at, expires_at, ended_at, end_reason, scope, audience, browser_session_id, auth_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        s.id,
        s.userId,
        s.clientId,
        s.grantType,
        s.redirectUrl,
        s.startedAt,
        s.expiresAt,
        s.endedAt,
        s.endReason,
        s.scope,
        s.audience,
        s.browserSessionId ?? null,
        s.authTime ?? null,
      ],
    );
  }

  async find(id: string): Promise<Session | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM sessions WHERE id = ?', [id]);
    return r && toSession(r);
  }

  async listActive(userId: string, now: number): Promise<Session[]> {
    const rows = await this.db.all<Row>(
      'SELECT * FROM sessions WHERE user_id = ? AND ended_at IS NULL AND expires_at > ? ORDER BY started_at, id',
      [userId, now],
    );
    return rows.map((r) => toSession(r));
  }

  async page(filter: SessionFilter): Promise<Session[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.userId !== undefined) {
      where.push('user_id = ?');
      params.push(filter.userId);
    }
    if (filter.orgId !== undefined) {
      where.push('user_id IN (SELECT id FROM users WHERE org_id = ?)');
      params.push(filter.orgId);
    }
    if (filter.activeAt !== undefined) {
      where.push('ended_at IS NULL AND expires_at > ?');
      params.push(filter.activeAt);
    }
    const q = keysetPage('sessions', 'started_at', filter, where, params);
    return (await this.db.all<Row>(q.sql, q.params)).map((r) => toSession(r));
  }

  async countActive(userId: string, now: number): Promise<number> {
    // Contract §11: the sessions one browser session signed in count once.
    const r = await this.db.get<Row>(
      'SELECT COUNT(DISTINCT COALESCE(browser_session_id, id)) AS n FROM sessions WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?',
      [userId, now],
    );
    return num(r?.n ?? 0);
  }

  async browserSessionHasActive(browserSessionId: string, now: number): Promise<boolean> {
    const r = await this.db.get<Row>(
      'SELECT 1 AS one FROM sessions WHERE browser_session_id = ? AND ended_at IS NULL AND expires_at > ? LIMIT 1',
      [browserSessionId, now],
    );
    return r !== undefined;
  }

  async countAllActive(now: number): Promise<number> {
    const r = await this.db.get<Row>('SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL AND expires_at > ?', [now]);
    return num(r?.n ?? 0);
  }

  async extend(id: string, expiresAt: number): Promise<void> {
    await this.db.run('UPDATE sessions SET expires_at = ? WHERE id = ? AND expires_at < ?', [expiresAt, id, expiresAt]);
  }

  async end(id: string, reason: SessionEndReason, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL', [
      now,
      reason,
      id,
    ]);
    // Revoke the tokens too, so a token row alone tells whether it is alive.
    await this.db.run('UPDATE access_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', [now, id]);
    await this.db.run('UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', [now, id]);
    return changes > 0;
  }

  async endAllOfUser(userId: string, reason: SessionEndReason, now: number): Promise<string[]> {
    const rows = await this.db.all<Row>(
      'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL RETURNING id',
      [now, reason, userId],
    );
    const ids = rows.map((r) => str(r.id!));
    await this.revokeTokensOf(ids, now);
    return ids;
  }

  async endAllOfClient(clientId: string, reason: SessionEndReason, now: number): Promise<EndedSession[]> {
    const rows = await this.db.all<Row>(
      'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE client_id = ? AND ended_at IS NULL RETURNING id, user_id',
      [now, reason, clientId],
    );
    const ended = rows.map((r) => ({ id: str(r.id!), userId: str(r.user_id!) }));
    await this.revokeTokensOf(
      ended.map((e) => e.id),
      now,
    );
    return ended;
  }

  /** Revokes the tokens of ended sessions, a bounded list of ids per statement (a client may hold many). */
  private async revokeTokensOf(ids: readonly string[], now: number): Promise<void> {
    for (let i = 0; i < ids.length; i += REVOKE_BATCH) {
      const batch = ids.slice(i, i + REVOKE_BATCH);
      const list = batch.map(() => '?').join(', ');
      await this.db.run(`UPDATE access_tokens SET revoked_at = ? WHERE session_id IN (${list}) AND revoked_at IS NULL`, [now, ...batch]);
      await this.db.run(`UPDATE refresh_tokens SET revoked_at = ? WHERE session_id IN (${list}) AND revoked_at IS NULL`, [now, ...batch]);
    }
  }

  async prune(before: number, limit: number): Promise<number> {
    const rows = await this.db.all<Row>('SELECT id FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR expires_at < ? LIMIT ?', [
      before,
      before,
      limit,
    ]);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => str(r.id!));
    const list = ids.map(() => '?').join(', ');
    // Tokens first: they reference their session.
    await this.db.run(`DELETE FROM access_tokens WHERE session_id IN (${list})`, ids);
    await this.db.run(`DELETE FROM refresh_tokens WHERE session_id IN (${list})`, ids);
    const { changes } = await this.db.run(`DELETE FROM sessions WHERE id IN (${list})`, ids);
    return changes;
  }
}
