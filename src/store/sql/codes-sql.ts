import type { SqlExecutor } from '../sql-driver.ts';
import type { AuthorizationCode, CodeStore } from '../store.ts';
import { flag, type Row, toCode } from './rows.ts';

export class SqlCodeStore implements CodeStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(c: AuthorizationCode): Promise<void> {
    await this.db.run(
      `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, redirect_uri_given, code_challenge, expires_at, used_at, session_id, created_at, scope, browser_session_id, auth_time, nonce)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        c.hash,
        c.clientId,
        c.userId,
        c.redirectUri,
        flag(c.redirectUriGiven),
        c.codeChallenge,
        c.expiresAt,
        c.usedAt,
        c.sessionId,
        c.createdAt,
        c.scope,
        c.browserSessionId ?? null,
        c.authTime ?? null,
        c.nonce ?? null,
      ],
    );
  }

  async find(hash: string): Promise<AuthorizationCode | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM authorization_codes WHERE hash = ?', [hash]);
    return r && toCode(r);
  }

  async consume(hash: string, sessionId: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE authorization_codes SET used_at = ?, session_id = ? WHERE hash = ? AND used_at IS NULL', [
      now,
      sessionId,
      hash,
    ]);
    return changes > 0;
  }

  async prune(before: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      'DELETE FROM authorization_codes WHERE hash IN (SELECT hash FROM authorization_codes WHERE expires_at < ? LIMIT ?)',
      [before, limit],
    );
    return changes;
  }
}
