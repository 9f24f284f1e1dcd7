import type { SqlExecutor } from '../sql-driver.ts';
import type { ReplayStore } from '../store.ts';

export class SqlReplayStore implements ReplayStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async claim(issuer: string, assertionId: string, keepUntil: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'INSERT INTO saml_replay (issuer, assertion_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (issuer, assertion_id) DO NOTHING',
      [issuer, assertionId, keepUntil],
    );
    return changes > 0;
  }

  async prune(before: number): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM saml_replay WHERE expires_at < ?', [before]);
    return changes;
  }
}
