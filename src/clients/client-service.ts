import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { hashSecret, newId, newSecret } from '../crypto/secrets.ts';
import { securityEvent } from '../events/security-event.ts';
import { endSessionsOfClient } from '../sessions/session-ending.ts';
import type { Client, Store, TokenType } from '../store/store.ts';
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
    if (input.redirectUrls.length === 0) throw new AdminError('at least one --redirect-url is required');
    const tokenType = input.tokenType ?? 'BearerToken';
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
      disabled: false,
      createdAt: this.clock.now(),
    };
    await this.store.clients.create(client);
    return { client_id: client.id, client_secret: secret };
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
      return { endedSessions: await endSessionsOfClient(tx, clientId, 'client_disabled', now, { clientId }) };
    });
  }
}
