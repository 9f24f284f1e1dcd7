import { type AccountService, checkRole } from '../accounts/account-service.ts';
import { AdminError } from '../common/admin-error.ts';
import { DEFAULT_ORG_ID } from '../store/migrations.ts';
import type { User } from '../store/store.ts';
import { type AdminActor, orgScope, requireInScope } from './admin-actor.ts';
import { type AdminCall, type Collection, checkQuery } from './collection.ts';
import { JsonInput } from './json-input.ts';
import { pageOf } from './page-cursor.ts';
import { userView } from './views.ts';

/** An org-admin may hand out `org-admin` inside its organization, never `admin`. */
function checkGrantable(actor: AdminActor, role: unknown): void {
  if (actor.role === 'org-admin' && checkRole(role) === 'admin')
    throw new AdminError('only a full admin may grant the role admin', 'forbidden');
}

/** `/admin/v1/users` (and the user actions in admin-actions.ts): an org-admin sees only its organization's users. */
export function usersCollection(accounts: AccountService): Collection & { changeable(call: AdminCall, id: string): Promise<User> } {
  const scoped = async (call: AdminCall, id: string) => {
    const user = await accounts.user(id);
    requireInScope(call.actor, user.orgId, 'user', id);
    return user;
  };
  /** A change to a user: an org-admin may read a full admin of its organization, never change one. */
  const changeable = async (call: AdminCall, id: string) => {
    const user = await scoped(call, id);
    if (call.actor.role === 'org-admin' && user.role === 'admin')
      throw new AdminError('only a full admin may change a full admin', 'forbidden');
    return user;
  };
  return {
    changeable,
    async list(call, query) {
      checkQuery(query, ['limit', 'cursor', 'email', 'org']);
      const own = orgScope(call.actor);
      // An org-admin asking for another organization gets an empty page, as for an unknown one.
      if (own !== undefined && query.org !== undefined && query.org !== own) return { items: [], next_cursor: null };
      const filter = { orgId: own ?? query.org, email: query.email };
      return pageOf(
        query,
        (q) => accounts.userPage({ ...filter, ...q }),
        (u) => ({ at: u.createdAt, id: u.id }),
        userView,
      );
    },
    async get(call, id) {
      const user = await scoped(call, id);
      return { body: userView(user), version: user.version ?? 1 };
    },
    async create(call, body) {
      const input = new JsonInput(body, ['email', 'org', 'max_sessions', 'password', 'role']);
      const own = orgScope(call.actor);
      const orgId = input.optString('org') ?? own ?? DEFAULT_ORG_ID;
      if (own !== undefined && orgId !== own) throw new AdminError(`no organization with id ${orgId}`, 'not_found');
      if (input.has('role')) checkGrantable(call.actor, input.optNullableString('role'));
      const { id } = await accounts.createUser(
        {
          email: input.string('email'),
          orgId,
          maxSessions: input.optNullableInteger('max_sessions'),
          password: input.optString('password'),
          role: input.has('role') ? checkRole(input.optNullableString('role')) : null,
        },
        call.ctx,
      );
      return userView(await accounts.user(id));
    },
    async update(call, id, body, ifVersion) {
      const input = new JsonInput(body, ['max_sessions', 'disabled', 'role']);
      const user = await scoped(call, id);
      if (input.has('role')) {
        checkGrantable(call.actor, input.optNullableString('role'));
        // Nor may it take the role away from a full admin of its organization.
        if (call.actor.role === 'org-admin' && user.role === 'admin')
          throw new AdminError('only a full admin may change a full admin', 'forbidden');
      }
      const updated = await accounts.updateUser(
        id,
        {
          maxSessions: input.optNullableInteger('max_sessions'),
          disabled: input.optBoolean('disabled'),
          role: input.has('role') ? checkRole(input.optNullableString('role')) : undefined,
        },
        call.ctx,
        ifVersion,
      );
      return { body: userView(updated), version: updated.version ?? 1 };
    },
    async remove(call, id, query, ifVersion) {
      checkQuery(query, []);
      const user = await scoped(call, id);
      if (call.actor.role === 'org-admin' && user.role === 'admin')
        throw new AdminError('only a full admin may erase a full admin', 'forbidden');
      await accounts.deleteUser(id, call.ctx, ifVersion);
    },
  };
}
