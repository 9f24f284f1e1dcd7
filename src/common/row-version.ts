import { AdminError } from './admin-error.ts';

/**
 * The first write of an admin change: the row's version compare-and-swap (its ETag, RFC 9110
 * §13.1.1). It runs inside the change's transaction, so of two changes made with the same
 * If-Match exactly one commits; the other learns the row moved (412) or is gone (404).
 */
export async function claimRowVersion(
  row: { bump(id: string, expected?: number): Promise<boolean>; find(id: string): Promise<unknown> },
  id: string,
  expected: number | undefined,
  noun: string,
): Promise<void> {
  if (await row.bump(id, expected)) return;
  if ((await row.find(id)) !== undefined) {
    throw new AdminError(`the ${noun} ${id} was changed since it was read; read it again and retry`, 'precondition_failed');
  }
  throw new AdminError(`no ${noun} with id ${id}`, 'not_found');
}
