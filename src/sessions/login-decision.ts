import type { Client, User } from '../store/store.ts';

/**
 * Something single-use that a login spends in its own transaction: the login happens only for
 * the request that spends it, and spending it is undone if the login is refused.
 */
export type Consumable =
  /** the hash of an authorization code (RFC 6749 §4.1.2: used once) */
  | { kind: 'authorization_code'; hash: string }
  /** a SAML assertion id of an issuer, remembered until `keepUntil` (SAML profiles §4.1.4.5) */
  | { kind: 'saml_assertion'; issuer: string; assertionId: string; keepUntil: number };

/** What a grant decided: who logs in, through which client, and how. Data only; the issuer acts on it. */
export interface LoginDecision {
  user: User;
  client: Client;
  /** recorded on the session and in its events */
  grantType: string;
  /** the seed's endOtherSessions: end the user's other sessions before this one starts */
  endOtherSessions: boolean;
  /** contract §3: the redirect URL reported in the token response ('' for a client without one) */
  redirectUrl: string;
  issueRefreshToken: boolean;
  /** contract §5: the granted scope, space-separated ('' for none) */
  scope: string;
  /** contract §6: the audience the request named (`resource`, already checked); the default audience otherwise */
  audience: string | undefined;
  consume?: Consumable;
  /** contract §11: the browser sign-in a code came from, its time, and the authorize request's nonce */
  browser?: BrowserSignIn;
}

export interface BrowserSignIn {
  browserSessionId: string;
  /** OpenID Connect Core §2 auth_time, ms */
  authTime: number;
  nonce: string | null;
}
