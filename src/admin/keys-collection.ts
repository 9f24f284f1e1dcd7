import { AdminError } from '../common/admin-error.ts';
import type { KeyService } from '../keys/key-service.ts';
import { requireFullAdmin } from './admin-actor.ts';
import { type Collection, checkQuery, notAllowed } from './collection.ts';
import { JsonInput } from './json-input.ts';

/**
 * `/admin/v1/keys` (contract §6 and §9): the signing keys — list, rotate (POST), retire (DELETE).
 * A handful of rows at most, so one page; full admins only.
 */
export function keysCollection(keys: KeyService): Collection {
  const find = async (kid: string) => {
    const key = (await keys.list()).find((k) => k.kid === kid);
    if (!key) throw new AdminError(`no signing key with kid ${kid}`, 'not_found');
    return key;
  };
  return {
    async list(call, query) {
      requireFullAdmin(call.actor);
      checkQuery(query, ['limit', 'cursor']);
      return { items: (await keys.list()).reverse(), next_cursor: null };
    },
    async get(call, kid) {
      requireFullAdmin(call.actor);
      return { body: await find(kid), version: 1 };
    },
    async create(call, body) {
      requireFullAdmin(call.actor);
      const input = new JsonInput(body ?? {}, ['alg', 'activate_in']);
      const made = await keys.rotate({ alg: input.optString('alg'), activateInSeconds: input.optInteger('activate_in') }, call.ctx);
      return { ...(await find(made.kid)), id: made.kid };
    },
    update: () => notAllowed('a signing key cannot be changed: rotate (POST) or retire (DELETE)'),
    async remove(call, kid, query) {
      requireFullAdmin(call.actor);
      checkQuery(query, []);
      await find(kid);
      await keys.retire(kid, call.ctx);
    },
  };
}
