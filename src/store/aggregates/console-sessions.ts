/** The admin console's sign-ins and sessions (http/console/): rows every instance can read. */

export interface ConsoleSessionRow {
  /** SHA-256 of the cookie's random id: the row alone does not give the cookie */
  idHash: string;
  /** AES-256-GCM under a key derived from the cookie's id (crypto/token-sealing.ts) */
  sealed: string;
  /** the signed-in user; null while the sign-in is pending */
  userId: string | null;
  expiresAt: number;
  createdAt: number;
}

export interface ConsoleSessionStore {
  create(row: ConsoleSessionRow): Promise<void>;
  find(idHash: string): Promise<ConsoleSessionRow | undefined>;
  update(idHash: string, patch: { sealed: string; userId: string | null; expiresAt: number }): Promise<boolean>;
  delete(idHash: string): Promise<boolean>;
  /** Removes rows expired before `before`; how many. */
  prune(before: number): Promise<number>;
}
