/**
 * A Store decorator that tells an observer about each security event once it is durable: an
 * event written inside a transaction is held until that transaction commits, and forgotten if
 * it rolls back (or is retried). Only `events.create` is wrapped; every other aggregate is the
 * store's own object, so its methods need no forwarding.
 */
import type { EventFilter, EventPageFilter, EventStore, SecurityEvent, Store, StoreOps } from './store.ts';

/** Must not throw; a throw is swallowed (an observer never fails a write). */
export type EventObserver = (event: SecurityEvent) => void;

function report(observe: EventObserver, events: readonly SecurityEvent[]): void {
  for (const event of events) {
    try {
      observe(event);
    } catch {
      // The event is written; only its metric is lost.
    }
  }
}

/** Outside a transaction: each event is reported as soon as it is written. */
class ReportingEvents implements EventStore {
  private readonly inner: EventStore;
  private readonly observe: EventObserver;

  constructor(inner: EventStore, observe: EventObserver) {
    this.inner = inner;
    this.observe = observe;
  }

  async create(event: SecurityEvent): Promise<void> {
    await this.inner.create(event);
    report(this.observe, [event]);
  }

  list(filter: EventFilter): Promise<SecurityEvent[]> {
    return this.inner.list(filter);
  }

  prune(before: number, limit?: number): Promise<number> {
    return this.inner.prune(before, limit);
  }

  page(filter: EventPageFilter): Promise<SecurityEvent[]> {
    return this.inner.page(filter);
  }

  find(id: string): Promise<SecurityEvent | undefined> {
    return this.inner.find(id);
  }

  pseudonymize(userId: string, pseudonym: string): Promise<number> {
    return this.inner.pseudonymize(userId, pseudonym);
  }
}

/** Inside one transaction attempt: events are held until the caller knows it committed. */
class HeldEvents implements EventStore {
  readonly written: SecurityEvent[] = [];
  private readonly inner: EventStore;

  constructor(inner: EventStore) {
    this.inner = inner;
  }

  async create(event: SecurityEvent): Promise<void> {
    await this.inner.create(event);
    this.written.push(event);
  }

  list(filter: EventFilter): Promise<SecurityEvent[]> {
    return this.inner.list(filter);
  }

  prune(before: number, limit?: number): Promise<number> {
    return this.inner.prune(before, limit);
  }

  page(filter: EventPageFilter): Promise<SecurityEvent[]> {
    return this.inner.page(filter);
  }

  find(id: string): Promise<SecurityEvent | undefined> {
    return this.inner.find(id);
  }

  pseudonymize(userId: string, pseudonym: string): Promise<number> {
    return this.inner.pseudonymize(userId, pseudonym);
  }
}

/** `ops` with its events replaced. */
function withEvents(ops: StoreOps, events: EventStore): StoreOps {
  return {
    orgs: ops.orgs,
    users: ops.users,
    clients: ops.clients,
    sessions: ops.sessions,
    browserSessions: ops.browserSessions,
    tokens: ops.tokens,
    codes: ops.codes,
    idps: ops.idps,
    replay: ops.replay,
    samlRequests: ops.samlRequests,
    throttle: ops.throttle,
    serverSecrets: ops.serverSecrets,
    consoleSessions: ops.consoleSessions,
    signingKeys: ops.signingKeys,
    events,
  };
}

/** `store`, reporting committed security events to `observe`. */
export function observeEvents(store: Store, observe: EventObserver): Store {
  return {
    ...withEvents(store, new ReportingEvents(store.events, observe)),
    kind: store.kind,
    transaction: async <T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> => {
      let committed: readonly SecurityEvent[] = [];
      const result = await store.transaction(async (tx) => {
        // A fresh list per attempt: a driver may run fn again after a serialization failure.
        const events = new HeldEvents(tx.events);
        const value = await fn(withEvents(tx, events));
        committed = events.written;
        return value;
      });
      report(observe, committed);
      return result;
    },
    ping: () => store.ping(),
    close: () => store.close(),
    walFramesWritten: () => store.walFramesWritten(),
  };
}
