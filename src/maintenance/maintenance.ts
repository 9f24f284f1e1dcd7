import type { Clock } from '../clock.ts';
import type { Store } from '../store/store.ts';

const DAY_MS = 86_400_000;

export interface MaintenancePolicy {
  eventRetentionDays: number;
  /** throttle counters quiet for this long are forgotten */
  throttleWindowMs: number;
  /**
   * Days an ended or expired session (with its tokens) and an expired authorization code are kept
   * before they are deleted (SESSION_RETENTION_DAYS, default 7; 0 deletes them at the next run).
   */
  sessionRetentionDays?: number;
  /** rows deleted per transaction (default 200: see docs/operations.md for the pause it makes) */
  batchSize?: number;
}

export const DEFAULT_SESSION_RETENTION_DAYS = 7;
export const DEFAULT_PRUNE_BATCH = 200;

/** What one run deleted, and how long the store was held at most. */
export interface MaintenanceReport {
  sessions: number;
  /** contract §8: service clients' own tokens */
  serviceTokens: number;
  codes: number;
  events: number;
  samlReplay: number;
  /** pending browser sign-ins (AuthnRequests) past their 10 minutes */
  samlRequests: number;
  /** contract §11: browser sessions that ended or expired more than the retention ago */
  browserSessions: number;
  throttles: number;
  /** transactions the bounded deletes took */
  batches: number;
  /** the longest of them, milliseconds: the longest any request waited for pruning */
  longestBatchMs: number;
}

/**
 * Housekeeping that keeps the tables bounded: sessions that ended or expired more than the
 * retention ago, with their tokens; authorization codes expired as long ago (used or not); security
 * events past their retention; SAML replay entries past their assertion's expiry (an expired
 * assertion is refused anyway); login counters quiet for a whole window.
 *
 * The large tables are pruned in batches of `batchSize` rows, each its own short transaction,
 * yielding to the event loop between batches, until a batch comes back short: a backlog of
 * millions of rows (the first run after an upgrade) never holds SQLite's write lock, or a
 * PostgreSQL transaction, for longer than one batch. Safe to run on every instance at once, and
 * from `sei-auth db prune` while servers run.
 */
export async function runMaintenance(
  store: Store,
  clock: Clock,
  policy: MaintenancePolicy,
  /** stops between two batches (the server shutting down) */
  signal?: AbortSignal,
): Promise<MaintenanceReport> {
  const now = clock.now();
  const batchSize = policy.batchSize ?? DEFAULT_PRUNE_BATCH;
  const retainedSince = now - (policy.sessionRetentionDays ?? DEFAULT_SESSION_RETENTION_DAYS) * DAY_MS;
  let batches = 0;
  let longestBatchMs = 0;
  const inBatches = async (prune: (limit: number) => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      const started = performance.now();
      const deleted = await prune(batchSize);
      longestBatchMs = Math.max(longestBatchMs, performance.now() - started);
      batches++;
      total += deleted;
      if (deleted < batchSize || signal?.aborted) return total;
      // Let waiting requests run between two batches (SQLite statements run on the event loop).
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const sessions = await inBatches((limit) => store.transaction((tx) => tx.sessions.prune(retainedSince, limit)));
  const serviceTokens = await inBatches((limit) => store.tokens.pruneService(retainedSince, limit));
  const codes = await inBatches((limit) => store.codes.prune(retainedSince, limit));
  const events = await inBatches((limit) => store.events.prune(now - policy.eventRetentionDays * DAY_MS, limit));
  const browserSessions = await inBatches((limit) => store.browserSessions.prune(retainedSince, limit));
  return {
    sessions,
    serviceTokens,
    codes,
    events,
    samlReplay: await store.replay.prune(now),
    samlRequests: await inBatches((limit) => store.samlRequests.prune(now, limit)),
    browserSessions,
    throttles: await store.throttle.prune(now - policy.throttleWindowMs),
    batches,
    longestBatchMs: Math.round(longestBatchMs * 10) / 10,
  };
}

/** The maintenance run every face uses: the server's timer and `sei-auth db prune`. */
export class Maintenance {
  private readonly store: Store;
  private readonly clock: Clock;
  readonly policy: MaintenancePolicy;

  constructor(deps: { store: Store; clock: Clock; policy: MaintenancePolicy }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.policy = deps.policy;
  }

  run(signal?: AbortSignal): Promise<MaintenanceReport> {
    return runMaintenance(this.store, this.clock, this.policy, signal);
  }
}
