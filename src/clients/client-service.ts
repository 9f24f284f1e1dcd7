import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { isAudienceUri } from '../common/audience.ts';
import { claimRowVersion } from '../common/row-version.ts';
import { parseScope } from '../common/scope.ts';
import { hashSecret, newId, newSecret } from '../crypto/secrets.ts';
import type { ChangeContext } from '../events/change-context.ts';
import { securityEvent } from '../events/security-event.ts';
import { endSessionsOfClient } from '../sessions/session-ending.ts';
import {
  type AccessTokenFormat,
  type Client,
  type ClientKind,
  type ClientPatch,
  type PageQuery,
  type Store,
  StoreConflictError,
  type TokenType,
} from '../store/store.ts';
import { checkRedirectUrl } from './redirect-url.ts';
import { checkWebOrigin } from './web-origin.ts';

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
  /** contract §11: no secret, PKCE always (a single-page or mobile app) */
  public?: boolean;
  /** contract §11: origins allowed CORS on the token, userinfo, jwks and revocation endpoints */
  webOrigins?: string[];
  /** RP-Initiated Logout 1.0: where /oauth/logout may return the browser */
  postLogoutRedirectUrls?: string[];
}

/** What `client update` and `PATCH /clients/{id}` may change: every setting `client create` takes but the kind and audience. */
export interface ClientChange {
  name?: string;
  redirectUrls?: string[];
  refreshTokens?: boolean;
  accessTtl?: number | null;
  refreshTtl?: number | null;
  tokenType?: string;
  refreshGrace?: number;
  querySecrets?: boolean;
  allowNoPkce?: boolean;
  scopes?: string[];
  accessTokenFormat?: string;
  webOrigins?: string[];
  postLogoutRedirectUrls?: string[];
  disabled?: boolean;
}

/** A secret rotation's overlap is at most 30 days: long enough for any deployment, short enough to end. */
export const MAX_SECRET_GRACE_SECONDS = 30 * 24 * 3600;

const by = (ctx: ChangeContext) => ({ actor: ctx.actor, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null });

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
  if (input.public) {
    // Contract §11: a public client cannot keep a secret, so it only signs users in through the browser.
    if (input.service) throw new AdminError('a --public client cannot be a --service: it has no secret to prove itself with');
    if (input.allowNoPkce) throw new AdminError('a --public client always uses PKCE (RFC 9700 §2.1.1): --allow-no-pkce is not allowed');
  }
  if ((input.webOrigins?.length ?? 0) > 0 && input.service) throw new AdminError('--web-origin is for a client that signs users in');
  if (input.service) return 'service';
  if (input.redirectUrls.length === 0) throw new AdminError('at least one --redirect-url is required (or --service for a machine client)');
  return 'app';
}

function checkTtl(name: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || value < 1) throw new AdminError(`${name} must be a whole number of seconds, at least 1`);
  return value;
}

