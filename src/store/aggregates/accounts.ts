/** Organizations and the users in them. */

export interface Org {
  id: string;
  name: string;
  maxSessions: number | null;
  createdAt: number;
}

export interface User {
  id: string;
  orgId: string;
  email: string;
  passwordHash: string | null;
  maxSessions: number | null;
  disabled: boolean;
  createdAt: number;
}

export interface OrgPatch {
  maxSessions?: number | null;
}

export interface UserPatch {
  passwordHash?: string | null;
  maxSessions?: number | null;
  disabled?: boolean;
}

export interface OrgStore {
  create(org: Org): Promise<void>;
  find(id: string): Promise<Org | undefined>;
  list(): Promise<Org[]>;
  update(id: string, patch: OrgPatch): Promise<boolean>;
}

export interface UserStore {
  /** Throws {@link StoreConflictError} when the email is taken (compared case-insensitively). */
  create(user: User): Promise<void>;
  find(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  list(orgId?: string): Promise<User[]>;
  update(id: string, patch: UserPatch): Promise<boolean>;
  /**
   * Serializes session changes of one user across connections and processes (row lock on
   * PostgreSQL; SQLite's write lock is already held by the transaction). Call first inside a
   * transaction that counts and then starts sessions.
   */
  lock(id: string): Promise<void>;
}
