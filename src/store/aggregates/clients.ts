/** Registered client applications. */

export type TokenType = 'BearerToken' | 'Bearer';

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
  list(): Promise<Client[]>;
  update(id: string, patch: ClientPatch): Promise<boolean>;
}
