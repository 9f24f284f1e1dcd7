import type { AccountService } from '../accounts/account-service.ts';
import { AdminError } from '../common/admin-error.ts';
import { orgScope, requireFullAdmin, requireInScope } from './admin-actor.ts';
import { type AdminCall, type Collection, checkQuery, type Query } from './collection.ts';
import { JsonInput } from './json-input.ts';
import { pageOf } from './page-cursor.ts';
import { orgView } from './views.ts';

const FIELDS = ['name', 'max_sessions'] as const;

/** `/admin/v1/orgs`: full admins manage organizations; an org-admin reads its own. */
export function orgsCollection(accounts: AccountService): Collection {
  const get = async (call: AdminCall, id: string) => {
    const org = await accounts.org(id);
    requireInScope(call.actor, org.id, 'organization', id);
    return { body: orgView(org), version: org.version ?? 1 };
  };
  return {
    async list(call, query: Query) {
      checkQuery(query, ['limit', 'cursor']);
      const own = orgScope(call.actor);
      if (own !== undefined) return { items: [(await get(call, own)).body], next_cursor: null };
      return pageOf(
        query,
        (q) => accounts.orgPage(q),
        (o) => ({ at: o.createdAt, id: o.id }),
        orgView,
      );
    },
    get,
    async create(call, body) {
      requireFullAdmin(call.actor);
      const input = new JsonInput(body, FIELDS);
      const { id } = await accounts.createOrg(
        { name: input.string('name'), maxSessions: input.optNullableInteger('max_sessions') },
        call.ctx,
      );
      return orgView(await accounts.org(id));
    },
    async update(call, id, body, ifVersion) {
      requireFullAdmin(call.actor);
      const input = new JsonInput(body, FIELDS);
      const org = await accounts.updateOrg(
        id,
        { name: input.optString('name'), maxSessions: input.optNullableInteger('max_sessions') },
        call.ctx,
        ifVersion,
      );
      return { body: orgView(org), version: org.version ?? 1 };
    },
    async remove(call, id, query, ifVersion) {
      requireFullAdmin(call.actor);
      checkQuery(query, ['cascade']);
      if (query.cascade !== undefined && query.cascade !== 'true' && query.cascade !== 'false')
        throw new AdminError('cascade must be true or false');
      await accounts.deleteOrg(id, { cascade: query.cascade === 'true' }, call.ctx, ifVersion);
    },
  };
}
