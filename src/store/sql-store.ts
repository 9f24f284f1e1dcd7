import { LATEST_SCHEMA_VERSION, migrate } from './migrations.ts';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';
import {
  emailKey,
  StoreConflictError,
  type AuthorizationCode,
  type Client,
  type ClientPatch,
  type EventFilter,
  type Idp,
  type IdpCertificate,
  type Org,
  type SecurityEvent,
  type Session,
  type SessionEndReason,
  type ThrottleState,
  type Store,
  type StoreOps,
  type TokenRecord,
  type User,
  type UserPatch,
} from './store.ts';

type Row = Record<string, SqlValue>;

const num = (v: SqlValue): number => Number(v);
const numOrNull = (v: SqlValue): number | null => (v === null ? null : Number(v));
const str = (v: SqlValue): string => String(v);
const strOrNull = (v: SqlValue): string | null => (v === null ? null : String(v));
const bool = (v: SqlValue): boolean => Number(v) === 1;
const flag = (b: boolean): number => (b ? 1 : 0);

function toOrg(r: Row): Org {
  return { id: str(r.id!), name: str(r.name!), maxSessions: numOrNull(r.max_sessions ?? null), createdAt: num(r.created_at!) };
}

function toUser(r: Row): User {
  return {
    id: str(r.id!),
    orgId: str(r.org_id!),
    email: str(r.email!),
    passwordHash: strOrNull(r.password_hash ?? null),
    maxSessions: numOrNull(r.max_sessions ?? null),
    disabled: bool(r.disabled!),
    createdAt: num(r.created_at!),
  };
}

function toClient(r: Row): Client {
  return {
    id: str(r.id!),
    name: str(r.name!),
    secretHash: str(r.secret_hash!),
    redirectUrls: JSON.parse(str(r.redirect_urls!)) as string[],
    refreshTokens: bool(r.refresh_tokens!),
    accessTtl: numOrNull(r.access_ttl ?? null),
    refreshTtl: numOrNull(r.refresh_ttl ?? null),
    tokenType: str(r.token_type!) === 'Bearer' ? 'Bearer' : 'BearerToken',
    refreshGrace: num(r.refresh_grace!),
    querySecrets: bool(r.query_secrets!),
    disabled: bool(r.disabled!),
    createdAt: num(r.created_at!),
  };
}

const SESSION_FIELDS = ['id', 'user_id', 'client_id', 'grant_type', 'redirect_url', 'started_at', 'expires_at', 'ended_at', 'end_reason'] as const;
type SessionKeys = Record<(typeof SESSION_FIELDS)[number], string>;
const sessionKeys = (prefix: string): SessionKeys => Object.fromEntries(SESSION_FIELDS.map((f) => [f, prefix + f])) as SessionKeys;
// The column names with and without the join's prefix, built once rather than on every row
// (issue #8 profile: every introspection and refresh reads a session through a join).
const PLAIN_SESSION_KEYS = sessionKeys('');
const JOINED_SESSION_KEYS = sessionKeys('s_');

function toSession(r: Row, k: SessionKeys = PLAIN_SESSION_KEYS): Session {
  return {
    id: str(r[k.id]!),
    userId: str(r[k.user_id]!),
    clientId: str(r[k.client_id]!),
    grantType: str(r[k.grant_type]!),
    redirectUrl: str(r[k.redirect_url]!),
    startedAt: num(r[k.started_at]!),
    expiresAt: num(r[k.expires_at]!),
    endedAt: numOrNull(r[k.ended_at] ?? null),
    endReason: strOrNull(r[k.end_reason] ?? null) as SessionEndReason | null,
  };
}

function toCode(r: Row): AuthorizationCode {
  return {
    hash: str(r.hash!),
    clientId: str(r.client_id!),
    userId: str(r.user_id!),
    redirectUri: str(r.redirect_uri!),
    redirectUriGiven: bool(r.redirect_uri_given!),
    codeChallenge: strOrNull(r.code_challenge ?? null),
    expiresAt: num(r.expires_at!),
    usedAt: numOrNull(r.used_at ?? null),
    sessionId: strOrNull(r.session_id ?? null),
    createdAt: num(r.created_at!),
  };
}

