import type { SqlDialect, SqlExecutor } from '../sql-driver.ts';
import type { NewAccessToken, NewToken, RefreshRotation, ServiceToken, StoreOps, TokenRecord, TokenStore } from '../store.ts';
import { JOINED_SESSION_KEYS, num, numOrNull, type Row, str, strOrNull, toServiceToken, toSession } from './rows.ts';

const SESSION_COLUMNS =
  's.id AS s_id, s.user_id AS s_user_id, s.client_id AS s_client_id, s.grant_type AS s_grant_type, s.redirect_url AS s_redirect_url, s.started_at AS s_started_at, s.expires_at AS s_expires_at, s.ended_at AS s_ended_at, s.end_reason AS s_end_reason, s.scope AS s_scope, s.audience AS s_audience, s.browser_session_id AS s_browser_session_id, s.auth_time AS s_auth_time';

/** A token with its session and user, one query per table: the same text every time (statement cache). */
export const FIND_ACCESS_SQL = findTokenSql('access_tokens', 'NULL', 'NULL', 't.scope', 't.audience');
export const FIND_REFRESH_SQL = findTokenSql('refresh_tokens', 't.rotated_at', 't.successor', 's.scope', 's.audience');
function findTokenSql(table: string, rotated: string, successor: string, scope: string, audience: string): string {
  return `SELECT t.hash, t.session_id, t.expires_at, t.revoked_at, t.created_at, ${rotated} AS rotated_at, ${successor} AS successor, ${scope} AS scope, ${audience} AS audience, u.email, ${SESSION_COLUMNS}
       FROM ${table} t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
       WHERE t.hash = ?`;
}

function toTokenRecord(r: Row): TokenRecord {
  return {
    hash: str(r.hash!),
    sessionId: str(r.session_id!),
    expiresAt: num(r.expires_at!),
    revokedAt: numOrNull(r.revoked_at ?? null),
    createdAt: num(r.created_at!),
    rotatedAt: numOrNull(r.rotated_at ?? null),
    successor: strOrNull(r.successor ?? null),
    scope: str(r.scope ?? ''),
    audience: strOrNull(r.audience ?? null),
    session: toSession(r, JOINED_SESSION_KEYS),
    email: str(r.email!),
  };
}

/**
 * A refresh rotation in one PostgreSQL statement: its data-modifying CTEs run as one atomic
 * statement (one round trip, no BEGIN/COMMIT). Under READ COMMITTED a concurrent rotation of the
 * same token waits for the row lock, re-checks `rotated_at IS NULL`, finds no row, and every CTE
 * after `rotated` then writes nothing: exactly one winner, as with the separate statements.
 */
export const ROTATE_FAMILY_PG = `WITH rotated AS (
    UPDATE refresh_tokens SET rotated_at = ?, successor = ?
     WHERE hash = ? AND rotated_at IS NULL AND revoked_at IS NULL
    RETURNING session_id
  ), forgotten AS (
    UPDATE refresh_tokens SET successor = NULL
     WHERE session_id IN (SELECT session_id FROM rotated) AND hash <> ? AND successor IS NOT NULL AND ?::text IS NOT NULL
  ), access AS (
    INSERT INTO access_tokens (hash, session_id, expires_at, revoked_at, created_at, scope, audience)
    SELECT ?, session_id, ?, NULL, ?, ?, ? FROM rotated
  ), refresh AS (
    INSERT INTO refresh_tokens (hash, session_id, expires_at, rotated_at, revoked_at, created_at)
    SELECT ?, session_id, ?, NULL, NULL, ? FROM rotated
  ), extended AS (
    UPDATE sessions SET expires_at = ? WHERE id IN (SELECT session_id FROM rotated) AND expires_at < ?
  )
  SELECT COUNT(*) AS won FROM rotated`;

export class SqlTokenStore implements TokenStore {
  private readonly db: SqlExecutor;
  private readonly dialect: SqlDialect;
  /** Runs fn with the aggregates of a transaction: a new one, or the one this store already runs in. */
  private readonly atomic: <T>(fn: (tx: StoreOps) => Promise<T>) => Promise<T>;

  constructor(db: SqlExecutor, dialect: SqlDialect, atomic: <T>(fn: (tx: StoreOps) => Promise<T>) => Promise<T>) {
    this.db = db;
    this.dialect = dialect;
    this.atomic = atomic;
  }

