/**
 * The one error type of sei-auth. `code` is the OAuth error code sent on the wire
 * (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 6750 §3.1 and this product's own codes); the HTTP
 * status comes from {@link STATUS_BY_CODE} unless a caller has a reason to override it.
 * `description` is public and must never echo a request value; `cause` is private and
 * goes to debug logs only after redaction by the caller.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'concurrent_session_limit'
  | 'slow_down'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'not_found'
  | 'method_not_allowed'
  // OpenID Connect Core §3.1.2.6
  | 'login_required'
  // RFC 6750 §3.1 (userinfo)
  | 'invalid_token'
  | 'insufficient_scope';

export const STATUS_BY_CODE: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 400,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  // RFC 8707 §2
  invalid_target: 400,
  access_denied: 403,
  concurrent_session_limit: 400,
  slow_down: 429,
  temporarily_unavailable: 503,
  server_error: 500,
  not_found: 404,
  method_not_allowed: 405,
  login_required: 400,
  invalid_token: 401,
  insufficient_scope: 403,
};

export interface OAuthErrorOptions {
  /** HTTP status, when it differs from the code's usual one (401 for Basic auth, 413 …). */
  status?: number;
  /** Extra response headers (WWW-Authenticate, Retry-After, Allow). */
  headers?: Record<string, string>;
  /** Private detail for logs; never rendered. */
  cause?: unknown;
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.status = options.status ?? STATUS_BY_CODE[code];
    this.headers = options.headers ?? {};
  }
}

/** Whatever was thrown, the public face of it: an OAuthError, or a bare server_error. */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  return new OAuthError('server_error', 'The server could not complete the request.', { cause: error });
}