/** Registering and managing client applications; secrets leave only once, at creation or rotation. */
export class ClientService {
  private readonly store: Store;
  private readonly clock: Clock;
  /** Counts this process's changes to clients, so a cache of what they allow (CORS origins) knows to read again at once. */
  changeCount = 0;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  /** The new client's id and, unless it is public, its secret (shown this once). */
  createClient(input: NewClientInput & { public: true }, ctx?: ChangeContext): Promise<{ client_id: string }>;
  createClient(input: NewClientInput & { public?: false }, ctx?: ChangeContext): Promise<{ client_id: string; client_secret: string }>;
  createClient(input: NewClientInput, ctx?: ChangeContext): Promise<{ client_id: string; client_secret?: string }>;
  async createClient(input: NewClientInput, ctx?: ChangeContext): Promise<{ client_id: string; client_secret?: string }> {
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
    const isPublic = input.public ?? false;
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
      requirePkce: isPublic || !input.allowNoPkce,
      scopes,
      accessTokenFormat: format,
      kind,
      audience: input.audience ?? null,
      // A public client's row keeps the hash of a secret nobody was given: it can never authenticate with one.
      public: isPublic,
      webOrigins: [...new Set((input.webOrigins ?? []).map(checkWebOrigin))],
      postLogoutRedirectUrls: [...new Set((input.postLogoutRedirectUrls ?? []).map(checkRedirectUrl))],
      disabled: false,
      createdAt: this.clock.now(),
    };
    try {
      await this.store.transaction(async (tx) => {
        await tx.clients.create(client);
        if (ctx) {
          const fields = { ...by(ctx), target: `client:${client.id}`, clientId: client.id, reason: kind };
          await tx.events.create(securityEvent('client_created', client.createdAt, fields));
        }
      });
    } catch (error) {
      if (error instanceof StoreConflictError) throw new AdminError(`a resource server with the audience ${input.audience} already exists`);
      throw error;
    }
    this.changeCount++;
    return isPublic ? { client_id: client.id } : { client_id: client.id, client_secret: secret };
  }

  /** Every scope some enabled client may be granted, sorted: the metadata's scopes_supported (contract §6). */
  async scopesInUse(): Promise<string[]> {
    const scopes = new Set<string>();
    for (const client of await this.store.clients.list()) if (!client.disabled) for (const scope of client.scopes) scopes.add(scope);
    return [...scopes].sort();
  }

  /** Every --web-origin of an enabled client: the origins allowed CORS (contract §11). */
  async webOriginsInUse(): Promise<Set<string>> {
    const origins = new Set<string>();
    for (const client of await this.store.clients.list()) if (!client.disabled) for (const origin of client.webOrigins) origins.add(origin);
    return origins;
  }

  listClients(): Promise<Client[]> {
    return this.store.clients.list();
  }

  async clientById(clientId: string): Promise<Client> {
    const client = await this.store.clients.find(clientId);
    if (!client) throw new AdminError(`no client with id ${clientId}`, 'not_found');
    return client;
  }

  clientPage(query: PageQuery): Promise<Client[]> {
    return this.store.clients.page(query);
  }

  /**
   * A new secret replaces the old one. With `graceSeconds`, the old one keeps working that long
   * (so the deployments using it can switch without downtime); without, it stops at once.
   */
  async rotateClientSecret(
    clientId: string,
    options: { graceSeconds?: number } = {},
    ctx?: ChangeContext,
  ): Promise<{ client_id: string; client_secret: string; previous_secret_expires_at: string | null }> {
    const grace = options.graceSeconds ?? 0;
    if (!Number.isInteger(grace) || grace < 0 || grace > MAX_SECRET_GRACE_SECONDS) {
      throw new AdminError(`grace_seconds must be a whole number between 0 and ${MAX_SECRET_GRACE_SECONDS}`);
    }
    const client = await this.clientById(clientId);
    if (client.public) throw new AdminError('a public client has no secret to rotate');
    const secret = newSecret('client_secret');
    const now = this.clock.now();
    const expiresAt = grace > 0 ? now + grace * 1000 : null;
    await this.store.transaction(async (tx) => {
      await claimRowVersion(tx.clients, clientId, undefined, 'client');
      await tx.clients.update(clientId, {
        secretHash: hashSecret(secret),
        previousSecretHash: expiresAt === null ? null : client.secretHash,
        previousSecretExpiresAt: expiresAt,
      });
      const fields = { ...(ctx ? by(ctx) : {}), clientId, target: `client:${clientId}`, reason: grace > 0 ? `grace=${grace}s` : null };
      await tx.events.create(securityEvent('client_secret_rotated', now, fields));
    });
    return {
      client_id: clientId,
      client_secret: secret,
      previous_secret_expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    };
  }

  /** Changes a client's settings, checked as at creation; `ifVersion` is the ETag the change was made on. */
  async updateClient(clientId: string, change: ClientChange, ctx: ChangeContext, ifVersion?: number): Promise<Client> {
    const client = await this.clientById(clientId);
    const patch = checkClientChange(client, change);
    const now = this.clock.now();
    const updated = await this.store.transaction(async (tx) => {
      await claimRowVersion(tx.clients, clientId, ifVersion, 'client');
      await tx.clients.update(clientId, patch);
      const fields = { ...by(ctx), clientId, target: `client:${clientId}`, reason: Object.keys(patch).sort().join(' ') || null };
      await tx.events.create(securityEvent('client_updated', now, fields));
      if (change.disabled === true && !client.disabled) {
        await tx.tokens.revokeAllServiceOf(clientId, now);
        await endSessionsOfClient(tx, clientId, 'client_disabled', now, { ...by(ctx), clientId });
      }
      return (await tx.clients.find(clientId))!;
    });
    this.changeCount++;
    return updated;
  }

  /** Deletes a client: its sessions end (their tokens die) and everything issued to it goes with it. */
  async deleteClient(clientId: string, ctx: ChangeContext, ifVersion?: number): Promise<{ endedSessions: number }> {
    const now = this.clock.now();
    const deleted = await this.store.transaction(async (tx) => {
      await claimRowVersion(tx.clients, clientId, ifVersion, 'client');
      const ended = await endSessionsOfClient(tx, clientId, 'admin', now, { ...by(ctx), clientId });
      await tx.clients.delete(clientId);
      await tx.events.create(securityEvent('client_deleted', now, { ...by(ctx), clientId, target: `client:${clientId}` }));
      return { endedSessions: ended };
    });
    this.changeCount++;
    return deleted;
  }

  /**
   * Disabling a client also ends every session it holds, so the tokens it was issued introspect
   * inactive at once, not only its new requests are refused.
   */
  async setClientDisabled(clientId: string, disabled: boolean, ctx?: ChangeContext): Promise<{ endedSessions: number }> {
    await this.clientById(clientId);
    const now = this.clock.now();
    const result = await this.store.transaction(async (tx) => {
      await tx.clients.update(clientId, { disabled });
      await claimRowVersion(tx.clients, clientId, undefined, 'client');
      const who = { clientId, ...(ctx ? { ...by(ctx), target: `client:${clientId}` } : {}) };
      await tx.events.create(securityEvent(disabled ? 'client_disabled' : 'client_enabled', now, who));
      if (!disabled) return { endedSessions: 0 };
      await tx.tokens.revokeAllServiceOf(clientId, now);
      return { endedSessions: await endSessionsOfClient(tx, clientId, 'client_disabled', now, { clientId }) };
    });
    this.changeCount++;
    return result;
  }
}

