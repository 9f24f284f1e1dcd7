/**
 * Who makes an administrative change, and from where: every change through the CLI or the admin
 * API writes a security event naming it (contract §9).
 */
export interface ChangeContext {
  /** 'cli', 'user:usr_…' or 'client:cl_…' */
  actor: string;
  ip?: string | null;
  requestId?: string | null;
}

/** The CLI's changes: a shell on the server and the database, no token. */
export const CLI_CHANGE: ChangeContext = Object.freeze({ actor: 'cli' });

/** The event fields of a change. */
export function changeFields(ctx: ChangeContext): { actor: string; ip: string | null; requestId: string | null } {
  return { actor: ctx.actor, ip: ctx.ip ?? null, requestId: ctx.requestId ?? null };
}
