/**
 * The typed store every other layer talks to. Each method is one statement's worth of work;
 * anything that must be atomic runs inside {@link Store.transaction}, whose `tx` offers the same
 * methods. Implementations: SQLite (default) and PostgreSQL, both behind `SqlStore`.
 * Times are epoch milliseconds; secrets appear only as hashes.
 */
export type TokenType = 'BearerToken' | 'Bearer';

export interface Org {
  id: string;
  name: string;
  maxSessions: number | null;
  createdAt: number;
}

export interface User {
  id: string;
  orgId: string;
  email: string;
  passwordHash: string | null;
  maxSessions: number | null;
  disabled: boolean;
  createdAt: number;
}

export interface Client {
  id: string;
  name: string;
  secretHash: string;
  redirectUrls: string[];
  refreshTokens: boolean;
  accessTtl: number | null;
  refreshTtl: number | null;
  tokenType: TokenType;
  /** Seconds during which a just-rotated refresh token may be presented again (0 = never). */
  refreshGrace: number;
  /** The seed allows client_secret in the query string; a client may opt out. */
  querySecrets: boolean;
  disabled: boolean;
  createdAt: number;
}

export type SessionEndReason =
  | 'logout'
  | 'revoked'
  | 'end_other_sessions'
  | 'admin'
  | 'refresh_token_reuse'
  | 'code_reuse'
  | 'user_disabled';

export interface Session {
  id: string;
  userId: string;
  clientId: string;
  grantType: string;
  /** the redirect URL reported in token responses of this session */
  redirectUrl: string;
  startedAt: number;
  expiresAt: number;
  endedAt: number | null;
  endReason: SessionEndReason | null;
}

/** A token row joined with its session and user: everything introspection needs in one read. */
export interface TokenRecord {
  hash: string;
  sessionId: string;
  expiresAt: number;
  revokedAt: number | null;
  createdAt: number;
  /** refresh tokens only: when it was exchanged for a new one */
  rotatedAt: number | null;
  session: Session;
  email: string;
}

export interface AuthorizationCode {
  hash: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  /** whether the authorize request named redirect_uri (then the exchange must repeat it) */
  redirectUriGiven: boolean;
  codeChallenge: string | null;
  expiresAt: number;
  usedAt: number | null;
  sessionId: string | null;
  createdAt: number;
}

export interface SecurityEvent {
  id: string;
  at: number;
  type: string;
  reason: string | null;
  userId: string | null;
  email: string | null;
  clientId: string | null;
  sessionId: string | null;
  ip: string | null;
  requestId: string | null;
}

export interface Idp {
  id: string;
  orgId: string;
  entityId: string;
  /** create unknown users of the IdP's organization on first login (just-in-time) */
  jit: boolean;
  createdAt: number;
}

export interface IdpCertificate {
  id: string;
  idpId: string;
  pem: string;
  /** SHA-256 fingerprint, colon-separated hex, as openssl prints it */
  fingerprint: string;
  notAfter: number;
  createdAt: number;
}

/** Failed password checks of one account ('account:<email>') or one client IP ('ip:<address>'). */
export interface ThrottleState {
  key: string;
  /** failures in the current window (reset by a success for accounts, and after a quiet window) */
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
  /** how many locks in a row: the backoff doubles with each */
  locks: number;
}

export interface UserPatch {
  passwordHash?: string | null;
  maxSessions?: number | null;
  disabled?: boolean;
}

export interface ClientPatch {
  secretHash?: string;
  disabled?: boolean;
}

export interface EventFilter {
  userId?: string;
  since?: number;
  limit?: number;
}

export interface StoreOps {
  createOrg(org: Org): Promise<void>;
  findOrg(id: string): Promise<Org | undefined>;
  listOrgs(): Promise<Org[]>;
  updateOrg(id: string, patch: { maxSessions: number | null }): Promise<boolean>;

