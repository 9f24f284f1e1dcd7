/**
 * The Authorization header (RFC 6750 §2.1): `Bearer` (case-insensitive, RFC 7235 §2.1), one or
 * more spaces, exactly one b64token. A bare token (no scheme) is accepted as well, for APIs that
 * extract it themselves.
 */

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const CREDENTIALS = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: +(.*))?$/;

export type ParsedAuthorization =
  | { kind: 'token'; token: string }
  /** RFC 6750 §3.1: no credentials (or another scheme): 401 with no error code */
  | { kind: 'missing' }
  | { kind: 'malformed'; reason: string };

export function parseAuthorization(value: string | undefined | null): ParsedAuthorization {
  if (value === undefined || value === null) return { kind: 'missing' };
  // HTTP strips optional whitespace around a field value (RFC 9110 §5.5); so do we.
  const trimmed = value.trim();
  if (trimmed === '') return { kind: 'missing' };
  if (!/[ \t]/.test(trimmed)) {
    // One word: a bare token, or a lone scheme name.
    if (trimmed.toLowerCase() === 'bearer') return { kind: 'malformed', reason: 'the Bearer scheme carries no token' };
    return B64TOKEN.test(trimmed) ? { kind: 'token', token: trimmed } : { kind: 'malformed', reason: 'the token is not a b64token' };
  }
  const match = CREDENTIALS.exec(trimmed);
  if (!match) return { kind: 'malformed', reason: 'malformed Authorization header' };
  // RFC 6750 §3.1: a request that uses another scheme "lacks any authentication information" for us.
  if (match[1]!.toLowerCase() !== 'bearer') return { kind: 'missing' };
  const rest = match[2] ?? '';
  if (!B64TOKEN.test(rest)) {
    return {
      kind: 'malformed',
      reason: /\s/.test(rest) ? 'more than one token in the Authorization header' : 'the token is not a b64token',
    };
  }
  return { kind: 'token', token: rest };
}
