import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import type { ChangeContext } from '../events/change-context.ts';
import type { Session, SessionFilter, Store } from '../store/store.ts';
import { endSession } from './session-ending.ts';

/** Looking at and ending sessions on an operator's behalf. */
export class SessionService {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  listActive(userId: string): Promise<Session[]> {
    return this.store.sessions.listActive(userId, this.clock.now());
  }

  page(filter: SessionFilter): Promise<Session[]> {
    return this.store.sessions.page(filter);
  }

  async find(sessionId: string): Promise<Session> {
    const session = await this.store.sessions.find(sessionId);
    if (!session) throw new AdminError(`no session with id ${sessionId}`, 'not_found');
    return session;
  }

  /** Ends one session: all its tokens stop working at once. False when it had ended already. */
  async end(sessionId: string, ctx?: ChangeContext): Promise<boolean> {
    const session = await this.find(sessionId);
    const now = this.clock.now();
    const who = {
      userId: session.userId,
      clientId: session.clientId,
      ...(ctx ? { actor: ctx.actor, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null, target: `session:${sessionId}` } : {}),
    };
    return this.store.transaction((tx) => endSession(tx, sessionId, 'admin', now, who));
  }
}
