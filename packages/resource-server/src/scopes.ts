import { TokenError } from './token-error.js';
import type { VerifiedToken } from './verified-token.js';

/**
 * RFC 6750 §3.1 insufficient_scope: the request "requires higher privileges than provided by the
 * access token" — 403, with the scopes needed in the challenge's `scope` attribute.
 */
export function assertScopes(token: VerifiedToken, required: readonly string[], realm: string): void {
  for (const scope of required) {
    if (!token.scope.includes(scope)) {
      throw new TokenError('insufficient_scope', `the token lacks the scope ${scope}`, { realm, scope: required });
    }
  }
}

/** `requireScopes('a b', 'c')` and `requireScopes(['a', 'b'])` alike: a flat list of scope names. */
export function scopeList(scopes: ReadonlyArray<string | readonly string[]>): string[] {
  return scopes.flatMap((s) => (typeof s === 'string' ? s.split(' ') : [...s])).filter((s) => s !== '');
}