  async rotateRefreshFamily(r: RefreshRotation): Promise<boolean> {
    const { access, refresh } = r;
    if (this.dialect === 'postgres') {
      const row = await this.db.get<Row>(ROTATE_FAMILY_PG, [
        r.now,
        r.successor,
        r.presentedHash,
        r.presentedHash,
        r.successor,
        access.hash,
        access.expiresAt,
        access.createdAt,
        access.scope,
        access.audience,
        refresh.hash,
        refresh.expiresAt,
        refresh.createdAt,
        access.expiresAt,
        access.expiresAt,
      ]);
      return num(row?.won ?? 0) > 0;
    }
    return this.atomic(async (tx) => {
      if (!(await tx.tokens.rotateRefresh(r.presentedHash, r.now, r.successor))) return false;
      await tx.tokens.createAccess(access);
      await tx.tokens.createRefresh(refresh);
      // The session's expiry follows its newest access token.
      await tx.sessions.extend(access.sessionId, access.expiresAt);
      return true;
    });
  }

  async createAccess(row: NewAccessToken): Promise<void> {
    await this.db.run(
      'INSERT INTO access_tokens (hash, session_id, expires_at, revoked_at, created_at, scope, audience) VALUES (?, ?, ?, NULL, ?, ?, ?)',
      [row.hash, row.sessionId, row.expiresAt, row.createdAt, row.scope, row.audience],
    );
  }

  async findAccess(hash: string): Promise<TokenRecord | undefined> {
    const r = await this.db.get<Row>(FIND_ACCESS_SQL, [hash]);
    return r && toTokenRecord(r);
  }

  async revokeAccess(hash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE access_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL', [now, hash]);
    return changes > 0;
  }

  async createRefresh(row: NewToken): Promise<void> {
    await this.db.run(
      'INSERT INTO refresh_tokens (hash, session_id, expires_at, rotated_at, revoked_at, created_at) VALUES (?, ?, ?, NULL, NULL, ?)',
      [row.hash, row.sessionId, row.expiresAt, row.createdAt],
    );
  }

  async findRefresh(hash: string): Promise<TokenRecord | undefined> {
    const r = await this.db.get<Row>(FIND_REFRESH_SQL, [hash]);
    return r && toTokenRecord(r);
  }

  async rotateRefresh(hash: string, now: number, successor: string | null): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE refresh_tokens SET rotated_at = ?, successor = ? WHERE hash = ? AND rotated_at IS NULL AND revoked_at IS NULL',
      [now, successor, hash],
    );
    if (changes > 0 && successor !== null) {
      // Only the latest rotation can be retried: the family's earlier successors are forgotten.
      await this.db.run(
        'UPDATE refresh_tokens SET successor = NULL WHERE session_id = (SELECT session_id FROM refresh_tokens WHERE hash = ?) AND hash <> ? AND successor IS NOT NULL',
        [hash, hash],
      );
    }
    return changes > 0;
  }

  async revokeRefresh(hash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE refresh_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL', [now, hash]);
    return changes > 0;
  }

  async createService(t: ServiceToken): Promise<void> {
    await this.db.run(
      'INSERT INTO service_tokens (hash, client_id, scope, audience, expires_at, revoked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [t.hash, t.clientId, t.scope, t.audience, t.expiresAt, t.revokedAt, t.createdAt],
    );
  }

  async findService(hash: string): Promise<ServiceToken | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM service_tokens WHERE hash = ?', [hash]);
    return r && toServiceToken(r);
  }

  async revokeService(hash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE service_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL', [now, hash]);
    return changes > 0;
  }

  async revokeAllServiceOf(clientId: string, now: number): Promise<number> {
    const { changes } = await this.db.run(
      'UPDATE service_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL AND expires_at > ?',
      [now, clientId, now],
    );
    return changes;
  }

  async pruneService(before: number, limit: number): Promise<number> {
    const rows = await this.db.all<Row>('SELECT hash FROM service_tokens WHERE expires_at < ? LIMIT ?', [before, limit]);
    if (rows.length === 0) return 0;
    const hashes = rows.map((r) => str(r.hash!));
    const { changes } = await this.db.run(`DELETE FROM service_tokens WHERE hash IN (${hashes.map(() => '?').join(', ')})`, hashes);
    return changes;
  }
}
