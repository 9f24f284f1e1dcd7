import type { AccountService } from '../accounts/account-service.ts';
import type { Clock } from '../clock.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { orgScope, requireInScope } from './admin-actor.ts';
import { type AdminCall, type Collection, checkQuery, notAllowed } from './collection.ts';
import { pageOf } from './page-cursor.ts';
import { sessionView } from './views.ts';

/** `/admin/v1/sessions`: read and end (DELETE) sessions; they start only with a login. */
export function sessionsCollection(sessions: SessionService, accounts: AccountService, clock: Clock): Collection {
  const scoped = async (call: AdminCall, id: string) => {
    const session = await sessions.find(id);
    if (orgScope(call.actor) !== undefined) {
      const owner = await accounts.user(session.userId).catch(() => undefined);
      requireInScope(call.actor, owner?.orgId ?? '', 'session', id);
    }
    return session;
  };
  return {
    async list(call, query) {
      checkQuery(query, ['limit', 'cursor', 'user', 'active']);
      const activeAt = query.active === 'true' ? clock.now() : undefined;
      return pageOf(
        query,
        (q) => sessions.page({ userId: query.user, orgId: orgScope(call.actor), activeAt, ...q }),
        (s) => ({ at: s.startedAt, id: s.id }),
        (s) => sessionView(s, clock.now()),
      );
    },
    async get(call, id) {
      const session = await scoped(call, id);
      // A session never changes but by ending: its end time is its version.
      return { body: sessionView(session, clock.now()), version: session.endedAt === null ? 1 : 2 };
    },
    create: () => notAllowed('sessions start with a login (POST /oauth/token), not through the admin API'),
    update: () => notAllowed('a session can only be ended: DELETE /admin/v1/sessions/{id}'),
    async remove(call, id, query) {
      checkQuery(query, []);
      await scoped(call, id);
      await sessions.end(id, call.ctx);
    },
  };
}