function toIdp(r: Row): Idp {
  return { id: str(r.id!), orgId: str(r.org_id!), entityId: str(r.entity_id!), jit: bool(r.jit!), createdAt: num(r.created_at!) };
}

function toIdpCertificate(r: Row): IdpCertificate {
  return {
    id: str(r.id!),
    idpId: str(r.idp_id!),
    pem: str(r.pem!),
    fingerprint: str(r.fingerprint!),
    notAfter: num(r.not_after!),
    createdAt: num(r.created_at!),
  };
}

function toThrottle(r: Row): ThrottleState {
  return {
    key: str(r.key!),
    failures: num(r.failures!),
    lastFailureAt: num(r.last_failure_at!),
    lockedUntil: num(r.locked_until!),
    locks: num(r.locks!),
  };
}

function toEvent(r: Row): SecurityEvent {
  return {
    id: str(r.id!),
    at: num(r.at!),
    type: str(r.type!),
    reason: strOrNull(r.reason ?? null),
    userId: strOrNull(r.user_id ?? null),
    email: strOrNull(r.email ?? null),
    clientId: strOrNull(r.client_id ?? null),
    sessionId: strOrNull(r.session_id ?? null),
    ip: strOrNull(r.ip ?? null),
    requestId: strOrNull(r.request_id ?? null),
  };
}

const SESSION_COLUMNS = 's.id AS s_id, s.user_id AS s_user_id, s.client_id AS s_client_id, s.grant_type AS s_grant_type, s.redirect_url AS s_redirect_url, s.started_at AS s_started_at, s.expires_at AS s_expires_at, s.ended_at AS s_ended_at, s.end_reason AS s_end_reason';

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === '23505';
}

/** A token with its session and user, one query per table: the same text every time (statement cache, issue #8). */
const FIND_TOKEN_SQL: Readonly<Record<'access_tokens' | 'refresh_tokens', string>> = {
  access_tokens: findTokenSql('access_tokens', 'NULL'),
  refresh_tokens: findTokenSql('refresh_tokens', 't.rotated_at'),
};
function findTokenSql(table: string, rotated: string): string {
  return `SELECT t.hash, t.session_id, t.expires_at, t.revoked_at, t.created_at, ${rotated} AS rotated_at, u.email, ${SESSION_COLUMNS}
       FROM ${table} t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
       WHERE t.hash = ?`;
}

// Row locks where the database has them (PostgreSQL); SQLite's write transaction already excludes other writers.
const LOCK_USER_SQL = { sqlite: 'SELECT id FROM users WHERE id = ?', postgres: 'SELECT id FROM users WHERE id = ? FOR UPDATE' } as const;
const LOCK_THROTTLE_SQL = { sqlite: 'SELECT * FROM login_throttle WHERE key = ?', postgres: 'SELECT * FROM login_throttle WHERE key = ? FOR UPDATE' } as const;

/** The store's queries, run on whatever executor they are given: the pool, or one transaction. */
class SqlStoreOps implements StoreOps {
  protected readonly db: SqlExecutor;
  private readonly lockUserSql: string;
  private readonly lockThrottleSql: string;

  constructor(db: SqlExecutor, dialect: SqlDriver['dialect']) {
    this.db = db;
    this.lockUserSql = LOCK_USER_SQL[dialect];
    this.lockThrottleSql = LOCK_THROTTLE_SQL[dialect];
  }

  async createOrg(org: Org): Promise<void> {
    await this.db.run('INSERT INTO orgs (id, name, max_sessions, created_at) VALUES (?, ?, ?, ?)', [
      org.id,
      org.name,
      org.maxSessions,
      org.createdAt,
    ]);
  }