  /** Throws {@link StoreConflictError} when the email is taken (compared case-insensitively). */
  createUser(user: User): Promise<void>;
  findUserById(id: string): Promise<User | undefined>;
  findUserByEmail(email: string): Promise<User | undefined>;
  listUsers(orgId?: string): Promise<User[]>;
  updateUser(id: string, patch: UserPatch): Promise<boolean>;

  createClient(client: Client): Promise<void>;
  findClient(id: string): Promise<Client | undefined>;
  listClients(): Promise<Client[]>;
  updateClient(id: string, patch: ClientPatch): Promise<boolean>;

  /**
   * Serializes session changes of one user across connections and processes (row lock on
   * PostgreSQL; SQLite's write lock is already held by the transaction). Call first inside a
   * transaction that counts and then starts sessions.
   */
  lockUser(userId: string): Promise<void>;
  countActiveSessions(userId: string, now: number): Promise<number>;
  listActiveSessions(userId: string, now: number): Promise<Session[]>;
  findSession(id: string): Promise<Session | undefined>;
  insertSession(session: Session): Promise<void>;
  extendSession(id: string, expiresAt: number): Promise<void>;
  /** Ends one session and revokes its tokens; false when it had already ended. */
  endSession(id: string, reason: SessionEndReason, now: number): Promise<boolean>;
  /** Ends every active session of a user (but `exceptSessionId`); returns the ids ended. */
  endUserSessions(userId: string, reason: SessionEndReason, now: number): Promise<string[]>;

  insertAccessToken(row: { hash: string; sessionId: string; expiresAt: number; createdAt: number }): Promise<void>;
  findAccessToken(hash: string): Promise<TokenRecord | undefined>;
  revokeAccessToken(hash: string, now: number): Promise<boolean>;

  insertRefreshToken(row: { hash: string; sessionId: string; expiresAt: number; createdAt: number }): Promise<void>;
  findRefreshToken(hash: string): Promise<TokenRecord | undefined>;
  /** The rotation compare-and-swap: marks the token rotated only if it is still current. */
  markRefreshTokenRotated(hash: string, now: number): Promise<boolean>;
  revokeRefreshToken(hash: string, now: number): Promise<boolean>;

  insertAuthorizationCode(code: AuthorizationCode): Promise<void>;
  findAuthorizationCode(hash: string): Promise<AuthorizationCode | undefined>;
  /** Single use: marks the code used only if nobody has; true for the one caller that wins. */
  consumeAuthorizationCode(hash: string, sessionId: string, now: number): Promise<boolean>;

  createIdp(idp: Idp): Promise<void>;
  findIdpByEntityId(entityId: string): Promise<Idp | undefined>;
  findIdp(id: string): Promise<Idp | undefined>;
  listIdps(): Promise<Idp[]>;
  addIdpCertificate(cert: IdpCertificate): Promise<void>;
  listIdpCertificates(idpId: string): Promise<IdpCertificate[]>;
  removeIdpCertificate(idpId: string, certId: string): Promise<boolean>;
  /** Replay cache: true the first time an assertion id is seen (until it expires). */
  recordAssertionId(issuer: string, assertionId: string, expiresAt: number): Promise<boolean>;
  pruneAssertionIds(before: number): Promise<number>;

  findThrottle(key: string): Promise<ThrottleState | undefined>;
  /** Inside a transaction: the row for key (created empty if missing), locked until commit. */
  lockThrottle(key: string): Promise<ThrottleState>;
  saveThrottle(state: ThrottleState): Promise<void>;
  deleteThrottle(key: string): Promise<boolean>;
  pruneThrottles(quietSince: number): Promise<number>;

  insertEvent(event: SecurityEvent): Promise<void>;
  listEvents(filter: EventFilter): Promise<SecurityEvent[]>;
  pruneEvents(before: number): Promise<number>;
}

export interface Store extends StoreOps {
  readonly kind: 'sqlite' | 'postgres';
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Sessions of all users neither ended nor expired at `now` (the active-sessions metric). */
  countAllActiveSessions(now: number): Promise<number>;
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

/** Emails are unique case-insensitively: this is the key they are compared by. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
