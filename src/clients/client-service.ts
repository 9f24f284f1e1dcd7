import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { isAudienceUri } from '../common/audience.ts';
import { parseScope } from '../common/scope.ts';
import { hashSecret, newId, newSecret } from '../crypto/secrets.ts';
import { securityEvent } from '../events/security-event.ts';
import { endSessionsOfClient } from '../sessions/session-ending.ts';
import { type Client, type ClientKind, type Store, StoreConflictError, type TokenType } from '../store/store.ts';
import { checkRedirectUrl } from './redirect-url.ts';

export interface NewClientInput {
  name: string;
  redirectUrls: string[];
  refreshTokens?: boolean;
  accessTtl?: number;
  refreshTtl?: number;
  tokenType?: string;
  refreshGrace?: number;
  querySecrets?: boolean;
  /** RFC 9700 §2.1.1: PKCE is required unless the client opts out (--allow-no-pkce) */
  allowNoPkce?: boolean;
  /** contract §5: --scope values, each space-separated scopes */
  scopes?: string[];
  /** contract §6: opaque (default) or jwt */
  accessTokenFormat?: string;
  /** contract §8: may get tokens for itself */
  service?: boolean;
  /** contract §7: only introspects the tokens of its audience */
  resourceServer?: boolean;
  audience?: string;
}

/** Each --scope value is RFC 6749 §3.3 scope syntax; together they are the client's set. */
function checkScopes(values: readonly string[]): string[] {
  const scopes: string[] = [];
  for (const value of values) {
    const tokens = parseScope(value.trim());
    if (!tokens)
      throw new AdminError(
        '--scope must be scope names separated by single spaces (letters, digits and !#-[]-~, no quotes or backslashes)',
      );
    scopes.push(...tokens);
  }
  return [...new Set(scopes)];
}

function checkKind(input: NewClientInput): ClientKind {
  if (input.service && input.resourceServer) throw new AdminError('a client is either --service or --resource-server, not both');
  if (input.resourceServer) {
    // Contract §7: a resource server logs no one in, so nothing about logins applies to it.
    if (input.redirectUrls.length > 0) throw new AdminError('a resource server has no --redirect-url');
    if (input.refreshTokens) throw new AdminError('a resource server has no --refresh-tokens');
    if (input.scopes?.length)
      throw new AdminError('a resource server is granted no --scope; its API checks the scopes of the tokens it receives');
    if (input.accessTokenFormat !== undefined) throw new AdminError('a resource server gets no tokens, so no --access-token-format');
    if (input.audience === undefined) throw new AdminError('a resource server needs --audience (the URI its tokens are issued for)');
    return 'resource_server';
  }
  if (input.audience !== undefined) throw new AdminError('--audience is for a --resource-server');
  if (input.service) return 'service';
  if (input.redirectUrls.length === 0) throw new AdminError('at least one --redirect-url is required (or --service for a machine client)');
  return 'app';
}

function checkTtl(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw new AdminError(`${name} must be a whole number of seconds, at least 1`);
  return value;
}

/** Registering and managing client applications; secrets leave only once, at creation or rotation. */
export class ClientService {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  async createClient(input: NewClientInput): Promise<{ client_id: string; client_secret: string }> {
    if (!input.name.trim()) throw new AdminError('--name must not be empty');
    const kind = checkKind(input);
    if (input.audience !== undefined && !isAudienceUri(input.audience)) {
      throw new AdminError('--audience must be an absolute URI without a fragment, e.g. https://api.example.com');
    }
    const format = input.accessTokenFormat ?? 'opaque';
    if (format !== 'opaque' && format !== 'jwt') throw new AdminError('--access-token-format must be opaque or jwt');
    const scopes = checkScopes(input.scopes ?? []);
    // A service client's own tokens are RFC 6749 §4.4 tokens: RFC 6750's "Bearer" unless asked otherwise.
    const tokenType = input.tokenType ?? (kind === 'service' ? 'Bearer' : 'BearerToken');
    if (tokenType !== 'BearerToken' && tokenType !== 'Bearer') throw new AdminError('--token-type must be BearerToken or Bearer');
    const grace = input.refreshGrace ?? 0;
    if (!Number.isInteger(grace) || grace < 0 || grace > 3600) throw new AdminError('--refresh-grace must be between 0 and 3600 seconds');
    const secret = newSecret('client_secret');
    const client: Client = {
      id: newId('cl_'),
      name: input.name.trim(),
      secretHash: hashSecret(secret),
      redirectUrls: [...new Set(input.redirectUrls.map(checkRedirectUrl))],
      refreshTokens: input.refreshTokens ?? false,
      accessTtl: checkTtl('--access-ttl', input.accessTtl),
      refreshTtl: checkTtl('--refresh-ttl', input.refreshTtl),
      tokenType: tokenType as TokenType,
      refreshGrace: grace,
      querySecrets: input.querySecrets ?? true,
      requirePkce: !input.allowNoPkce,
      scopes,
      accessTokenFormat: format,
      kind,
      audience: input.audience ?? null,
      disabled: false,
      createdAt: this.clock.now(),
    };
    try {
      await this.store.clients.create(client);
    } catch (error) {
      if (error instanceof StoreConflictError) throw new AdminError(`a resource server with the audience ${input.audience} already exists`);
      throw error;
    }
    return { client_id: client.id, client_secret: secret };
  }

  /** Every scope some enabled client may be granted, sorted: the metadata's scopes_supported (contract §6). */
  async scopesInUse(): Promise<string[]> {
    const scopes = new Set<string>();
    for (const client of await this.store.clients.list()) if (!client.disabled) for (const scope of client.scopes) scopes.add(scope);
    return [...scopes].sort();
  }

  listClients(): Promise<Client[]> {
    return this.store.clients.list();
  }

  async clientById(clientId: string): Promise<Client> {
    const client = await this.store.clients.find(clientId);
    if (!client) throw new AdminError(`no client with id ${clientId}`);
    return client;
  }

  /** A new secret replaces the old one at once; the old one stops working. */
  async rotateClientSecret(clientId: string): Promise<{ client_id: string; client_secret: string }> {
    await this.clientById(clientId);
    const secret = newSecret('client_secret');
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      await tx.clients.update(clientId, { secretHash: hashSecret(secret) });
      await tx.events.create(securityEvent('client_secret_rotated', now, { clientId }));
    });
    return { client_id: clientId, client_secret: secret };
  }

  /**
   * Disabling a client also ends every session it holds, so the tokens it was issued introspect
   * inactive at once, not only its new requests are refused.
   */
  async setClientDisabled(clientId: string, disabled: boolean): Promise<{ endedSessions: number }> {
    await this.clientById(clientId);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.clients.update(clientId, { disabled });
      await tx.events.create(securityEvent(disabled ? 'client_disabled' : 'client_enabled', now, { clientId }));
      if (!disabled) return { endedSessions: 0 };
      await tx.tokens.revokeAllServiceOf(clientId, now);
      return { endedSessions: await endSessionsOfClient(tx, clientId, 'client_disabled', now, { clientId }) };
    });
  }
}
