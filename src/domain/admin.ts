import type { Clock } from '../clock.ts';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../crypto/passwords.ts';
import { hashSecret, newId, newSecret } from '../crypto/secrets.ts';
import { DEFAULT_ORG_ID } from '../store/migrations.ts';
import { StoreConflictError, type Client, type Session, type Store, type TokenType, type User } from '../store/store.ts';
import { securityEvent } from './event-log.ts';

/** A refused admin operation; its message is meant for the operator. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function checkMaxSessions(value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > 100_000) throw new AdminError('--max-sessions must be a whole number of at least 1');
  return value;
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new AdminError('the password must be at least 8 characters');
  if (password.length > MAX_PASSWORD_LENGTH) throw new AdminError(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** RFC 6749 §3.1.2: the redirection endpoint URI MUST be absolute and MUST NOT include a fragment. */
export function checkRedirectUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AdminError(`redirect URL is not an absolute URL: ${raw}`);
  }
  if (url.hash || raw.includes('#')) throw new AdminError(`redirect URL must not have a fragment: ${raw}`);
  if (url.protocol === 'javascript:' || url.protocol === 'data:') throw new AdminError(`redirect URL scheme is not allowed: ${raw}`);
  // RFC 9700 §2.6 / RFC 8252 §7.3: plain http only for loopback (native apps); codes must not cross the network in clear.
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new AdminError(`redirect URL must use https (http is allowed only for localhost/127.0.0.1/[::1]): ${raw}`);
  }
  return raw;
}

function checkTtl(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw new AdminError(`${name} must be a whole number of seconds, at least 1`);
  return value;
}

/** The admin operations behind the CLI, over the store. */
export class Admin {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  async createOrg(input: { name: string; maxSessions?: number | null }): Promise<{ id: string }> {
    if (!input.name.trim()) throw new AdminError('--name must not be empty');
    const id = newId('org_');
    await this.store.createOrg({ id, name: input.name.trim(), maxSessions: checkMaxSessions(input.maxSessions), createdAt: this.clock.now() });
    return { id };
  }

  async setOrgMaxSessions(orgId: string, maxSessions: number | null): Promise<void> {
    if (!(await this.store.updateOrg(orgId, { maxSessions: checkMaxSessions(maxSessions) }))) {
      throw new AdminError(`no organization with id ${orgId}`);
    }
  }

  async createUser(input: { email: string; orgId?: string; maxSessions?: number | null; password?: string }): Promise<{ id: string; email: string }> {
    const email = input.email.trim();
    if (!EMAIL.test(email)) throw new AdminError(`not a valid email address: ${email}`);
    const orgId = input.orgId ?? DEFAULT_ORG_ID;
    if (!(await this.store.findOrg(orgId))) throw new AdminError(`no organization with id ${orgId}`);
    if (input.password !== undefined) checkPassword(input.password);
    const user: User = {
      id: newId('usr_'),
      orgId,
      email,
      passwordHash: input.password === undefined ? null : await hashPassword(input.password),
      maxSessions: checkMaxSessions(input.maxSessions),
      disabled: false,
      createdAt: this.clock.now(),
    };
    try {
      await this.store.createUser(user);
    } catch (error) {
      if (error instanceof StoreConflictError) throw new AdminError(`a user with the email ${email} already exists`);
      throw error;
    }
    return { id: user.id, email: user.email };
  }

  async userByEmail(email: string): Promise<User> {
    const user = await this.store.findUserByEmail(email);
    if (!user) throw new AdminError(`no user with the email ${email}`);
    return user;
  }

  async setPassword(email: string, password: string): Promise<void> {
    checkPassword(password);
    const user = await this.userByEmail(email);
    await this.store.updateUser(user.id, { passwordHash: await hashPassword(password) });
  }

  async setUserMaxSessions(email: string, maxSessions: number | null): Promise<void> {
    const user = await this.userByEmail(email);
    await this.store.updateUser(user.id, { maxSessions: checkMaxSessions(maxSessions) });
  }

  /** Disabling a user also ends every session it holds: its tokens stop working at once. */
  async setUserDisabled(email: string, disabled: boolean): Promise<{ endedSessions: number }> {
    const user = await this.userByEmail(email);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.updateUser(user.id, { disabled });
      if (!disabled) return { endedSessions: 0 };
      const ended = await tx.endUserSessions(user.id, 'user_disabled', now);
      for (const sessionId of ended) {
        await tx.insertEvent(securityEvent('session_ended', now, { userId: user.id, email: user.email, sessionId, reason: 'user_disabled' }));
      }
      return { endedSessions: ended.length };
    });
  }

  async listSessions(email: string): Promise<Session[]> {
    const user = await this.userByEmail(email);
    return this.store.listActiveSessions(user.id, this.clock.now());
  }

  async endSession(sessionId: string): Promise<void> {
    const session = await this.store.findSession(sessionId);
    if (!session) throw new AdminError(`no session with id ${sessionId}`);
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      if (await tx.endSession(sessionId, 'admin', now)) {
        await tx.insertEvent(securityEvent('session_ended', now, { userId: session.userId, clientId: session.clientId, sessionId, reason: 'admin' }));
      }
    });
  }

  async createClient(input: {
    name: string;
    redirectUrls: string[];
    refreshTokens?: boolean;
    accessTtl?: number;
    refreshTtl?: number;
    tokenType?: string;
    refreshGrace?: number;
    querySecrets?: boolean;
  }): Promise<{ client_id: string; client_secret: string }> {
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
      disabled: false,
      createdAt: this.clock.now(),
    };
    await this.store.createClient(client);
    return { client_id: client.id, client_secret: secret };
  }

  async clientById(clientId: string): Promise<Client> {
    const client = await this.store.findClient(clientId);
    if (!client) throw new AdminError(`no client with id ${clientId}`);
    return client;
  }

  /** A new secret replaces the old one at once; the old one stops working. */
  async rotateClientSecret(clientId: string): Promise<{ client_id: string; client_secret: string }> {
    await this.clientById(clientId);
    const secret = newSecret('client_secret');
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      await tx.updateClient(clientId, { secretHash: hashSecret(secret) });
      await tx.insertEvent(securityEvent('client_secret_rotated', now, { clientId }));
    });
    return { client_id: clientId, client_secret: secret };
  }

  async setClientDisabled(clientId: string, disabled: boolean): Promise<void> {
    await this.clientById(clientId);
    await this.store.updateClient(clientId, { disabled });
  }
}
