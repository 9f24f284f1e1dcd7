/** Registered client applications. */

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
  disabled: boolean;
  createdAt: number;
}

export interface ClientPatch {
  secretHash?: string;
  requirePkce?: boolean;
  disabled?: boolean;
}

export interface ClientStore {
  create(client: Client): Promise<void>;
  find(id: string): Promise<Client | undefined>;
  /** The resource server registered for an audience (contract §7). */
  findByAudience(audience: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  update(id: string, patch: ClientPatch): Promise<boolean>;
}
