import type { SqlExecutor } from '../sql-driver.ts';
import type { SamlRequest, SamlRequestStore } from '../store.ts';
import { flag, type Row, toSamlRequest } from './rows.ts';

export class SqlSamlRequestStore implements SamlRequestStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(r: SamlRequest): Promise<void> {
    await this.db.run(
      `INSERT INTO saml_requests (handle_hash, request_id, idp_id, browser_hash, client_id, redirect_uri, redirect_uri_given, state,
         code_challenge, scope, nonce, expires_at, used_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.handleHash,
        r.requestId,
        r.idpId,
        r.browserHash,
        r.clientId,
        r.redirectUri,
        flag(r.redirectUriGiven),
        r.state,
        r.codeChallenge,
        r.scope,
        r.nonce ?? null,
        r.expiresAt,
        r.usedAt,
        r.createdAt,
      ],
    );
  }

  async find(handleHash: string): Promise<SamlRequest | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM saml_requests WHERE handle_hash = ?', [handleHash]);
    return r && toSamlRequest(r);
  }

  async consume(handleHash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE saml_requests SET used_at = ? WHERE handle_hash = ? AND used_at IS NULL AND expires_at > ?',
      [now, handleHash, now],
    );
    return changes > 0;
  }

  async prune(before: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      'DELETE FROM saml_requests WHERE handle_hash IN (SELECT handle_hash FROM saml_requests WHERE expires_at < ? LIMIT ?)',
      [before, limit],
    );
    return changes;
  }
}
