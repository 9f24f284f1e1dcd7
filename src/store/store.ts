/**
 * The typed store every other layer talks to, one interface per aggregate (store/aggregates/).
 * Each method is one statement's worth of work; anything that must be atomic runs inside
 * {@link Store.transaction}, whose `tx` offers the same aggregates. Implementations: SQLite
 * (default) and PostgreSQL, both behind `SqlStore`. Times are epoch milliseconds; secrets
 * appear only as hashes.
 *
 * Verbs, the same in every aggregate: `create` inserts a new row, `find…` reads one (undefined
 * when absent), `list…` reads many, `count…` counts, `update` applies a patch and `delete`
 * removes a row (both true when the row existed), `prune` removes rows past a time and returns
 * how many, `lock` holds a row until the transaction ends. A state change that must happen once
 * is named for what it does (`end`, `revoke`, `rotateRefresh`, `consume`, `claim`) and returns
 * true only to the caller that made it.
 */
import type { OrgStore, UserStore } from './aggregates/accounts.ts';
import type { BrowserSessionStore } from './aggregates/browser-sessions.ts';
import type { ClientStore } from './aggregates/clients.ts';
import type { CodeStore } from './aggregates/codes.ts';
import type { ConsoleSessionStore } from './aggregates/console-sessions.ts';
import type { EventStore } from './aggregates/events.ts';
import type { IdpStore, ReplayStore } from './aggregates/idps.ts';
import type { SamlRequestStore } from './aggregates/saml-requests.ts';
import type { ServerSecretStore } from './aggregates/server-secrets.ts';
import type { SessionStore, TokenStore } from './aggregates/sessions.ts';
import type { SigningKeyStore } from './aggregates/signing-keys.ts';
import type { ThrottleStore } from './aggregates/throttle.ts';

export type * from './aggregates/accounts.ts';
export type * from './aggregates/browser-sessions.ts';
export type * from './aggregates/clients.ts';
export type * from './aggregates/codes.ts';
export type * from './aggregates/console-sessions.ts';
export type * from './aggregates/events.ts';
export type * from './aggregates/idps.ts';
export type * from './aggregates/page.ts';
export type * from './aggregates/saml-requests.ts';
export type * from './aggregates/server-secrets.ts';
export type * from './aggregates/sessions.ts';
export type * from './aggregates/signing-keys.ts';
export type * from './aggregates/throttle.ts';

/** The aggregates, bound to the pool or to one transaction. */
export interface StoreOps {
  readonly orgs: OrgStore;
  readonly users: UserStore;
  readonly clients: ClientStore;
  readonly sessions: SessionStore;
  readonly browserSessions: BrowserSessionStore;
  readonly tokens: TokenStore;
  readonly codes: CodeStore;
  readonly idps: IdpStore;
  readonly replay: ReplayStore;
  readonly samlRequests: SamlRequestStore;
  readonly throttle: ThrottleStore;
  readonly events: EventStore;
  readonly serverSecrets: ServerSecretStore;
  readonly consoleSessions: ConsoleSessionStore;
  readonly signingKeys: SigningKeyStore;
}

export interface Store extends StoreOps {
  readonly kind: 'sqlite' | 'postgres';
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** WAL frames (pages) written by this instance's SQLite commits; undefined on PostgreSQL. */
  walFramesWritten(): number | undefined;
}

/** A uniqueness rule was broken (an email already in use). */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** The database cannot be reached or answered too slowly; the request may be retried. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The one normalisation of an email address, NFKC then lower-case: the key users are stored,
 * found and kept unique by. For every address that src/accounts/email.ts accepts for a new user
 * (unchanged by NFKC) it equals the trimmed lower-case key rows were stored with before, so
 * existing rows keep their keys.
 */
export function emailKey(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}
