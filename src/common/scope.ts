import { OAuthError } from './oauth-error.ts';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by one space. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_SCOPE_LENGTH = 2000;

export function isScopeToken(value: string): boolean {
  return value.length <= 200 && SCOPE_TOKEN.test(value);
}

/**
 * The scope tokens of a `scope` value, de-duplicated in order; undefined when it is malformed
 * (empty, a doubled or edge space, a character outside the RFC's set).
 */
export function parseScope(value: string): string[] | undefined {
  if (value.length === 0 || value.length > MAX_SCOPE_LENGTH) return undefined;
  const tokens = value.split(' ');
  if (!tokens.every(isScopeToken)) return undefined;
  return [...new Set(tokens)];
}

/**
 * The scope granted for a request: RFC 6749 §3.3 lets the server grant the requested scope or
 * refuse it; contract §5 refuses (`invalid_scope`) a requested scope outside `allowed` — the
 * client's registered scopes, or on a refresh the scope granted before (RFC 6749 §6: it "MUST
 * NOT include any scope not originally granted"). No `scope` parameter means all of `allowed`.
 * @returns the granted scope, space-separated ('' for none)
 */
export function grantedScope(requested: string | undefined, allowed: string): string {
  if (requested === undefined) return allowed;
  const tokens = parseScope(requested);
  if (!tokens) throw new OAuthError('invalid_scope', 'scope is malformed: scope tokens separated by single spaces (RFC 6749 §3.3).');
  const permitted = new Set(allowed === '' ? [] : allowed.split(' '));
  if (!tokens.every((t) => permitted.has(t))) {
    throw new OAuthError('invalid_scope', 'The requested scope exceeds what this client may be granted.');
  }
  return tokens.join(' ');
}
