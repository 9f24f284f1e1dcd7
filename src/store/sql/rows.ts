/** Row → record converters and helpers shared by the SQL aggregates. */
import type { SqlValue } from '../sql-driver.ts';
import type {
  AuthorizationCode,
  BrowserSession,
  Client,
  ClientKind,
  Idp,
  IdpCertificate,
  Org,
  SamlRequest,
  SecurityEvent,
  ServiceToken,
  Session,
  SessionEndReason,
  ThrottleState,
  User,
  UserRole,
} from '../store.ts';

export type Row = Record<string, SqlValue>;

export const num = (v: SqlValue): number => Number(v);
export const numOrNull = (v: SqlValue): number | null => (v === null ? null : Number(v));
export const str = (v: SqlValue): string => String(v);
export const strOrNull = (v: SqlValue): string | null => (v === null ? null : String(v));
export const bool = (v: SqlValue): boolean => Number(v) === 1;
export const flag = (b: boolean): number => (b ? 1 : 0);

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === '23505';
}

export function toOrg(r: Row): Org {
  return {
    id: str(r.id!),
    name: str(r.name!),
    maxSessions: numOrNull(r.max_sessions ?? null),
    createdAt: num(r.created_at!),
    version: num(r.version ?? 1),
  };
}

export function toUser(r: Row): User {
  return {
    id: str(r.id!),
    orgId: str(r.org_id!),
    email: str(r.email!),
    passwordHash: strOrNull(r.password_hash ?? null),
    maxSessions: numOrNull(r.max_sessions ?? null),
    disabled: bool(r.disabled!),
    createdAt: num(r.created_at!),
    role: toRole(strOrNull(r.role ?? null)),
    version: num(r.version ?? 1),
  };
}

function toRole(value: string | null): UserRole | null {
  return value === 'admin' || value === 'org-admin' ? value : null;
}

/** Scopes are stored space-separated (RFC 6749 §3.3), already validated and de-duplicated. */
export const splitScope = (value: string): string[] => (value === '' ? [] : value.split(' '));

function toClientKind(value: string | null): ClientKind {
  return value === 'service' || value === 'resource_server' ? value : 'app';
}

export function toClient(r: Row): Client {
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
    requirePkce: bool(r.require_pkce ?? 0),
    scopes: splitScope(strOrNull(r.scopes ?? null) ?? ''),
    accessTokenFormat: str(r.access_token_format ?? 'opaque') === 'jwt' ? 'jwt' : 'opaque',
    kind: toClientKind(strOrNull(r.kind ?? null)),
    audience: strOrNull(r.audience ?? null),
    public: bool(r.public ?? 0),
    webOrigins: JSON.parse(str(r.web_origins ?? '[]')) as string[],
    postLogoutRedirectUrls: JSON.parse(str(r.post_logout_redirect_urls ?? '[]')) as string[],
    disabled: bool(r.disabled!),
    createdAt: num(r.created_at!),
    previousSecretHash: strOrNull(r.previous_secret_hash ?? null),
    previousSecretExpiresAt: numOrNull(r.previous_secret_expires_at ?? null),
    version: num(r.version ?? 1),
  };
}

const SESSION_FIELDS = [
  'id',
  'user_id',
  'client_id',
  'grant_type',
  'redirect_url',
  'started_at',
  'expires_at',
  'ended_at',
  'end_reason',
  'scope',
  'audience',
  'browser_session_id',
  'auth_time',
] as const;
export type SessionKeys = Record<(typeof SESSION_FIELDS)[number], string>;
const sessionKeys = (prefix: string): SessionKeys => Object.fromEntries(SESSION_FIELDS.map((f) => [f, prefix + f])) as SessionKeys;
// The column names with and without the join's prefix, built once rather than on every row.
const PLAIN_SESSION_KEYS = sessionKeys('');
export const JOINED_SESSION_KEYS = sessionKeys('s_');

export function toSession(r: Row, k: SessionKeys = PLAIN_SESSION_KEYS): Session {
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
    scope: str(r[k.scope] ?? ''),
    audience: strOrNull(r[k.audience] ?? null),
    browserSessionId: strOrNull(r[k.browser_session_id] ?? null),
    authTime: numOrNull(r[k.auth_time] ?? null),
  };
}

export function toCode(r: Row): AuthorizationCode {
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
    scope: str(r.scope ?? ''),
    browserSessionId: strOrNull(r.browser_session_id ?? null),
    authTime: numOrNull(r.auth_time ?? null),
    nonce: strOrNull(r.nonce ?? null),
  };
}

export function toServiceToken(r: Row): ServiceToken {
  return {
    hash: str(r.hash!),
    clientId: str(r.client_id!),
    scope: str(r.scope!),
    audience: str(r.audience!),
    expiresAt: num(r.expires_at!),
    revokedAt: numOrNull(r.revoked_at ?? null),
    createdAt: num(r.created_at!),
  };
}

export function toIdp(r: Row): Idp {
  return {
    id: str(r.id!),
    orgId: str(r.org_id!),
    entityId: str(r.entity_id!),
    jit: bool(r.jit!),
    signRequests: bool(r.sign_requests!),
    createdAt: num(r.created_at!),
    version: num(r.version ?? 1),
    // Absent rather than null when unset, like an Idp created without one.
    ...(r.sso_url == null ? {} : { ssoUrl: str(r.sso_url) }),
  };
}

export function toSamlRequest(r: Row): SamlRequest {
  return {
    handleHash: str(r.handle_hash!),
    requestId: str(r.request_id!),
    idpId: str(r.idp_id!),
    browserHash: str(r.browser_hash!),
    clientId: str(r.client_id!),
    redirectUri: str(r.redirect_uri!),
    redirectUriGiven: bool(r.redirect_uri_given!),
    state: strOrNull(r.state!),
    codeChallenge: strOrNull(r.code_challenge!),
    scope: strOrNull(r.scope!),
    nonce: strOrNull(r.nonce ?? null),
    expiresAt: num(r.expires_at!),
    usedAt: numOrNull(r.used_at!),
    createdAt: num(r.created_at!),
  };
}

export function toIdpCertificate(r: Row): IdpCertificate {
  return {
    id: str(r.id!),
    idpId: str(r.idp_id!),
    pem: str(r.pem!),
    fingerprint: str(r.fingerprint!),
    notAfter: num(r.not_after!),
    createdAt: num(r.created_at!),
  };
}

export function toThrottle(r: Row): ThrottleState {
  return {
    key: str(r.key!),
    failures: num(r.failures!),
    lastFailureAt: num(r.last_failure_at!),
    lockedUntil: num(r.locked_until!),
    locks: num(r.locks!),
    inFlight: num(r.in_flight ?? 0),
    runFailed: bool(r.run_failed ?? 0),
    claimedAt: num(r.claimed_at ?? 0),
  };
}

export function toEvent(r: Row): SecurityEvent {
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
    actor: strOrNull(r.actor ?? null),
    target: strOrNull(r.target ?? null),
    orgId: strOrNull(r.org_id ?? null),
  };
}

export function toBrowserSession(r: Row): BrowserSession {
  return {
    id: str(r.id!),
    secretHash: str(r.secret_hash!),
    userId: str(r.user_id!),
    authTime: num(r.auth_time!),
    expiresAt: num(r.expires_at!),
    endedAt: numOrNull(r.ended_at ?? null),
    createdAt: num(r.created_at!),
  };
}
