import type { SqlDialect, SqlExecutor } from './sql-driver.ts';

/**
 * Versioned schema migrations, one list for both databases. The DDL sticks to what SQLite and
 * PostgreSQL read alike: TEXT, INTEGER (0/1 for booleans) and BIGINT (epoch milliseconds).
 * A migration, once released, is never edited: add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  statements: (dialect: SqlDialect) => string[];
}

export const DEFAULT_ORG_ID = 'org_default';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core: organizations, users, clients, sessions, tokens, codes, events',
    statements: () => [
      `CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        max_sessions INTEGER,
        created_at BIGINT NOT NULL
      )`,
      `INSERT INTO orgs (id, name, max_sessions, created_at) VALUES ('${DEFAULT_ORG_ID}', 'default', NULL, 0)`,
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        max_sessions INTEGER,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        redirect_urls TEXT NOT NULL,
        refresh_tokens INTEGER NOT NULL DEFAULT 0,
        access_ttl INTEGER,
        refresh_ttl INTEGER,
        token_type TEXT NOT NULL DEFAULT 'BearerToken',
        refresh_grace INTEGER NOT NULL DEFAULT 0,
        query_secrets INTEGER NOT NULL DEFAULT 1,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        client_id TEXT NOT NULL REFERENCES clients(id),
        grant_type TEXT NOT NULL,
        redirect_url TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT
      )`,
      `CREATE INDEX sessions_user_active ON sessions (user_id, ended_at)`,
      `CREATE TABLE access_tokens (
        hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX access_tokens_session ON access_tokens (session_id)`,
      `CREATE TABLE refresh_tokens (
        hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        expires_at BIGINT NOT NULL,
        rotated_at BIGINT,
        revoked_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)`,
      `CREATE TABLE authorization_codes (
        hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        redirect_uri TEXT NOT NULL,
        redirect_uri_given INTEGER NOT NULL,
        code_challenge TEXT,
        expires_at BIGINT NOT NULL,
        used_at BIGINT,
        session_id TEXT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE security_events (
        id TEXT PRIMARY KEY,
        at BIGINT NOT NULL,
        type TEXT NOT NULL,
        reason TEXT,
        user_id TEXT,
        email TEXT,
        client_id TEXT,
        session_id TEXT,
        ip TEXT,
        request_id TEXT
      )`,
      `CREATE INDEX security_events_at ON security_events (at)`,
      `CREATE INDEX security_events_user ON security_events (user_id, at)`,
    ],
  },
  {
    version: 2,
    name: 'saml: identity providers, their certificates, the assertion replay cache',
    statements: () => [
      `CREATE TABLE idps (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        entity_id TEXT NOT NULL UNIQUE,
        jit INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE idp_certs (
        id TEXT PRIMARY KEY,
        idp_id TEXT NOT NULL REFERENCES idps(id),
        pem TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        not_after BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE UNIQUE INDEX idp_certs_fingerprint ON idp_certs (idp_id, fingerprint)`,
      `CREATE TABLE saml_replay (
        issuer TEXT NOT NULL,
        assertion_id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (issuer, assertion_id)
      )`,
      `CREATE INDEX saml_replay_expiry ON saml_replay (expires_at)`,
    ],
  },
  {
    version: 3,
    name: 'login throttling counters, per account and per client IP',
    statements: () => [
      `CREATE TABLE login_throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        last_failure_at BIGINT NOT NULL DEFAULT 0,
        locked_until BIGINT NOT NULL DEFAULT 0,
        locks INTEGER NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at)`,
    ],
  },
  {
    version: 4,
    name: 'hardening: IdP email domains, idempotent refresh retries, PKCE per client, server secrets, pruning indexes',
    statements: () => [
      // Contract §10: a domain belongs to at most one IdP.
      `CREATE TABLE idp_domains (
        domain TEXT PRIMARY KEY,
        idp_id TEXT NOT NULL REFERENCES idps(id)
      )`,
      `CREATE INDEX idp_domains_idp ON idp_domains (idp_id)`,
      // The successor tokens of a rotated refresh token, encrypted with a key derived from that
      // token (never stored): only a retry presenting it within the grace window can read them.
      `ALTER TABLE refresh_tokens ADD COLUMN successor TEXT`,
      // Existing clients keep their behaviour; new clients require PKCE unless created with --allow-no-pkce.
      `ALTER TABLE clients ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 0`,
      `CREATE TABLE server_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX sessions_expiry ON sessions (expires_at)`,
      `CREATE INDEX sessions_ended ON sessions (ended_at)`,
      `CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at)`,
    ],
  },
  {
    version: 5,
    name: 'login throttling: attempts reserved before the password check',
    statements: () => [
      // A password attempt is charged before its verify; these say how many are still being
      // verified, whether one of them failed, and when the latest was let in (to write off
      // attempts whose process died mid-verify).
      `ALTER TABLE login_throttle ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE login_throttle ADD COLUMN run_failed INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE login_throttle ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0`,
    ],
  },
  {
    version: 6,
    name: 'resource servers: scopes, audiences, access-token formats, service tokens, signing keys',
    statements: () => [
      // Contract §5–§8. Every default keeps an existing client behaving exactly as before.
      `ALTER TABLE clients ADD COLUMN scopes TEXT NOT NULL DEFAULT ''`,
      `ALTER TABLE clients ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque'`,
      // 'app' (signs users in), 'service' (RFC 6749 §4.4 tokens for itself too), 'resource_server'
      `ALTER TABLE clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'app'`,
      `ALTER TABLE clients ADD COLUMN audience TEXT`,
      `CREATE UNIQUE INDEX clients_audience ON clients (audience)`,
      // The scope a login granted and the audience it was issued for (NULL: before version 6,
      // read as the default audience); a refresh narrows its access token's scope, not the session's.
      `ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
      `ALTER TABLE sessions ADD COLUMN audience TEXT`,
      `ALTER TABLE access_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
      `ALTER TABLE access_tokens ADD COLUMN audience TEXT`,
      `ALTER TABLE authorization_codes ADD COLUMN scope TEXT NOT NULL DEFAULT ''`,
      // Contract §8: a service client's own tokens have no user and no session. For a JWT, the
      // hash is that of its jti (only that is stored).
      `CREATE TABLE service_tokens (
        hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients(id),
        scope TEXT NOT NULL,
        audience TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX service_tokens_expiry ON service_tokens (expires_at)`,
      `CREATE INDEX service_tokens_client ON service_tokens (client_id)`,
      // Contract §6: signing keys, the private part sealed with the key-encryption key.
      `CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        private_jwk_sealed TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        activates_at BIGINT NOT NULL,
        retired_at BIGINT
      )`,
    ],
  },
  {
    version: 7,
    name: 'saml browser sso: IdP single sign-on URLs, pending AuthnRequests',
    statements: () => [
      // Contract §10: where the browser is sent with an AuthnRequest (HTTP-Redirect binding);
      // NULL: the IdP only serves the bearer grant, and its domains keep the password login.
      `ALTER TABLE idps ADD COLUMN sso_url TEXT`,
      // One row per AuthnRequest sent: the pending authorize request it continues (never in the
      // RelayState itself), keyed by the SHA-256 of the opaque RelayState handle; the browser it
      // was started in (SHA-256 of the binding cookie's nonce); single use (used_at).
      `CREATE TABLE saml_requests (
        handle_hash TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        idp_id TEXT NOT NULL REFERENCES idps(id),
        browser_hash TEXT NOT NULL,
        client_id TEXT NOT NULL REFERENCES clients(id),
        redirect_uri TEXT NOT NULL,
        redirect_uri_given INTEGER NOT NULL,
        state TEXT,
        code_challenge TEXT,
        scope TEXT,
        expires_at BIGINT NOT NULL,
        used_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX saml_requests_expiry ON saml_requests (expires_at)`,
    ],
  },
  {
    version: 8,
    name: 'admin api: roles, row versions (ETags), client secret overlap, event actors and targets, keyset indexes',
    statements: () => [
      // Contract §9: NULL (no admin rights), 'admin' or 'org-admin'.
      `ALTER TABLE users ADD COLUMN role TEXT`,
      // A row's version is its ETag: every admin change bumps it with a compare-and-swap, so two
      // admins editing one row cannot silently overwrite each other (If-Match → 412).
      `ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1`,
      `ALTER TABLE orgs ADD COLUMN version INTEGER NOT NULL DEFAULT 1`,
      `ALTER TABLE clients ADD COLUMN version INTEGER NOT NULL DEFAULT 1`,
      `ALTER TABLE idps ADD COLUMN version INTEGER NOT NULL DEFAULT 1`,
      // A rotation with grace_seconds keeps the old secret's hash until it expires.
      `ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT`,
      `ALTER TABLE clients ADD COLUMN previous_secret_expires_at BIGINT`,
      // Who made a change ('cli', 'user:usr_…', 'client:cl_…'), what it changed, and the
      // organization it belongs to (what an org-admin may read once the user is erased).
      `ALTER TABLE security_events ADD COLUMN actor TEXT`,
      `ALTER TABLE security_events ADD COLUMN target TEXT`,
      `ALTER TABLE security_events ADD COLUMN org_id TEXT`,
      // Keyset pagination, newest first: (created_at, id) per collection.
      `CREATE INDEX orgs_created ON orgs (created_at, id)`,
      `CREATE INDEX users_created ON users (created_at, id)`,
      `CREATE INDEX users_org_created ON users (org_id, created_at, id)`,
      `CREATE INDEX users_role ON users (role)`,
      `CREATE INDEX clients_created ON clients (created_at, id)`,
      `CREATE INDEX idps_created ON idps (created_at, id)`,
      `CREATE INDEX idps_org ON idps (org_id)`,
      `CREATE INDEX sessions_started ON sessions (started_at, id)`,
      `CREATE INDEX sessions_user_started ON sessions (user_id, started_at, id)`,
      `CREATE INDEX sessions_client ON sessions (client_id)`,
      `CREATE INDEX authorization_codes_user ON authorization_codes (user_id)`,
      `CREATE INDEX authorization_codes_client ON authorization_codes (client_id)`,
      `CREATE INDEX security_events_at_id ON security_events (at, id)`,
      `CREATE INDEX security_events_client ON security_events (client_id, at)`,
      `CREATE INDEX security_events_type ON security_events (type, at)`,
      `CREATE INDEX security_events_org ON security_events (org_id, at)`,
    ],
  },
  {
    version: 9,
    name: 'admin console: its sign-ins and sessions (the backend-for-frontend)',
    statements: () => [
      // Keyed by the SHA-256 of the console cookie's random id; `sealed` (a pending sign-in's state
      // and PKCE verifier, then the session's tokens) is AES-256-GCM under a key derived from that
      // id, so the database alone holds no usable token. Every instance reads the same rows.
      `CREATE TABLE console_sessions (
        id_hash TEXT PRIMARY KEY,
        sealed TEXT NOT NULL,
        user_id TEXT,
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)`,
    ],
  },
  {
    version: 10,
    name: 'saml browser sso: signed AuthnRequests per IdP',
    statements: () => [
      // 1: AuthnRequests to this IdP carry the HTTP-Redirect binding's signature (saml-bindings
      // §3.4.4.1). Existing IdPs keep receiving unsigned requests.
      `ALTER TABLE idps ADD COLUMN sign_requests INTEGER NOT NULL DEFAULT 0`,
    ],
  },
  {
    version: 11,
    name: 'openid connect: browser sessions, public clients, web origins, logout redirects, nonces',
    statements: () => [
      // The OP session (OpenID Connect Core §3.1.2.1 prompt/max_age): one per browser sign-in on the
      // authorize page, keyed by the SHA-256 of its cookie's random value. auth_time: when the user
      // last proved who they are in it.
      `CREATE TABLE browser_sessions (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES users(id),
        auth_time BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX browser_sessions_user ON browser_sessions (user_id)`,
      `CREATE INDEX browser_sessions_expiry ON browser_sessions (expires_at)`,
      // The sessions a browser session signed in count against the user's limit once, and end with it.
      `ALTER TABLE sessions ADD COLUMN browser_session_id TEXT`,
      `ALTER TABLE sessions ADD COLUMN auth_time BIGINT`,
      `CREATE INDEX sessions_browser_session ON sessions (browser_session_id)`,
      `ALTER TABLE authorization_codes ADD COLUMN browser_session_id TEXT`,
      `ALTER TABLE authorization_codes ADD COLUMN auth_time BIGINT`,
      `ALTER TABLE authorization_codes ADD COLUMN nonce TEXT`,
      `ALTER TABLE saml_requests ADD COLUMN nonce TEXT`,
      // 1: no secret (token endpoint auth "none"), PKCE always. JSON arrays of exact strings.
      `ALTER TABLE clients ADD COLUMN public INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE clients ADD COLUMN web_origins TEXT NOT NULL DEFAULT '[]'`,
      `ALTER TABLE clients ADD COLUMN post_logout_redirect_urls TEXT NOT NULL DEFAULT '[]'`,
    ],
  },
  {
    version: 12,
    name: 'write path: one index fewer per security event',
    // (at, id) serves every query (at) did; each event insert wrote both.
    statements: () => ['DROP INDEX security_events_at'],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `the database is at schema version ${found}, newer than this sei-auth knows (${LATEST_SCHEMA_VERSION}); ` +
        'it was written by a newer release: upgrade sei-auth instead of running this one against it',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** Applies every pending migration inside one transaction; refuses a database from the future. */
export async function migrate(tx: SqlExecutor, dialect: SqlDialect, now: number): Promise<{ from: number; to: number }> {
  await tx.run(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`,
  );
  const row = await tx.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  const current = Number(row?.v ?? 0);
  if (current > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(current);
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements(dialect)) await tx.run(statement);
    await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, now]);
  }
  return { from: current, to: LATEST_SCHEMA_VERSION };
}
