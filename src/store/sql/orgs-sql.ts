import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import type { Org, OrgPatch, OrgStore, PageQuery } from '../store.ts';
import { bumpSql, keysetPage } from './keyset.ts';
import { num, type Row, toOrg } from './rows.ts';

export class SqlOrgStore implements OrgStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(org: Org): Promise<void> {
    await this.db.run('INSERT INTO orgs (id, name, max_sessions, created_at) VALUES (?, ?, ?, ?)', [
      org.id,
      org.name,
      org.maxSessions,
      org.createdAt,
    ]);
  }

  async find(id: string): Promise<Org | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM orgs WHERE id = ?', [id]);
    return r && toOrg(r);
  }

  async list(): Promise<Org[]> {
    return (await this.db.all<Row>('SELECT * FROM orgs ORDER BY created_at, id')).map(toOrg);
  }

  async update(id: string, patch: OrgPatch): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (patch.name !== undefined) {
      sets.push('name = ?');
      params.push(patch.name);
    }
    if (patch.maxSessions !== undefined) {
      sets.push('max_sessions = ?');
      params.push(patch.maxSessions);
    }
    if (sets.length === 0) return (await this.find(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE orgs SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }

  async page(query: PageQuery): Promise<Org[]> {
    const q = keysetPage('orgs', 'created_at', query);
    return (await this.db.all<Row>(q.sql, q.params)).map(toOrg);
  }

  async bump(id: string, expected?: number): Promise<boolean> {
    const q = bumpSql('orgs', id, expected);
    return (await this.db.run(q.sql, q.params)).changes > 0;
  }

  async countUsers(id: string): Promise<number> {
    const r = await this.db.get<Row>('SELECT COUNT(*) AS n FROM users WHERE org_id = ?', [id]);
    return num(r?.n ?? 0);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM orgs WHERE id = ?', [id])).changes > 0;
  }
}