  async findOrg(id: string): Promise<Org | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM orgs WHERE id = ?', [id]);
    return r && toOrg(r);
  }

  async listOrgs(): Promise<Org[]> {
    return (await this.db.all<Row>('SELECT * FROM orgs ORDER BY created_at, id')).map(toOrg);
  }

  async updateOrg(id: string, patch: { maxSessions: number | null }): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE orgs SET max_sessions = ? WHERE id = ?', [patch.maxSessions, id]);
    return changes > 0;
  }

  async createUser(user: User): Promise<void> {
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

  async findUserById(id: string): Promise<User | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM users WHERE id = ?', [id]);
    return r && toUser(r);
  }

  async findUserByEmail(email: string): Promise<User | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM users WHERE email_key = ?', [emailKey(email)]);
    return r && toUser(r);
  }

  async listUsers(orgId?: string): Promise<User[]> {
    const rows = orgId
      ? await this.db.all<Row>('SELECT * FROM users WHERE org_id = ? ORDER BY email_key', [orgId])
      : await this.db.all<Row>('SELECT * FROM users ORDER BY email_key');
    return rows.map(toUser);
  }

  async updateUser(id: string, patch: UserPatch): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (patch.passwordHash !== undefined) (sets.push('password_hash = ?'), params.push(patch.passwordHash));
    if (patch.maxSessions !== undefined) (sets.push('max_sessions = ?'), params.push(patch.maxSessions));
    if (patch.disabled !== undefined) (sets.push('disabled = ?'), params.push(flag(patch.disabled)));
    if (sets.length === 0) return (await this.findUserById(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }

  async createClient(c: Client): Promise<void> {
    await this.db.run(
      `INSERT INTO clients (id, name, secret_hash, redirect_urls, refresh_tokens, access_ttl, refresh_ttl, token_type, refresh_grace, query_secrets, disabled, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        flag(c.disabled),
        c.createdAt,
      ],
    );
  }

  async findClient(id: string): Promise<Client | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM clients WHERE id = ?', [id]);
    return r && toClient(r);
  }

  async listClients(): Promise<Client[]> {
    return (await this.db.all<Row>('SELECT * FROM clients ORDER BY created_at, id')).map(toClient);
  }

  async updateClient(id: string, patch: ClientPatch): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (patch.secretHash !== undefined) (sets.push('secret_hash = ?'), params.push(patch.secretHash));
    if (patch.disabled !== undefined) (sets.push('disabled = ?'), params.push(flag(patch.disabled)));
    if (sets.length === 0) return (await this.findClient(id)) !== undefined;
    const { changes } = await this.db.run(`UPDATE clients SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changes > 0;
  }

  async lockUser(userId: string): Promise<void> {
    await this.db.get(this.lockUserSql, [userId]);
  }

  async countActiveSessions(userId: string, now: number): Promise<number> {
    const r = await this.db.get<Row>(
      'SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?',
      [userId, now],
    );
    return num(r?.n ?? 0);
  }

  async listActiveSessions(userId: string, now: number): Promise<Session[]> {
    const rows = await this.db.all<Row>(
      'SELECT * FROM sessions WHERE user_id = ? AND ended_at IS NULL AND expires_at > ? ORDER BY started_at, id',
      [userId, now],
    );
    return rows.map((r) => toSession(r));
  }

  async findSession(id: string): Promise<Session | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM sessions WHERE id = ?', [id]);
    return r && toSession(r);
  }

  async insertSession(s: Session): Promise<void> {
    await this.db.run(
      'INSERT INTO sessions (id, user_id, client_id, grant_type, redirect_url, started_at, expires_at, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [s.id, s.userId, s.clientId, s.grantType, s.redirectUrl, s.startedAt, s.expiresAt, s.endedAt, s.endReason],
    );
  }

  async extendSession(id: string, expiresAt: number): Promise<void> {
    await this.db.run('UPDATE sessions SET expires_at = ? WHERE id = ? AND expires_at < ?', [expiresAt, id, expiresAt]);
  }

  async endSession(id: string, reason: SessionEndReason, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL',
      [now, reason, id],
    );
    // Revoke the tokens too, so a token row alone tells whether it is alive.
    await this.db.run('UPDATE access_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', [now, id]);
    await this.db.run('UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', [now, id]);
    return changes > 0;
  }

  async endUserSessions(userId: string, reason: SessionEndReason, now: number): Promise<string[]> {
    const rows = await this.db.all<Row>(
      'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL RETURNING id',
      [now, reason, userId],
    );
    const ids = rows.map((r) => str(r.id!));
    for (const id of ids) {
      await this.db.run('UPDATE access_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', [now, id]);
      await this.db.run('UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', [now, id]);
    }
    return ids;
  }

  async insertAccessToken(row: { hash: string; sessionId: string; expiresAt: number; createdAt: number }): Promise<void> {
    await this.db.run('INSERT INTO access_tokens (hash, session_id, expires_at, revoked_at, created_at) VALUES (?, ?, ?, NULL, ?)', [
      row.hash,
      row.sessionId,
      row.expiresAt,
      row.createdAt,
    ]);
  }

  private async findToken(table: 'access_tokens' | 'refresh_tokens', hash: string): Promise<TokenRecord | undefined> {
    const r = await this.db.get<Row>(FIND_TOKEN_SQL[table], [hash]);
    if (!r) return undefined;
    return {
      hash: str(r.hash!),
      sessionId: str(r.session_id!),
      expiresAt: num(r.expires_at!),
      revokedAt: numOrNull(r.revoked_at ?? null),
      createdAt: num(r.created_at!),
      rotatedAt: numOrNull(r.rotated_at ?? null),
      session: toSession(r, JOINED_SESSION_KEYS),
      email: str(r.email!),
    };
  }

  findAccessToken(hash: string): Promise<TokenRecord | undefined> {
    return this.findToken('access_tokens', hash);
  }

  async revokeAccessToken(hash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE access_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL', [now, hash]);
    return changes > 0;
  }

  async insertRefreshToken(row: { hash: string; sessionId: string; expiresAt: number; createdAt: number }): Promise<void> {
    await this.db.run(
      'INSERT INTO refresh_tokens (hash, session_id, expires_at, rotated_at, revoked_at, created_at) VALUES (?, ?, ?, NULL, NULL, ?)',
      [row.hash, row.sessionId, row.expiresAt, row.createdAt],
    );
  }

  findRefreshToken(hash: string): Promise<TokenRecord | undefined> {
    return this.findToken('refresh_tokens', hash);
  }

  async markRefreshTokenRotated(hash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL AND revoked_at IS NULL',
      [now, hash],
    );
    return changes > 0;
  }

  async revokeRefreshToken(hash: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE refresh_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL', [now, hash]);
    return changes > 0;
  }

  async insertAuthorizationCode(c: AuthorizationCode): Promise<void> {
    await this.db.run(
      `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, redirect_uri_given, code_challenge, expires_at, used_at, session_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [c.hash, c.clientId, c.userId, c.redirectUri, flag(c.redirectUriGiven), c.codeChallenge, c.expiresAt, c.usedAt, c.sessionId, c.createdAt],
    );
  }

  async findAuthorizationCode(hash: string): Promise<AuthorizationCode | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM authorization_codes WHERE hash = ?', [hash]);
    return r && toCode(r);
  }

  async consumeAuthorizationCode(hash: string, sessionId: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE authorization_codes SET used_at = ?, session_id = ? WHERE hash = ? AND used_at IS NULL',
      [now, sessionId, hash],
    );
    return changes > 0;
  }

  async createIdp(idp: Idp): Promise<void> {
    try {
      await this.db.run('INSERT INTO idps (id, org_id, entity_id, jit, created_at) VALUES (?, ?, ?, ?, ?)', [
        idp.id,
        idp.orgId,
        idp.entityId,
        flag(idp.jit),
        idp.createdAt,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('an identity provider with this entity id already exists');
      throw error;
    }
  }

  async findIdpByEntityId(entityId: string): Promise<Idp | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM idps WHERE entity_id = ?', [entityId]);
    return r && toIdp(r);
  }

  async findIdp(id: string): Promise<Idp | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM idps WHERE id = ?', [id]);
    return r && toIdp(r);
  }

  async listIdps(): Promise<Idp[]> {
    return (await this.db.all<Row>('SELECT * FROM idps ORDER BY created_at, id')).map(toIdp);
  }

  async addIdpCertificate(cert: IdpCertificate): Promise<void> {
    try {
      await this.db.run('INSERT INTO idp_certs (id, idp_id, pem, fingerprint, not_after, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        cert.id,
        cert.idpId,
        cert.pem,
        cert.fingerprint,
        cert.notAfter,
        cert.createdAt,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError('this certificate is already registered for the identity provider');
      throw error;
    }
  }

  async listIdpCertificates(idpId: string): Promise<IdpCertificate[]> {
    return (await this.db.all<Row>('SELECT * FROM idp_certs WHERE idp_id = ? ORDER BY created_at, id', [idpId])).map(toIdpCertificate);
  }

  async removeIdpCertificate(idpId: string, certId: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM idp_certs WHERE idp_id = ? AND id = ?', [idpId, certId]);
    return changes > 0;
  }

  async recordAssertionId(issuer: string, assertionId: string, expiresAt: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'INSERT INTO saml_replay (issuer, assertion_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (issuer, assertion_id) DO NOTHING',
      [issuer, assertionId, expiresAt],
    );
    return changes > 0;
  }

  async pruneAssertionIds(before: number): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM saml_replay WHERE expires_at < ?', [before]);
    return changes;
  }

  async findThrottle(key: string): Promise<ThrottleState | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM login_throttle WHERE key = ?', [key]);
    return r && toThrottle(r);
  }

  async lockThrottle(key: string): Promise<ThrottleState> {
    await this.db.run('INSERT INTO login_throttle (key) VALUES (?) ON CONFLICT (key) DO NOTHING', [key]);
    const r = await this.db.get<Row>(this.lockThrottleSql, [key]);
    return toThrottle(r!);
  }

  async saveThrottle(t: ThrottleState): Promise<void> {
    await this.db.run(
      `INSERT INTO login_throttle (key, failures, last_failure_at, locked_until, locks) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
         locked_until = excluded.locked_until, locks = excluded.locks`,
      [t.key, t.failures, t.lastFailureAt, t.lockedUntil, t.locks],
    );
  }

  async deleteThrottle(key: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM login_throttle WHERE key = ?', [key]);
    return changes > 0;
  }

  async pruneThrottles(quietSince: number): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM login_throttle WHERE last_failure_at < ? AND locked_until < ?', [
      quietSince,
      quietSince,
    ]);
    return changes;
  }

  async insertEvent(e: SecurityEvent): Promise<void> {
    await this.db.run(
      'INSERT INTO security_events (id, at, type, reason, user_id, email, client_id, session_id, ip, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [e.id, e.at, e.type, e.reason, e.userId, e.email, e.clientId, e.sessionId, e.ip, e.requestId],
    );
  }

  async listEvents(filter: EventFilter): Promise<SecurityEvent[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.userId !== undefined) (where.push('user_id = ?'), params.push(filter.userId));
    if (filter.since !== undefined) (where.push('at >= ?'), params.push(filter.since));
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.db.all<Row>(`SELECT * FROM security_events ${clause} ORDER BY at, id LIMIT ?`, [
      ...params,
      filter.limit ?? 1000,
    ]);
    return rows.map(toEvent);
  }

  async pruneEvents(before: number): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM security_events WHERE at < ?', [before]);
    return changes;
  }
}

/** The Store over a SQL driver: SQLite or PostgreSQL, one set of queries. */
export class SqlStore extends SqlStoreOps implements Store {
  readonly kind: Store['kind'];
  private readonly driver: SqlDriver;

  private constructor(driver: SqlDriver) {
    super(driver, driver.dialect);
    this.driver = driver;
    this.kind = driver.dialect;
  }

  /** Opens the store and brings its schema up to date (refusing a schema from the future). */
  static async open(driver: SqlDriver, now: number): Promise<SqlStore> {
    try {
      await driver.withMigrationLock((tx) => migrate(tx, driver.dialect, now));
    } catch (error) {
      await driver.close();
      throw error;
    }
    return new SqlStore(driver);
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.driver.transaction((tx) => fn(new SqlStoreOps(tx, this.driver.dialect)));
  }

  async ping(): Promise<void> {
    const r = await this.driver.get<Row>('SELECT MAX(version) AS v FROM schema_migrations');
    if (Number(r?.v ?? 0) < LATEST_SCHEMA_VERSION) throw new Error('schema is not migrated');
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  async countAllActiveSessions(now: number): Promise<number> {
    const r = await this.driver.get<Row>('SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL AND expires_at > ?', [now]);
    return num(r?.n ?? 0);
  }
}
