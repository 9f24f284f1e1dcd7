import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { claimRowVersion } from '../common/row-version.ts';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../crypto/passwords.ts';
import { newId } from '../crypto/secrets.ts';
import type { ChangeContext } from '../events/change-context.ts';
import { securityEvent } from '../events/security-event.ts';
import { endSessionsOfUser } from '../sessions/session-ending.ts';
import { DEFAULT_ORG_ID } from '../store/migrations.ts';
import {
  type Org,
  type PageQuery,
  type Store,
  StoreConflictError,
  type StoreOps,
  type User,
  type UserFilter,
  type UserRole,
} from '../store/store.ts';
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

export function checkRole(value: unknown): UserRole | null {
  if (value === null || value === 'none') return null;
  if (value === 'admin' || value === 'org-admin') return value;
  throw new AdminError('role must be admin, org-admin or none');
}

/** The event fields of an admin change. */
const by = (ctx: ChangeContext) => ({ actor: ctx.actor, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null });

export interface OrgChange {
  name?: string;
  maxSessions?: number | null;
}

export interface UserChange {
  maxSessions?: number | null;
  disabled?: boolean;
  role?: UserRole | null;
}

/** Organizations and their users: creation, settings, passwords, disabling, erasure. */
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

  orgPage(query: PageQuery): Promise<Org[]> {
    return this.store.orgs.page(query);
  }

  async org(id: string): Promise<Org> {
    const org = await this.store.orgs.find(id);
    if (!org) throw new AdminError(`no organization with id ${id}`, 'not_found');
    return org;
  }

  async createOrg(input: { name: string; maxSessions?: number | null }, ctx?: ChangeContext): Promise<{ id: string }> {
    if (!input.name.trim()) throw new AdminError('--name must not be empty');
    const id = newId('org_');
    const now = this.clock.now();
    const org: Org = { id, name: input.name.trim(), maxSessions: checkMaxSessions(input.maxSessions), createdAt: now };
    await this.store.transaction(async (tx) => {
      await tx.orgs.create(org);
      if (ctx) await tx.events.create(securityEvent('org_created', now, { ...by(ctx), target: `org:${id}`, orgId: id }));
    });
    return { id };
  }

  async setOrgMaxSessions(orgId: string, maxSessions: number | null, ctx?: ChangeContext): Promise<void> {
    if (ctx) {
      await this.updateOrg(orgId, { maxSessions }, ctx);
      return;
    }
    if (!(await this.store.orgs.update(orgId, { maxSessions: checkMaxSessions(maxSessions) }))) {
      throw new AdminError(`no organization with id ${orgId}`, 'not_found');
    }
  }

  /** Changes an organization's settings; `ifVersion` is the ETag the change was made on. */
  async updateOrg(id: string, change: OrgChange, ctx: ChangeContext, ifVersion?: number): Promise<Org> {
    const name = change.name?.trim();
    if (name !== undefined && !name) throw new AdminError('name must not be empty');
    const maxSessions = change.maxSessions === undefined ? undefined : checkMaxSessions(change.maxSessions);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await claimRowVersion(tx.orgs, id, ifVersion, 'organization');
      await tx.orgs.update(id, { name, maxSessions });
      await tx.events.create(securityEvent('org_updated', now, { ...by(ctx), target: `org:${id}`, orgId: id }));
      return (await tx.orgs.find(id))!;
    });
  }

  /**
   * Deletes an organization. One with users is refused unless `cascade`, which erases its users
   * (as {@link deleteUser} does) and its IdPs first. The default organization always stays.
   */
  async deleteOrg(id: string, options: { cascade?: boolean }, ctx: ChangeContext, ifVersion?: number): Promise<{ erasedUsers: number }> {
    if (id === DEFAULT_ORG_ID) throw new AdminError('the default organization cannot be deleted', 'conflict');
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await claimRowVersion(tx.orgs, id, ifVersion, 'organization');
      const users = await tx.users.list(id);
      if (users.length > 0 && !options.cascade) {
        throw new AdminError(
          `the organization has ${users.length} users; delete them first, or pass cascade=true to erase them`,
          'conflict',
        );
      }
      const adminsBefore = await tx.users.countAdmins();
      for (const user of users) await eraseUser(tx, user, now, ctx);
      if (adminsBefore > 0 && (await tx.users.countAdmins()) === 0) {
        throw new AdminError('this would erase the last full admin; make another user admin first', 'conflict');
      }
      for (const idp of await tx.idps.page({ orgId: id, limit: 10_000 })) {
        await tx.idps.delete(idp.id);
        await tx.events.create(securityEvent('idp_deleted', now, { ...by(ctx), target: `idp:${idp.id}`, orgId: id }));
      }
      await tx.orgs.delete(id);
      await tx.events.create(
        securityEvent('org_deleted', now, { ...by(ctx), target: `org:${id}`, orgId: id, reason: users.length ? 'cascade' : null }),
      );
      return { erasedUsers: users.length };
    });
  }

  userPage(filter: UserFilter): Promise<User[]> {
    return this.store.users.page(filter);
  }

  async user(id: string): Promise<User> {
    const user = await this.store.users.find(id);
    if (!user) throw new AdminError(`no user with id ${id}`, 'not_found');
    return user;
  }

  async createUser(
    input: {
      email: string;
      orgId?: string;
      maxSessions?: number | null;
      password?: string;
      role?: UserRole | null;
    },
    ctx?: ChangeContext,
  ): Promise<{ id: string; email: string }> {
    let email: string;
    try {
      email = checkNewEmail(input.email);
    } catch (error) {
      if (error instanceof EmailRefused) throw new AdminError(`not a valid email address: ${input.email.trim()}: ${error.message}`);
      throw error;
    }
    const orgId = input.orgId ?? DEFAULT_ORG_ID;
    if (!(await this.store.orgs.find(orgId))) throw new AdminError(`no organization with id ${orgId}`, 'not_found');
    if (input.password !== undefined) checkPassword(input.password);
    const role = input.role === undefined ? null : checkRole(input.role);
    const user: User = {
      id: newId('usr_'),
      orgId,
      email,
      passwordHash: input.password === undefined ? null : await hashPassword(input.password),
      maxSessions: checkMaxSessions(input.maxSessions),
      disabled: false,
      createdAt: this.clock.now(),
      role,
    };
    try {
      await this.store.transaction(async (tx) => {
        await tx.users.create(user);
        if (ctx) {
          const fields = { ...by(ctx), target: `user:${user.id}`, userId: user.id, orgId, reason: role ? `role=${role}` : null };
          await tx.events.create(securityEvent('user_created', user.createdAt, fields));
        }
      });
    } catch (error) {
      if (error instanceof StoreConflictError) throw new AdminError(`a user with the email ${email} already exists`);
      throw error;
    }
    return { id: user.id, email: user.email };
  }

  async userByEmail(email: string): Promise<User> {
    const user = await this.store.users.findByEmail(email);
    if (!user) throw new AdminError(`no user with the email ${email}`, 'not_found');
    return user;
  }

  /**
   * A new password ends the user's sessions (whoever knew the old one keeps no access through
   * tokens obtained with it) unless `keepSessions`; recorded as `password_changed` either way.
   */
  async setPassword(
    email: string,
    password: string,
    options: { keepSessions?: boolean } = {},
    ctx?: ChangeContext,
  ): Promise<{ endedSessions: number }> {
    return this.setPasswordOf(await this.userByEmail(email), password, options, ctx);
  }

  /** {@link setPassword} by user id (the admin API's `PUT /users/{id}/password`). */
  async setPasswordById(
    id: string,
    password: string,
    options: { keepSessions?: boolean },
    ctx: ChangeContext,
  ): Promise<{ endedSessions: number }> {
    return this.setPasswordOf(await this.user(id), password, options, ctx);
  }

  private async setPasswordOf(
    user: User,
    password: string,
    options: { keepSessions?: boolean },
    ctx?: ChangeContext,
  ): Promise<{ endedSessions: number }> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    const now = this.clock.now();
    const who = { userId: user.id, email: user.email, ...(ctx ? { ...by(ctx), target: `user:${user.id}`, orgId: user.orgId } : {}) };
    return this.store.transaction(async (tx) => {
      // The user's lock orders this against a login of the same user being issued right now.
      await tx.users.lock(user.id);
      if (!(await tx.users.update(user.id, { passwordHash }))) throw new AdminError(`no user with id ${user.id}`, 'not_found');
      await tx.users.bump(user.id);
      await tx.events.create(securityEvent('password_changed', now, { ...who, reason: options.keepSessions ? 'sessions_kept' : null }));
      if (options.keepSessions) return { endedSessions: 0 };
      const ended = await endSessionsOfUser(tx, user.id, 'password_changed', now, who);
      return { endedSessions: ended.length };
    });
  }

  /**
   * Changes a user's settings and role; disabling ends its sessions. The last enabled full admin
   * can be neither demoted nor disabled (nobody could administer the server over HTTP any more).
   */
  async updateUser(id: string, change: UserChange, ctx: ChangeContext, ifVersion?: number): Promise<User> {
    const maxSessions = change.maxSessions === undefined ? undefined : checkMaxSessions(change.maxSessions);
    const role = change.role === undefined ? undefined : checkRole(change.role);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.users.lock(id);
      await claimRowVersion(tx.users, id, ifVersion, 'user');
      const before = (await tx.users.find(id))!;
      const losesAdmin =
        before.role === 'admin' && !before.disabled && ((role !== undefined && role !== 'admin') || change.disabled === true);
      if (losesAdmin && (await tx.users.countAdmins(id)) === 0) {
        throw new AdminError('this is the last full admin; make another user admin first', 'conflict');
      }
      await tx.users.update(id, { maxSessions, disabled: change.disabled, role });
      const changed = [
        maxSessions !== undefined ? 'max_sessions' : '',
        change.disabled !== undefined ? `disabled=${change.disabled}` : '',
        role !== undefined ? `role=${role ?? 'none'}` : '',
      ].filter(Boolean);
      const who = { ...by(ctx), target: `user:${id}`, userId: id, orgId: before.orgId };
      await tx.events.create(securityEvent('user_updated', now, { ...who, reason: changed.join(' ') || null }));
      if (change.disabled === true && !before.disabled)
        await endSessionsOfUser(tx, id, 'user_disabled', now, { ...who, email: before.email });
      return (await tx.users.find(id))!;
    });
  }

  /**
   * Erases a user: its sessions end (their tokens die), its row is deleted, and its past events
   * keep only a pseudonymous id (no email). The last full admin cannot be erased.
   */
  async deleteUser(id: string, ctx: ChangeContext, ifVersion?: number): Promise<{ endedSessions: number }> {
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.users.lock(id);
      await claimRowVersion(tx.users, id, ifVersion, 'user');
      const user = (await tx.users.find(id))!;
      if (user.role === 'admin' && !user.disabled && (await tx.users.countAdmins(id)) === 0) {
        throw new AdminError('this is the last full admin; make another user admin first', 'conflict');
      }
      return { endedSessions: await eraseUser(tx, user, now, ctx) };
    });
  }

  /** Ends every session of a user (`DELETE /users/{id}/sessions`, `user end-sessions`). */
  async endSessions(id: string, ctx: ChangeContext): Promise<{ endedSessions: number }> {
    const user = await this.user(id);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.users.lock(id);
      const ended = await endSessionsOfUser(tx, id, 'admin', now, { ...by(ctx), target: `user:${id}`, orgId: user.orgId });
      return { endedSessions: ended.length };
    });
  }

  async setUserMaxSessions(email: string, maxSessions: number | null, ctx?: ChangeContext): Promise<void> {
    const user = await this.userByEmail(email);
    if (ctx) {
      await this.updateUser(user.id, { maxSessions }, ctx);
      return;
    }
    await this.store.users.update(user.id, { maxSessions: checkMaxSessions(maxSessions) });
  }

  /** Disabling a user also ends every session it holds: its tokens stop working at once. */
  async setUserDisabled(email: string, disabled: boolean, ctx?: ChangeContext): Promise<{ endedSessions: number }> {
    const user = await this.userByEmail(email);
    if (ctx) {
      const active = (await this.store.sessions.listActive(user.id, this.clock.now())).length;
      await this.updateUser(user.id, { disabled }, ctx);
      return { endedSessions: disabled && !user.disabled ? active : 0 };
    }
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      await tx.users.update(user.id, { disabled });
      if (!disabled) return { endedSessions: 0 };
      const ended = await endSessionsOfUser(tx, user.id, 'user_disabled', now, { email: user.email });
      return { endedSessions: ended.length };
    });
  }
}

/**
 * Erasure inside the caller's transaction: sessions end with their events (tokens die), the
 * user's past events keep a pseudonymous id, the row goes. Returns how many sessions ended.
 */
async function eraseUser(tx: StoreOps, user: User, now: number, ctx: ChangeContext): Promise<number> {
  const who = { ...by(ctx), orgId: user.orgId };
  const ended = await endSessionsOfUser(tx, user.id, 'admin', now, who);
  // A random pseudonym: the erased user's events still group together, but nothing links them back.
  const pseudonym = newId('erased_');
  await tx.events.pseudonymize(user.id, pseudonym);
  await tx.users.delete(user.id);
  await tx.events.create(securityEvent('user_deleted', now, { ...who, target: `user:${pseudonym}`, userId: pseudonym }));
  return ended.length;
}
