/**
 * The one error a verifier rejects with: an RFC 6750 §3 challenge and the HTTP status to answer
 * with. The fastify plugin and the Express middleware render it as is; an API using verify()
 * directly can do the same with `status`, `wwwAuthenticate` and `body()`.
 */

/** RFC 6750 §3.1 codes, plus `temporarily_unavailable` for a 503 (the issuer could not be asked). */
export type TokenErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

export interface TokenErrorInit {
  /** RFC 6750 §3 `realm` of the challenge */
  realm: string;
  /** the scopes the resource needs (insufficient_scope) */
  scope?: readonly string[];
  /** seconds an API should advertise in Retry-After (503 only) */
  retryAfterSeconds?: number;
  cause?: unknown;
}

const STATUS: Record<TokenErrorCode, 400 | 401 | 403 | 503> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

/**
 * RFC 6750 §3: error_description and scope values are limited to %x20-21 / %x23-5B / %x5D-7E
 * (printable ASCII without `"` and `\`); anything else is dropped rather than escaped.
 */
function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  /** 400 invalid_request, 401 invalid_token or no token, 403 insufficient_scope, 503 issuer unreachable */
  readonly status: 400 | 401 | 403 | 503;
  /** undefined when the request carried no token at all (RFC 6750 §3.1: no error code then) */
  readonly code: TokenErrorCode | undefined;
  readonly description: string | undefined;
  /** the value of the WWW-Authenticate header to answer with */
  readonly wwwAuthenticate: string;
  /** the scopes that were required (insufficient_scope) */
  readonly scope: readonly string[] | undefined;
  /** for a 503: how long an API should ask the caller to wait (Retry-After) */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: TokenErrorCode | undefined, description: string | undefined, init: TokenErrorInit) {
    super(description ?? 'no bearer token', init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.description = description;
    this.status = code ? STATUS[code] : 401;
    this.scope = init.scope;
    this.retryAfterSeconds = code === 'temporarily_unavailable' ? (init.retryAfterSeconds ?? 5) : undefined;
    const params = [`realm="${quotable(init.realm)}"`];
    if (code) params.push(`error="${code}"`);
    if (code && description) params.push(`error_description="${quotable(description)}"`);
    if (code === 'insufficient_scope' && init.scope?.length) params.push(`scope="${quotable(init.scope.join(' '))}"`);
    this.wwwAuthenticate = `Bearer ${params.join(', ')}`;
  }

  /** The JSON body to answer with, `{ error, error_description }`; `error` is "unauthorized" when no token was presented. */
  body(): { error: string; error_description: string } {
    return { error: this.code ?? 'unauthorized', error_description: this.description ?? 'a bearer token is required' };
  }

  /** The headers to answer with: WWW-Authenticate, and Retry-After on a 503. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = { 'www-authenticate': this.wwwAuthenticate };
    if (this.retryAfterSeconds !== undefined) headers['retry-after'] = String(this.retryAfterSeconds);
    return headers;
  }
}

export function isTokenError(value: unknown): value is TokenError {
  return value instanceof TokenError;
}
