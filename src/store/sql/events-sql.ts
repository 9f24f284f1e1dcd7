import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import type { EventFilter, EventStore, SecurityEvent } from '../store.ts';
import { type Row, toEvent } from './rows.ts';

export class SqlEventStore implements EventStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(e: SecurityEvent): Promise<void> {
    await this.db.run(
      'INSERT INTO security_events (id, at, type, reason, user_id, email, client_id, session_id, ip, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [e.id, e.at, e.type, e.reason, e.userId, e.email, e.clientId, e.sessionId, e.ip, e.requestId],
    );
  }

  async list(filter: EventFilter): Promise<SecurityEvent[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.userId !== undefined) {
      where.push('user_id = ?');
      params.push(filter.userId);
    }
    if (filter.since !== undefined) {
      where.push('at >= ?');
      params.push(filter.since);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const limit = filter.limit ?? 1000;
    if (filter.newest) {
      // The last page: the newest rows, then back into time order.
      const rows = await this.db.all<Row>(`SELECT * FROM security_events ${clause} ORDER BY at DESC, id DESC LIMIT ?`, [...params, limit]);
      return rows.reverse().map(toEvent);
    }
    const rows = await this.db.all<Row>(`SELECT * FROM security_events ${clause} ORDER BY at, id LIMIT ?`, [...params, limit]);
    return rows.map(toEvent);
  }

  async prune(before: number, limit?: number): Promise<number> {
    if (limit === undefined) return (await this.db.run('DELETE FROM security_events WHERE at < ?', [before])).changes;
    const { changes } = await this.db.run('DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE at < ? LIMIT ?)', [
      before,
      limit,
    ]);
    return changes;
  }
}
