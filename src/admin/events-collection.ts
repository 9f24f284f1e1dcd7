import type { EventService } from '../events/event-service.ts';
import { orgScope, requireInScope } from './admin-actor.ts';
import { type Collection, checkQuery, notAllowed, parseTime } from './collection.ts';
import { pageOf } from './page-cursor.ts';
import { eventView } from './views.ts';

/** `/admin/v1/events`: the security event log, newest first, read-only (an admin cannot rewrite it). */
export function eventsCollection(events: EventService, inOrg: (userId: string | null, orgId: string) => Promise<boolean>): Collection {
  return {
    async list(call, query) {
      checkQuery(query, ['limit', 'cursor', 'type', 'user', 'client', 'ip', 'since']);
      const filter = {
        type: query.type,
        userId: query.user,
        clientId: query.client,
        ip: query.ip,
        since: parseTime('since', query.since),
        orgId: orgScope(call.actor),
      };
      return pageOf(
        query,
        (q) => events.page({ ...filter, ...q }),
        (e) => ({ at: e.at, id: e.id }),
        eventView,
      );
    },
    async get(call, id) {
      const event = await events.find(id);
      const own = orgScope(call.actor);
      if (own !== undefined && event.orgId !== own && !(await inOrg(event.userId, own))) requireInScope(call.actor, '', 'event', id);
      return { body: eventView(event), version: 1 };
    },
    create: () => notAllowed('events are written by the server'),
    update: () => notAllowed('events cannot be changed'),
    remove: () => notAllowed('events cannot be deleted; they are pruned after EVENT_RETENTION_DAYS'),
  };
}
