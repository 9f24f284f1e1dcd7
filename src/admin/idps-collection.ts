import { AdminError } from '../common/admin-error.ts';
import type { IdpService } from '../idps/idp-service.ts';
import { DEFAULT_ORG_ID } from '../store/migrations.ts';
import type { Idp } from '../store/store.ts';
import { orgScope, requireInScope } from './admin-actor.ts';
import { type AdminCall, type Collection, checkQuery } from './collection.ts';
import { JsonInput } from './json-input.ts';
import { pageOf } from './page-cursor.ts';

/** `/admin/v1/idps`: an org-admin registers and manages its own organization's IdPs only. */
export function idpsCollection(idps: IdpService): Collection {
  const scoped = async (call: AdminCall, id: string): Promise<Idp> => {
    const idp = await idps.byId(id);
    requireInScope(call.actor, idp.orgId, 'identity provider', id);
    return idp;
  };
  return {
    async list(call, query) {
      checkQuery(query, ['limit', 'cursor', 'org']);
      const own = orgScope(call.actor);
      if (own !== undefined && query.org !== undefined && query.org !== own) return { items: [], next_cursor: null };
      return pageOf(
        query,
        (q) => idps.page({ orgId: own ?? query.org, ...q }),
        (i) => ({ at: i.createdAt, id: i.id }),
        (i) => idps.view(i),
      );
    },
    async get(call, id) {
      const idp = await scoped(call, id);
      return { body: await idps.view(idp), version: idp.version ?? 1 };
    },
    async create(call, body) {
      const input = new JsonInput(body, ['org', 'entity_id', 'certificates', 'metadata', 'sso_url', 'domains', 'jit']);
      const own = orgScope(call.actor);
      const orgId = input.optString('org') ?? own ?? DEFAULT_ORG_ID;
      if (own !== undefined && orgId !== own) throw new AdminError(`no organization with id ${orgId}`, 'not_found');
      const metadata = input.optString('metadata');
      const common = { orgId, jit: input.optBoolean('jit'), domains: input.optStringArray('domains') };
      let created: { id: string };
      if (metadata !== undefined) {
        if (input.has('entity_id') || input.has('certificates') || input.has('sso_url')) {
          throw new AdminError('give metadata, or entity_id with certificates (and sso_url), not both');
        }
        created = await idps.createFromMetadata({ ...common, metadataXml: metadata }, call.ctx);
      } else {
        created = await idps.create(
          {
            ...common,
            entityId: input.string('entity_id'),
            certPems: input.optStringArray('certificates') ?? [],
            ssoUrl: input.optString('sso_url'),
          },
          call.ctx,
        );
      }
      return idps.view(await idps.byId(created.id));
    },
    async update(call, id, body, ifVersion) {
      const input = new JsonInput(body, ['jit', 'sso_url', 'domains', 'certificates']);
      await scoped(call, id);
      const idp = await idps.update(
        id,
        {
          jit: input.optBoolean('jit'),
          ssoUrl: input.optNullableString('sso_url'),
          domains: input.optStringArray('domains'),
          certificates: input.optStringArray('certificates'),
        },
        call.ctx,
        ifVersion,
      );
      return { body: await idps.view(idp), version: idp.version ?? 1 };
    },
    async remove(call, id, query, ifVersion) {
      checkQuery(query, []);
      await scoped(call, id);
      await idps.delete(id, call.ctx, ifVersion);
    },
  };
}
