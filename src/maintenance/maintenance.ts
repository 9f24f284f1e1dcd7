import type { Clock } from '../clock.ts';
import type { Store } from '../store/store.ts';

export interface MaintenancePolicy {
  eventRetentionDays: number;
  /** throttle counters quiet for this long are forgotten */
  throttleWindowMs: number;
}

/**
 * Housekeeping that keeps the tables bounded: security events past their retention, SAML replay
 * entries past their assertion's expiry (an expired assertion is refused anyway), and login
 * counters that have been quiet for a whole window. Safe to run on every instance at once.
 */
export async function runMaintenance(store: Store, clock: Clock, policy: MaintenancePolicy): Promise<Record<string, number>> {
  const now = clock.now();
  return {
    events: await store.events.prune(now - policy.eventRetentionDays * 86_400_000),
    samlReplay: await store.replay.prune(now),
    throttles: await store.throttle.prune(now - policy.throttleWindowMs),
  };
}
