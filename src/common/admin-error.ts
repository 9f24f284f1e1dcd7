/**
 * What kind of refusal an {@link AdminError} is: the CLI prints only the message; the admin API
 * maps the kind to a status (http/render-problem.ts).
 */
export type AdminErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'precondition_failed'
  | 'precondition_required';

/** A refused management operation (CLI, admin services, admin API); its message is meant for the operator. */
export class AdminError extends Error {
  readonly kind: AdminErrorKind;

  constructor(message: string, kind: AdminErrorKind = 'invalid') {
    super(message);
    this.name = 'AdminError';
    this.kind = kind;
  }
}
