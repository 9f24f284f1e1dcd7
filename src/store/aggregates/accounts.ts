/** Organizations and the users in them. */
import type { PageQuery } from './page.ts';

/** Contract §9: `admin` manages everything, `org-admin` only its organization. */
export type UserRole = 'admin' | 'org-admin';

export interface Org {
  id: string;
  name: string;
  maxSessions: number | null;
  createdAt: number;
  /** bumped by every admin change: the row's ETag (1 when absent) */
  version?: number;
}

export interface User {
  id: string;
  orgId: string;
  email: string;
  passwordHash: string | null;
  maxSessions: number | null;
  disabled: boolean;
  createdAt: number;
  /** contract §9 (null or absent: no admin rights) */
  role?: UserRole | null;
  /** bumped by every admin change: the row's ETag (1 when absent) */
  version?: number;
}

export interface OrgPatch {
  name?: string;
  maxSessions?: number | null;
}

export interface UserFilter extends PageQuery {
  orgId?: string;
  /** exact email (compared as the unique key is) */
  email?: string;
}

export interface UserPatch {
  passwordHash?: string | null;
  maxSessions?: number | null;
  disabled?: boolean;
  role?: UserRole | null;
}

export interface OrgStore {
  create(org: Org): Promise<void>;
  find(id: string): Promise<Org | undefined>;
  list(): Promise<Org[]>;
  update(id: string, patch: OrgPatch): Promise<boolean>;
  /** Newest first (keyset on created_at, id). */
  page(query: PageQuery): Promise<Org[]>;
  /**
   * The row-version compare-and-swap: bumps the version, only when it is still `expected` (when
   * given); false when the row is gone or was changed meanwhile.
   */
  bump(id: string, expected?: number): Promise<boolean>;
  countUsers(id: string): Promise<number>;
  /** Removes the row (its users and IdPs must be gone). */
  delete(id: string): Promise<boolean>;
}

export interface UserStore {
  /** Throws {@link StoreConflictError} when the email is taken (compared case-insensitively). */
  create(user: User): Promise<void>;
  find(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  list(orgId?: string): Promise<User[]>;
  update(id: string, patch: UserPatch): Promise<boolean>;
  /** Newest first (keyset on created_at, id). */
  page(filter: UserFilter): Promise<User[]>;
  /** The row-version compare-and-swap (see {@link OrgStore.bump}). */
  bump(id: string, expected?: number): Promise<boolean>;
  /** Enabled users with the role `admin`, except `exceptId`. */
  countAdmins(exceptId?: string): Promise<number>;
  /**
   * Erases the user: its sessions with their tokens, its authorization codes and its row. The
   * sessions must have been ended first (and their events written).
   */
  delete(id: string): Promise<boolean>;
  /**
   * Serializes session changes of one user across connections and processes (row lock on
   * PostgreSQL; SQLite's write lock is already held by the transaction). Call first inside a
   * transaction that counts and then starts sessions.
   */
  lock(id: string): Promise<void>;
}
