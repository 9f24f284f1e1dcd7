import type { SqlExecutor, SqlValue } from '../sql-driver.ts';
import type { EventFilter, EventPageFilter, EventStore, SecurityEvent } from '../store.ts';
import { keysetPage } from './keyset.ts';
import { type Row, toEvent } from './rows.ts';

export class SqlEventStore implements EventStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(e: SecurityEvent): Promise<void> {
    await this.db.run(
      'INSERT INTO security_events (id, at, type, reason, user_id, email, client_id, session_id, ip, request_id, actor, target, org_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        e.id,
        e.at,
        e.type,
        e.reason,
        e.userId,
        e.email,
        e.clientId,
        e.sessionId,
        e.ip,
        e.requestId,
        e.actor ?? null,
        e.target ?? null,
        e.orgId ?? null,
      ],
    );
  }

  async list(filter: EventFilter): Promise<SecurityEvent[]> {
    const { where, params } = conditions(filter);
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

  async page(filter: EventPageFilter): Promise<SecurityEvent[]> {
    const { where, params } = conditions(filter);
    if (filter.orgId !== undefined) {
      where.push('(org_id = ? OR user_id IN (SELECT id FROM users WHERE org_id = ?))');
      params.push(filter.orgId, filter.orgId);
    }
    const q = keysetPage('security_events', 'at', filter, where, params);
    return (await this.db.all<Row>(q.sql, q.params)).map(toEvent);
  }

  async find(id: string): Promise<SecurityEvent | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM security_events WHERE id = ?', [id]);
    return r && toEvent(r);
  }

  async pseudonymize(userId: string, pseudonym: string): Promise<number> {
    const target = `user:${userId}`;
    await this.db.run('UPDATE security_events SET target = ? WHERE target = ?', [`user:${pseudonym}`, target]);
    const { changes } = await this.db.run('UPDATE security_events SET user_id = ?, email = NULL WHERE user_id = ?', [pseudonym, userId]);
    return changes;
  }
}

/** The filters both listings share. */
function conditions(filter: EventFilter): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const equal: Array<[string, string | undefined]> = [
    ['user_id', filter.userId],
    ['type', filter.type],
    ['client_id', filter.clientId],
    ['ip', filter.ip],
  ];
  for (const [column, value] of equal) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (filter.since !== undefined) {
    where.push('at >= ?');
    params.push(filter.since);
  }
  return { where, params };
}
