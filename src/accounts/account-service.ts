import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../crypto/passwords.ts';
import { newId } from '../crypto/secrets.ts';
import { securityEvent } from '../events/security-event.ts';
import { endSessionsOfUser } from '../sessions/session-ending.ts';
import { DEFAULT_ORG_ID } from '../store/migrations.ts';
import { type Org, type Store, StoreConflictError, type User } from '../store/store.ts';
import { checkNewEmail, EmailRefused } from './email.ts';

function checkMaxSessions(value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > 100_000) throw new AdminError('--max-sessions must be a whole number of at least 1');
  return value;
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new AdminError('the password must be at least 8 characters');
  if (password.length > MAX_PASSWORD_LENGTH) throw new AdminError(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** Organizations and their users: creation, settings, passwords, disabling. */
export class AccountService {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  listOrgs(): Promise<Org[]> {
    return this.store.orgs.list();
  }

  listUsers(orgId?: string): Promise<User[]> {
    return this.store.users.list(orgId);
  }

  async createOrg(input: { name: string; maxSessions?: number | null }): Promise<{ id: string }> {
    if (!input.name.trim()) throw new AdminError('--name must not be empty');
    const id = newId('org_');
    await this.store.orgs.create({
      id,
      name: input.name.trim(),
      maxSessions: checkMaxSessions(input.maxSessions),
      createdAt: this.clock.now(),
    });
    return { id };
  }

  async setOrgMaxSessions(orgId: string, maxSessions: number | null): Promise<void> {
    if (!(await this.store.orgs.update(orgId, { maxSessions: checkMaxSessions(maxSessions) }))) {
      throw new AdminError(`no organization with id ${orgId}`);
    }
  }

  async createUser(input: {
    email: string;
    orgId?: string;
    maxSessions?: number | null;
    password?: string;
  }): Promise<{ id: string; email: string }> {
    let email: string;
    try {
      email = checkNewEmail(input.email);
    } catch (error) {
      if (error instanceof EmailRefused) throw new AdminError(`not a valid email address: ${input.email.trim()}: ${error.message}`);
      throw error;
    }
    const orgId = input.orgId ?? DEFAULT_ORG_ID;
    if (!(await this.store.orgs.find(orgId))) throw new AdminError(`no organization with id ${orgId}`);
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
      await this.store.users.create(user);
    } catch (error) {
      if (error instanceof StoreConflictError) throw new AdminError(`a user with the email ${email} already exists`);
      throw error;
    }
    return { id: user.id, email: user.email };
  }

  async userByEmail(email: string): Promise<User> {
    const user = await this.store.users.findByEmail(email);
    if (!user) throw new AdminError(`no user with the email ${email}`);
    return user;
  }

  /**
   * A new password ends the user's sessions (whoever knew the old one keeps no access through
   * tokens obtained with it) unless `keepSessions`; recorded as `password_changed` either way.
   */
  async setPassword(email: string, password: string, options: { keepSessions?: boolean } = {}): Promise<{ endedSessions: number }> {
    checkPassword(password);
    const user = await this.userByEmail(email);
    const passwordHash = await hashPassword(password);
    const now = this.clock.now();
    const who = { userId: user.id, email: user.email };
    return this.store.transaction(async (tx) => {
      // The user's lock orders this against a login of the same user being issued right now.
      await tx.users.lock(user.id);
      await tx.users.update(user.id, { passwordHash });
      await tx.events.create(securityEvent('password_changed', now, { ...who, reason: options.keepSessions ? 'sessions_kept' : null }));
      if (options.keepSessions) return { endedSessions: 0 };
      const ended = await endSessionsOfUser(tx, user.id, 'password_changed', now, who);
      return { endedSessions: ended.length };
    });
  }

  async setUserMaxSessions(email: string, maxSessions: number | null): Promise<void> {
    const user = await this.userByEmail(email);
    await this.store.users.update(user.id, { maxSessions: checkMaxSessions(maxSessions) });
  }

  /** Disabling a user also ends every session it holds: its tokens stop working at once. */
  async setUserDisabled(email: string, disabled: boolean): Promise<{ endedSessions: number }> {
    const user = await this.userByEmail(email);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.users.update(user.id, { disabled });
      if (!disabled) return { endedSessions: 0 };
      const ended = await endSessionsOfUser(tx, user.id, 'user_disabled', now, { email: user.email });
      return { endedSessions: ended.length };
    });
  }
}
