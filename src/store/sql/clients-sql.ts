import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import { type Client, type ClientPatch, type ClientStore, StoreConflictError } from '../store.ts';
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
      `INSERT INTO clients (id, name, secret_hash, redirect_urls, refresh_tokens, access_ttl, refresh_ttl, token_type, refresh_grace, query_secrets, require_pkce, scopes, access_token_format, kind, audience, disabled, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (patch.secretHash !== undefined) {
      sets.push('secret_hash = ?');
      params.push(patch.secretHash);
    }
    if (patch.requirePkce !== undefined) {
      sets.push('require_pkce = ?');
      params.push(flag(patch.requirePkce));
    }
    if (patch.disabled !== undefined) {
      sets.push('disabled = ?');
      params.push(flag(patch.disabled));
    }
    if (sets.length === 0) return (await this.find(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE clients SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }
}
