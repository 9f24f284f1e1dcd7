/**
 * The JSON shapes of the admin API and the CLI's `--json` (one set of names, contract §9).
 * Never a secret or a password hash: a client's secret leaves only in create and rotate answers.
 */
import type { Client, Org, SecurityEvent, Session, User } from '../store/store.ts';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function orgView(o: Org) {
  return { id: o.id, name: o.name, max_sessions: o.maxSessions, created_at: iso(o.createdAt) };
}

export function userView(u: User) {
  return {
    id: u.id,
    email: u.email,
    org: u.orgId,
    max_sessions: u.maxSessions,
    disabled: u.disabled,
    role: u.role ?? null,
    has_password: u.passwordHash !== null,
    created_at: iso(u.createdAt),
  };
}

export function clientView(c: Client, now: number) {
  const graceLive = (c.previousSecretExpiresAt ?? 0) > now;
  return {
    client_id: c.id,
    name: c.name,
    kind: c.kind,
    redirect_urls: c.redirectUrls,
    refresh_tokens: c.refreshTokens,
    access_ttl: c.accessTtl,
    refresh_ttl: c.refreshTtl,
    token_type: c.tokenType,
    refresh_grace: c.refreshGrace,
    query_secrets: c.querySecrets,
    require_pkce: c.requirePkce,
    scope: c.scopes.join(' '),
    access_token_format: c.accessTokenFormat,
    ...(c.audience !== null ? { audience: c.audience } : {}),
    public: c.public,
    web_origins: c.webOrigins,
    post_logout_redirect_urls: c.postLogoutRedirectUrls,
    disabled: c.disabled,
    previous_secret_expires_at: graceLive ? iso(c.previousSecretExpiresAt) : null,
    created_at: iso(c.createdAt),
  };
}

export function sessionView(s: Session, now: number) {
  return {
    id: s.id,
    user_id: s.userId,
    client_id: s.clientId,
    grant_type: s.grantType,
    scope: s.scope,
    active: s.endedAt === null && s.expiresAt > now,
    started_at: iso(s.startedAt),
    expires_at: iso(s.expiresAt),
    ended_at: iso(s.endedAt),
    end_reason: s.endReason,
  };
}

export function eventView(e: SecurityEvent) {
  return {
    id: e.id,
    at: iso(e.at),
    type: e.type,
    reason: e.reason,
    actor: e.actor ?? null,
    target: e.target ?? null,
    user_id: e.userId,
    email: e.email,
    client_id: e.clientId,
    session_id: e.sessionId,
    org: e.orgId ?? null,
    ip: e.ip,
    request_id: e.requestId,
  };
}
