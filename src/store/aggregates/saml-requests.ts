/**
 * AuthnRequests this server sent to an IdP for the browser single sign-on (contract §10), each
 * holding the authorize request it continues. The RelayState sent along is an opaque handle; only
 * its SHA-256 is stored, so a database reader cannot finish someone else's sign-in.
 */

export interface SamlRequest {
  /** SHA-256 of the RelayState handle */
  handleHash: string;
  /** the AuthnRequest's ID: the response must name it in InResponseTo */
  requestId: string;
  idpId: string;
  /** SHA-256 of the nonce in the browser-binding cookie */
  browserHash: string;
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  state: string | null;
  codeChallenge: string | null;
  /** the authorize request's scope, as sent (null: none) */
  scope: string | null;
  /** OpenID Connect: the authorize request's nonce (null: none) */
  nonce?: string | null;
  expiresAt: number;
  usedAt: number | null;
  createdAt: number;
}

export interface SamlRequestStore {
  create(request: SamlRequest): Promise<void>;
  find(handleHash: string): Promise<SamlRequest | undefined>;
  /** Single use: marks it used if nobody has and it has not expired; true for the one caller that wins. */
  consume(handleHash: string, now: number): Promise<boolean>;
  /** Deletes at most `limit` requests that expired before `before`; returns how many. */
  prune(before: number, limit: number): Promise<number>;
}
