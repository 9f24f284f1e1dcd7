import type { JWTPayload } from 'jose';
import { newJwtId, newSecret, storedKey } from '../crypto/secrets.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { Client } from '../store/store.ts';

/** Whose token it is and what for: everything a JWT says and the row keeps. */
export interface AccessTokenSubject {
  /** the user's id, or the client id for a service token (contract §6) */
  subject: string;
  /** user tokens only */
  email?: string;
  /** user tokens only: the session the token belongs to */
  sessionId?: string;
  /** space-separated, '' for none */
  scope: string;
  audience: string;
  expiresAt: number;
  now: number;
}

/**
 * A minted access token: the hash the store keeps of it, known at once, and the string for the
 * response — for a JWT still being signed, so the signature runs while the token's transaction
 * commits (await it once the transaction is done).
 */
export interface MintedAccessToken {
  secret: string | Promise<string>;
  /** hash of the opaque token, or of a JWT's `jti` (only that is stored, contract §6) */
  hash: string;
}

/** RFC 9068 §2.1: the media type of a JWT access token, in its `typ` header without "application/". */
export const ACCESS_TOKEN_JWT_TYPE = 'at+jwt';

/**
 * Mints access tokens in the client's format (contract §6): an opaque random string, or an RFC
 * 9068 JWT signed with the active key. Either way only a hash is stored, so introspection and
 * revocation (and ending a session) work the same for both.
 */
export class AccessTokenMinter {
  private readonly signer: JwtSigner;
  private readonly issuer: string;

  constructor(deps: { signer: JwtSigner; issuer: string }) {
    this.signer = deps.signer;
    this.issuer = deps.issuer;
  }

  mint(client: Client, subject: AccessTokenSubject): MintedAccessToken {
    if (client.accessTokenFormat !== 'jwt') {
      const secret = newSecret('access_token');
      return { secret, hash: storedKey(secret) };
    }
    const jti = newJwtId();
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are REQUIRED; scope when granted.
    const claims: JWTPayload = {
      iss: this.issuer,
      sub: subject.subject,
      aud: subject.audience,
      exp: Math.floor(subject.expiresAt / 1000),
      iat: Math.floor(subject.now / 1000),
      jti,
      client_id: client.id,
    };
    if (subject.scope !== '') claims.scope = subject.scope;
    if (subject.email !== undefined) claims.email = subject.email;
    if (subject.sessionId !== undefined) claims.sid = subject.sessionId;
    const secret = this.signer.sign(claims, { typ: ACCESS_TOKEN_JWT_TYPE });
    // Handled here, so a signature that fails after its transaction failed is not an unhandled
    // rejection; whoever awaits `secret` still gets the error.
    secret.catch(() => {});
    return { secret, hash: storedKey(jti) };
  }
}
