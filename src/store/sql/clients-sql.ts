import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import { type Client, type ClientPatch, type ClientStore, type PageQuery, StoreConflictError } from '../store.ts';
import { bumpSql, keysetPage } from './keyset.ts';
import { flag, isUniqueViolation, type Row, toClient } from './rows.ts';

export class SqlClientStore implements ClientStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(c: Client): Promise<void> {
    try {
      await this.insert(c);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('a resource server with this audience already exists');
      throw error;
    }
  }

  private async insert(c: Client): Promise<void> {
    await this.db.run(
      `INSERT INTO clients (id, name, secret_hash, redirect_urls, refresh_tokens, access_ttl, refresh_ttl, token_type, refresh_grace, query_secrets, require_pkce, scopes, access_token_format, kind, audience, disabled, created_at, public, web_origins, post_logout_redirect_urls)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        c.id,
        c.name,
        c.secretHash,
        JSON.stringify(c.redirectUrls),
        flag(c.refreshTokens),
        c.accessTtl,
        c.refreshTtl,
        c.tokenType,
        c.refreshGrace,
        flag(c.querySecrets),
        flag(c.requirePkce),
        c.scopes.join(' '),
        c.accessTokenFormat,
        c.kind,
        c.audience,
        flag(c.disabled),
        c.createdAt,
        flag(c.public),
        JSON.stringify(c.webOrigins),
        JSON.stringify(c.postLogoutRedirectUrls),
      ],
    );
  }

  async find(id: string): Promise<Client | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM clients WHERE id = ?', [id]);
    return r && toClient(r);
  }

  async findByAudience(audience: string): Promise<Client | undefined> {
    const r = await this.db.get<Row>("SELECT * FROM clients WHERE audience = ? AND kind = 'resource_server'", [audience]);
    return r && toClient(r);
  }

  async list(): Promise<Client[]> {
    return (await this.db.all<Row>('SELECT * FROM clients ORDER BY created_at, id')).map(toClient);
  }

  async update(id: string, patch: ClientPatch): Promise<boolean> {
    const columns: Array<[keyof ClientPatch, string, (v: never) => SqlValue]> = [
      ['secretHash', 'secret_hash', (v: string) => v],
      ['requirePkce', 'require_pkce', flag],
      ['disabled', 'disabled', flag],
      ['name', 'name', (v: string) => v],
      ['redirectUrls', 'redirect_urls', (v: string[]) => JSON.stringify(v)],
      ['refreshTokens', 'refresh_tokens', flag],
      ['accessTtl', 'access_ttl', (v: number | null) => v],
      ['refreshTtl', 'refresh_ttl', (v: number | null) => v],
      ['tokenType', 'token_type', (v: string) => v],
      ['refreshGrace', 'refresh_grace', (v: number) => v],
      ['querySecrets', 'query_secrets', flag],
      ['scopes', 'scopes', (v: string[]) => v.join(' ')],
      ['accessTokenFormat', 'access_token_format', (v: string) => v],
      ['previousSecretHash', 'previous_secret_hash', (v: string | null) => v],
      ['previousSecretExpiresAt', 'previous_secret_expires_at', (v: number | null) => v],
      ['webOrigins', 'web_origins', (v: string[]) => JSON.stringify(v)],
      ['postLogoutRedirectUrls', 'post_logout_redirect_urls', (v: string[]) => JSON.stringify(v)],
    ];
    const sets: string[] = [];
    const params: SqlValue[] = [];
    for (const [key, column, encode] of columns) {
      if (patch[key] === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(encode(patch[key] as never));
    }
    if (sets.length === 0) return (await this.find(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE clients SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }

  async page(query: PageQuery): Promise<Client[]> {
    const q = keysetPage('clients', 'created_at', query);
    return (await this.db.all<Row>(q.sql, q.params)).map(toClient);
  }

  async bump(id: string, expected?: number): Promise<boolean> {
    const q = bumpSql('clients', id, expected);
    return (await this.db.run(q.sql, q.params)).changes > 0;
  }

  async delete(id: string): Promise<boolean> {
    const sessions = 'SELECT id FROM sessions WHERE client_id = ?';
    await this.db.run(`DELETE FROM access_tokens WHERE session_id IN (${sessions})`, [id]);
    await this.db.run(`DELETE FROM refresh_tokens WHERE session_id IN (${sessions})`, [id]);
    await this.db.run('DELETE FROM sessions WHERE client_id = ?', [id]);
    await this.db.run('DELETE FROM service_tokens WHERE client_id = ?', [id]);
    await this.db.run('DELETE FROM authorization_codes WHERE client_id = ?', [id]);
    await this.db.run('DELETE FROM saml_requests WHERE client_id = ?', [id]);
    return (await this.db.run('DELETE FROM clients WHERE id = ?', [id])).changes > 0;
  }
}
