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

/**
 * What the verifiers create: a VerifiedToken that also knows the realm of the verifier that vouched
 * for it (for requireScopes' challenges), in a private field — invisible to JSON, spread and keys.
 */
export class VouchedToken implements VerifiedToken {
  readonly sub: string;
  readonly email: string | undefined;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly sessionId: string | undefined;
  readonly expiresAt: number;
  readonly format: 'jwt' | 'opaque';
  readonly #realm: string;

  constructor(fields: VerifiedToken, realm: string) {
    this.sub = fields.sub;
    this.email = fields.email;
    this.clientId = fields.clientId;
    this.scope = fields.scope;
    this.sessionId = fields.sessionId;
    this.expiresAt = fields.expiresAt;
    this.format = fields.format;
    this.#realm = realm;
    Object.freeze(this);
  }

  static realmOf(token: VerifiedToken): string {
    return token instanceof VouchedToken ? token.#realm : 'api';
  }
}

export const realmOf = VouchedToken.realmOf;
