/** What verify() resolves: who the token speaks for and what it allows (contract §7). */
export interface VerifiedToken {
  /** the user's id, or the client id for a service token */
  readonly sub: string;
  /** the user's email; undefined for a service token */
  readonly email: string | undefined;
  /** the client the token was issued to */
  readonly clientId: string;
  /** the granted scopes (empty when none) */
  readonly scope: readonly string[];
  /** the session the token belongs to; undefined for a service token */
  readonly sessionId: string | undefined;
  /** exp, in seconds since the epoch */
  readonly expiresAt: number;
  /** how it was checked: locally (a JWT) or by introspection (an opaque token) */
  readonly format: 'jwt' | 'opaque';
}

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ). */
export function splitScope(scope: unknown): readonly string[] {
  if (typeof scope !== 'string' || scope === '') return Object.freeze([]);
  return Object.freeze(scope.split(' ').filter((s) => s !== ''));
}

/** The optional string claims: anything but a non-empty string is absent. */
export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The realm of the verifier that vouched for a token, for the challenges of requireScopes. */
const realms = new WeakMap<VerifiedToken, string>();

export function vouch(token: VerifiedToken, realm: string): VerifiedToken {
  realms.set(token, realm);
  return token;
}

export function realmOf(token: VerifiedToken): string {
  return realms.get(token) ?? 'api';
}
