/** Registered client applications. */
import type { PageQuery } from './page.ts';

export type TokenType = 'BearerToken' | 'Bearer';

/** Contract §6: what an access token is on the wire. */
export type AccessTokenFormat = 'opaque' | 'jwt';

/**
 * What a client is for: `app` signs users in (every client before contract §7–§8); `service`
 * may also get tokens for itself (RFC 6749 §4.4); `resource_server` only introspects the tokens
 * of its audience and can log no one in.
 */
export type ClientKind = 'app' | 'service' | 'resource_server';

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
  /** RFC 9700 §2.1.1: the authorize request must carry a PKCE challenge (new clients unless --allow-no-pkce). */
  requirePkce: boolean;
  /** Contract §5: the scopes the client may be granted (none when empty). */
  scopes: string[];
  accessTokenFormat: AccessTokenFormat;
  kind: ClientKind;
  /** Contract §7: a resource server's audience (unique); null for every other client. */
  audience: string | null;
  /** Contract §11: no secret (token endpoint auth "none"), PKCE always required */
  public: boolean;
  /** Contract §11: origins allowed CORS on the token, userinfo, jwks and revocation endpoints */
  webOrigins: string[];
  /** RP-Initiated Logout 1.0: where /oauth/logout may send the browser afterwards (exact match) */
  postLogoutRedirectUrls: string[];
  disabled: boolean;
  createdAt: number;
  /** a rotated-out secret still accepted until `previousSecretExpiresAt` (admin rotation's grace) */
  previousSecretHash?: string | null;
  previousSecretExpiresAt?: number | null;
  /** bumped by every admin change: the row's ETag (1 when absent) */
  version?: number;
}

export interface ClientPatch {
  secretHash?: string;
  requirePkce?: boolean;
  disabled?: boolean;
  name?: string;
  redirectUrls?: string[];
  refreshTokens?: boolean;
  accessTtl?: number | null;
  refreshTtl?: number | null;
  tokenType?: TokenType;
  refreshGrace?: number;
  querySecrets?: boolean;
  scopes?: string[];
  accessTokenFormat?: AccessTokenFormat;
  previousSecretHash?: string | null;
  previousSecretExpiresAt?: number | null;
  webOrigins?: string[];
  postLogoutRedirectUrls?: string[];
}

export interface ClientStore {
  create(client: Client): Promise<void>;
  find(id: string): Promise<Client | undefined>;
  /** The resource server registered for an audience (contract §7). */
  findByAudience(audience: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  update(id: string, patch: ClientPatch): Promise<boolean>;
  /** Newest first (keyset on created_at, id). */
  page(query: PageQuery): Promise<Client[]>;
  /** The row-version compare-and-swap (see OrgStore.bump). */
  bump(id: string, expected?: number): Promise<boolean>;
  /**
   * Removes the client with everything issued to it: sessions and their tokens, service tokens,
   * codes, pending SAML requests. Its sessions must have been ended first (and their events written).
   */
  delete(id: string): Promise<boolean>;
}
