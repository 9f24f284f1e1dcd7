/** Password checks of one account ('account:<hash>') or one client IP ('ip:<address>'). */

export interface ThrottleState {
  key: string;
  /**
   * Attempts charged in the current window: failures, plus the attempts still being verified
   * (charged when they were let in), plus the successes an account holds until its run ends.
   */
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
  /** how many locks in a row: the backoff doubles with each */
  locks: number;
  /** attempts let in and not yet settled (their password is being verified) */
  inFlight: number;
  /** a failure has settled since `inFlight` was last 0 (the current run of overlapping attempts) */
  runFailed: boolean;
  /** when the latest attempt was let in: in-flight attempts older than the claim timeout are written off */
  claimedAt: number;
}

export interface ThrottleStore {
  find(key: string): Promise<ThrottleState | undefined>;
  /** Inside a transaction: the row for key (created empty if missing), locked until commit. */
  lock(key: string): Promise<ThrottleState>;
  save(state: ThrottleState): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Deletes the rows with no failure, lock or claim since `quietSince`. */
  prune(quietSince: number): Promise<number>;
}
