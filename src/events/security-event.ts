import { newTimeOrderedId } from '../crypto/secrets.ts';
import type { SecurityEvent, StoreOps } from '../store/store.ts';

export type SecurityEventType =
  | 'login_succeeded'
  | 'login_failed'
  | 'session_started'
  | 'session_ended'
  /** contract §11: a browser sign-in on the authorize page (the OpenID Connect OP session) */
  | 'browser_session_started'
  | 'browser_session_ended'
  | 'refresh_token_reused'
  | 'code_reused'
  | 'saml_rejected'
  | 'client_secret_rotated'
  | 'client_disabled'
  | 'client_enabled'
  | 'password_changed'
  | 'account_locked'
  | 'account_unlocked'
  | 'user_provisioned'
  /** contract §8: a service client's token for itself */
  | 'service_token_issued'
  // Contract §9: administrative changes (the event's actor and target say who and what).
  | 'org_created'
  | 'org_updated'
  | 'org_deleted'
  | 'user_created'
  | 'user_updated'
  | 'user_deleted'
  | 'client_created'
  | 'client_updated'
  | 'client_deleted'
  | 'idp_created'
  | 'idp_updated'
  | 'idp_deleted'
  | 'key_rotated'
  | 'key_retired';

/** Who and where, for every event of one request. Never a credential or a document. */
export interface EventContext {
  ip?: string | null;
  requestId?: string | null;
  clientId?: string | null;
}

export interface EventFields extends EventContext {
  reason?: string | null;
  userId?: string | null;
  email?: string | null;
  sessionId?: string | null;
  /** an admin change: who made it, what it changed, the organization it belongs to */
  actor?: string | null;
  target?: string | null;
  orgId?: string | null;
}

/** Builds a security event row; the caller writes it with the store (often inside its transaction). */
export function securityEvent(type: SecurityEventType, at: number, fields: EventFields): SecurityEvent {
  return {
    id: newTimeOrderedId('evt_'),
    at,
    type,
    reason: fields.reason ?? null,
    userId: fields.userId ?? null,
    email: fields.email ?? null,
    clientId: fields.clientId ?? null,
    sessionId: fields.sessionId ?? null,
    ip: fields.ip ?? null,
    requestId: fields.requestId ?? null,
    actor: fields.actor ?? null,
    target: fields.target ?? null,
    orgId: fields.orgId ?? null,
  };
}

export async function recordEvent(store: StoreOps, type: SecurityEventType, at: number, fields: EventFields): Promise<void> {
  await store.events.create(securityEvent(type, at, fields));
}
