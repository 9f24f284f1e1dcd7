import { AdminError } from '../common/admin-error.ts';
import type { ChangeContext } from '../events/change-context.ts';

/**
 * Who calls the admin API (contract §9): a full admin (a user with the role `admin`, or a
 * service client whose token has the scope `admin`), or an organization's admin, who sees only
 * its organization's users, IdPs, sessions and events.
 */
export type AdminActor = { role: 'admin'; label: string } | { role: 'org-admin'; label: string; orgId: string };

/** The event context of a change made by `actor` in one request. */
export function changeBy(actor: AdminActor, request: { ip?: string; requestId?: string }): ChangeContext {
  return { actor: actor.label, ip: request.ip ?? null, requestId: request.requestId ?? null };
}

/** A collection or action only full admins may use. */
export function requireFullAdmin(actor: AdminActor): void {
  if (actor.role !== 'admin') throw new AdminError('only a full admin may do this; an org-admin manages its own organization', 'forbidden');
}

/**
 * An org-admin reaching a row of another organization learns nothing about it: 404, exactly as
 * for an id that does not exist, so other tenants' ids are never confirmed.
 */
export function requireInScope(actor: AdminActor, orgId: string, noun: string, id: string): void {
  if (actor.role === 'org-admin' && actor.orgId !== orgId) throw new AdminError(`no ${noun} with id ${id}`, 'not_found');
}

/** The organization a listing is limited to: the org-admin's own, or none for a full admin. */
export function orgScope(actor: AdminActor): string | undefined {
  return actor.role === 'org-admin' ? actor.orgId : undefined;
}
