import type { SqlExecutor } from '../sql-driver.ts';
import type { Org, OrgPatch, OrgStore } from '../store.ts';
import { type Row, toOrg } from './rows.ts';

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
    if (patch.maxSessions === undefined) return (await this.find(id)) !== undefined;
    const { changes } = await this.db.run('UPDATE orgs SET max_sessions = ? WHERE id = ?', [patch.maxSessions, id]);
    return changes > 0;
  }
}
