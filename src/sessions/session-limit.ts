import type { StoreOps, User } from '../store/store.ts';

/** Contract §2: a user's own limit overrides its organization's; null means unlimited. */
export async function sessionLimit(store: StoreOps, user: User): Promise<number | null> {
  if (user.maxSessions !== null) return user.maxSessions;
  return (await store.orgs.find(user.orgId))?.maxSessions ?? null;
}
