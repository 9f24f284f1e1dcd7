/**
 * A Store decorator that tells an observer about each security event once it is durable: an
 * event written inside a transaction is held until that transaction commits, and forgotten if
 * it rolls back (or is retried). Every other method passes through unchanged, so code that
 * writes events needs no change and new store methods need no forwarding.
 */
import type { SecurityEvent, Store, StoreOps } from './store.ts';

/** Must not throw; a throw is swallowed (an observer never fails a write). */
export type EventObserver = (event: SecurityEvent) => void;

function passThrough<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  // Bound methods are made once per method, not on every call (issue #8 profile: a bind per store call).
  const bound = new Map<PropertyKey, { fn: unknown; bound: unknown }>();
  return new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property as keyof T];
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const cached = bound.get(property);
      if (cached && cached.fn === value) return cached.bound;
      const fn = (value as (...args: unknown[]) => unknown).bind(object);
      bound.set(property, { fn: value, bound: fn });
      return fn;
    },
  });
}

/** `store`, reporting committed security events to `observe`. */
export function observeEvents(store: Store, observe: EventObserver): Store {
  const notify = (events: readonly SecurityEvent[]) => {
    for (const event of events) {
      try {
        observe(event);
      } catch {
        // The event is written; only its metric is lost.
      }
    }
  };
  const collecting = (tx: StoreOps, pending: SecurityEvent[]): StoreOps =>
    passThrough<StoreOps>(tx, {
      insertEvent: async (event: SecurityEvent) => {
        await tx.insertEvent(event);
        pending.push(event);
      },
    });

  return passThrough<Store>(store, {
    insertEvent: async (event: SecurityEvent) => {
      await store.insertEvent(event);
      notify([event]);
    },
    transaction: async <T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> => {
      let committed: SecurityEvent[] = [];
      const result = await store.transaction(async (tx) => {
        // A fresh list per attempt: a driver may run fn again after a serialization failure.
        const pending: SecurityEvent[] = [];
        const value = await fn(collecting(tx, pending));
        committed = pending;
        return value;
      });
      notify(committed);
      return result;
    },
  });
}
