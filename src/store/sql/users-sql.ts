import type { SqlDialect, SqlExecutor, SqlValue } from '../sql-driver.ts';
import { emailKey, StoreConflictError, type User, type UserPatch, type UserStore } from '../store.ts';
import { flag, isUniqueViolation, type Row, toUser } from './rows.ts';

// Row locks where the database has them (PostgreSQL); SQLite's write transaction already excludes other writers.
const LOCK_USER_SQL = { sqlite: 'SELECT id FROM users WHERE id = ?', postgres: 'SELECT id FROM users WHERE id = ? FOR UPDATE' } as const;

export class SqlUserStore implements UserStore {
  private readonly db: SqlExecutor;
  private readonly lockSql: string;

  constructor(db: SqlExecutor, dialect: SqlDialect) {
    this.db = db;
    this.lockSql = LOCK_USER_SQL[dialect];
  }

  async create(user: User): Promise<void> {
    try {
      await this.db.run(
        'INSERT INTO users (id, org_id, email, email_key, password_hash, max_sessions, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [user.id, user.orgId, user.email, emailKey(user.email), user.passwordHash, user.maxSessions, flag(user.disabled), user.createdAt],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('a user with this email already exists');
      throw error;
    }
  }

  async find(id: string): Promise<User | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM users WHERE id = ?', [id]);
    return r && toUser(r);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM users WHERE email_key = ?', [emailKey(email)]);
    return r && toUser(r);
  }

  async list(orgId?: string): Promise<User[]> {
    const rows = orgId
      ? await this.db.all<Row>('SELECT * FROM users WHERE org_id = ? ORDER BY email_key', [orgId])
      : await this.db.all<Row>('SELECT * FROM users ORDER BY email_key');
    return rows.map(toUser);
  }

  async update(id: string, patch: UserPatch): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (patch.passwordHash !== undefined) {
      sets.push('password_hash = ?');
      params.push(patch.passwordHash);
    }
    if (patch.maxSessions !== undefined) {
      sets.push('max_sessions = ?');
      params.push(patch.maxSessions);
    }
    if (patch.disabled !== undefined) {
      sets.push('disabled = ?');
      params.push(flag(patch.disabled));
    }
    if (sets.length === 0) return (await this.find(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }

  async lock(id: string): Promise<void> {
    await this.db.get(this.lockSql, [id]);
  }
}
