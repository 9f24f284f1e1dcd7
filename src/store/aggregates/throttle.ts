/** Failed password checks of one account ('account:<hash>') or one client IP ('ip:<address>'). */

export interface ThrottleState {
  key: string;
  /** failures in the current window (reset by a success for accounts, and after a quiet window) */
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
  /** how many locks in a row: the backoff doubles with each */
  locks: number;
}

export interface ThrottleStore {
  find(key: string): Promise<ThrottleState | undefined>;
  /** Inside a transaction: the row for key (created empty if missing), locked until commit. */
  lock(key: string): Promise<ThrottleState>;
  save(state: ThrottleState): Promise<void>;
  delete(key: string): Promise<boolean>;
  prune(quietSince: number): Promise<number>;
}
