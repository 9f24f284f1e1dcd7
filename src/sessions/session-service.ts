import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import type { Session, Store } from '../store/store.ts';
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

  /** Ends one session: all its tokens stop working at once. */
  async end(sessionId: string): Promise<void> {
    const session = await this.store.sessions.find(sessionId);
    if (!session) throw new AdminError(`no session with id ${sessionId}`);
    const now = this.clock.now();
    await this.store.transaction((tx) => endSession(tx, sessionId, 'admin', now, { userId: session.userId, clientId: session.clientId }));
  }
}