/** A change checked with the rules of creation, against the client's kind. */
function checkClientChange(client: Client, change: ClientChange): ClientPatch {
  const patch: ClientPatch = {};
  if (change.name !== undefined) {
    if (!change.name.trim()) throw new AdminError('name must not be empty');
    patch.name = change.name.trim();
  }
  const rs = client.kind === 'resource_server';
  if (change.redirectUrls !== undefined) {
    if (rs && change.redirectUrls.length > 0) throw new AdminError('a resource server has no redirect URL');
    if (client.kind === 'app' && change.redirectUrls.length === 0)
      throw new AdminError('a client that signs users in needs a redirect URL');
    patch.redirectUrls = [...new Set(change.redirectUrls.map(checkRedirectUrl))];
  }
  if (change.refreshTokens !== undefined) {
    if (rs && change.refreshTokens) throw new AdminError('a resource server has no refresh tokens');
    patch.refreshTokens = change.refreshTokens;
  }
  if (change.accessTtl !== undefined) patch.accessTtl = checkTtl('access_ttl', change.accessTtl);
  if (change.refreshTtl !== undefined) patch.refreshTtl = checkTtl('refresh_ttl', change.refreshTtl);
  if (change.tokenType !== undefined) {
    if (change.tokenType !== 'BearerToken' && change.tokenType !== 'Bearer')
      throw new AdminError('token_type must be BearerToken or Bearer');
    patch.tokenType = change.tokenType as TokenType;
  }
  if (change.refreshGrace !== undefined) {
    const grace = change.refreshGrace;
    if (!Number.isInteger(grace) || grace < 0 || grace > 3600) throw new AdminError('refresh_grace must be between 0 and 3600 seconds');
    patch.refreshGrace = grace;
  }
  if (change.querySecrets !== undefined) patch.querySecrets = change.querySecrets;
  if (change.allowNoPkce !== undefined) {
    if (client.public && change.allowNoPkce) throw new AdminError('a public client always uses PKCE');
    patch.requirePkce = !change.allowNoPkce;
  }
  if (change.webOrigins !== undefined) {
    if (client.kind !== 'app' && change.webOrigins.length > 0) throw new AdminError('web origins are for a client that signs users in');
    patch.webOrigins = [...new Set(change.webOrigins.map(checkWebOrigin))];
  }
  if (change.postLogoutRedirectUrls !== undefined)
    patch.postLogoutRedirectUrls = [...new Set(change.postLogoutRedirectUrls.map(checkRedirectUrl))];
  if (change.scopes !== undefined) {
    if (rs && change.scopes.length > 0) throw new AdminError('a resource server is granted no scope');
    patch.scopes = checkScopes(change.scopes);
  }
  if (change.accessTokenFormat !== undefined) {
    if (rs) throw new AdminError('a resource server gets no tokens, so no access_token_format');
    if (change.accessTokenFormat !== 'opaque' && change.accessTokenFormat !== 'jwt')
      throw new AdminError('access_token_format must be opaque or jwt');
    patch.accessTokenFormat = change.accessTokenFormat as AccessTokenFormat;
  }
  if (change.disabled !== undefined) patch.disabled = change.disabled;
  return patch;
}
