import type { SqlExecutor } from '../sql-driver.ts';
import type { NewToken, TokenRecord, TokenStore } from '../store.ts';
import { JOINED_SESSION_KEYS, num, numOrNull, type Row, str, strOrNull, toSession } from './rows.ts';

const SESSION_COLUMNS =
  's.id AS s_id, s.user_id AS s_user_id, s.client_id AS s_client_id, s.grant_type AS s_grant_type, s.redirect_url AS s_redirect_url, s.started_at AS s_started_at, s.expires_at AS s_expires_at, s.ended_at AS s_ended_at, s.end_reason AS s_end_reason';

/** A token with its session and user, one query per table: the same text every time (statement cache). */
const FIND_ACCESS_SQL = findTokenSql('access_tokens', 'NULL', 'NULL');
const FIND_REFRESH_SQL = findTokenSql('refresh_tokens', 't.rotated_at', 't.successor');
function findTokenSql(table: string, rotated: string, successor: string): string {
  return `SELECT t.hash, t.session_id, t.expires_at, t.revoked_at, t.created_at, ${rotated} AS rotated_at, ${successor} AS successor, u.email, ${SESSION_COLUMNS}
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
    session: toSession(r, JOINED_SESSION_KEYS),
    email: str(r.email!),
  };
}

export class SqlTokenStore implements TokenStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async createAccess(row: NewToken): Promise<void> {
    await this.db.run('INSERT INTO access_tokens (hash, session_id, expires_at, revoked_at, created_at) VALUES (?, ?, ?, NULL, ?)', [
      row.hash,
      row.sessionId,
      row.expiresAt,
      row.createdAt,
    ]);
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
}
