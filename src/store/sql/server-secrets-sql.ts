import type { SqlExecutor } from '../sql-driver.ts';
import type { ServerSecretStore } from '../store.ts';
import type { Row } from './rows.ts';

export class SqlServerSecretStore implements ServerSecretStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(name: string, value: string, now: number): Promise<boolean> {
    // Several instances may create the same secret at once: the first one wins, the others read it.
    const { changes } = await this.db.run(
      'INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
      [name, value, now],
    );
    return changes > 0;
  }

  async find(name: string): Promise<string | undefined> {
    const r = await this.db.get<Row>('SELECT value FROM server_secrets WHERE name = ?', [name]);
    return r ? String(r.value) : undefined;
  }
}
