import type { SqlDialect, SqlExecutor, SqlValue } from '../sql-driver.ts';
import { emailKey, StoreConflictError, type User, type UserFilter, type UserPatch, type UserStore } from '../store.ts';
import { bumpSql, keysetPage } from './keyset.ts';
import { flag, isUniqueViolation, num, type Row, toUser } from './rows.ts';

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
        'INSERT INTO users (id, org_id, email, email_key, password_hash, max_sessions, disabled, created_at, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          user.id,
          user.orgId,
          user.email,
          emailKey(user.email),
          user.passwordHash,
          user.maxSessions,
          flag(user.disabled),
          user.createdAt,
          user.role ?? null,
        ],
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
    if (patch.role !== undefined) {
      sets.push('role = ?');
      params.push(patch.role);
    }
    if (sets.length === 0) return (await this.find(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }

  async page(filter: UserFilter): Promise<User[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.orgId !== undefined) {
      where.push('org_id = ?');
      params.push(filter.orgId);
    }
    if (filter.email !== undefined) {
      where.push('email_key = ?');
      params.push(emailKey(filter.email));
    }
    const q = keysetPage('users', 'created_at', filter, where, params);
    return (await this.db.all<Row>(q.sql, q.params)).map(toUser);
  }

  async bump(id: string, expected?: number): Promise<boolean> {
    const q = bumpSql('users', id, expected);
    return (await this.db.run(q.sql, q.params)).changes > 0;
  }

  async countAdmins(exceptId?: string): Promise<number> {
    const r = await this.db.get<Row>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?", [exceptId ?? '']);
    return num(r?.n ?? 0);
  }

  async delete(id: string): Promise<boolean> {
    const sessions = 'SELECT id FROM sessions WHERE user_id = ?';
    await this.db.run(`DELETE FROM access_tokens WHERE session_id IN (${sessions})`, [id]);
    await this.db.run(`DELETE FROM refresh_tokens WHERE session_id IN (${sessions})`, [id]);
    await this.db.run('DELETE FROM sessions WHERE user_id = ?', [id]);
    await this.db.run('DELETE FROM authorization_codes WHERE user_id = ?', [id]);
    return (await this.db.run('DELETE FROM users WHERE id = ?', [id])).changes > 0;
  }

  async lock(id: string): Promise<void> {
    await this.db.get(this.lockSql, [id]);
  }
}
