import { createHash } from 'node:crypto';
import type { JwtSigner } from '../keys/jwt-signer.ts';

/** OpenID Connect Core §3.1.2.1: a request is an OpenID Connect request when its scope holds `openid`. */
export function grantsOpenId(scope: string): boolean {
  return scope.split(' ').includes('openid');
}

/** Who signed in, where and when: what an ID token asserts. */
export interface IdTokenSubject {
  clientId: string;
  userId: string;
  email: string;
  /** when the user authenticated (ms) */
  authTime: number;
  /** the authorize request's nonce, exactly as sent; null when none was sent (and on refresh) */
  nonce: string | null;
  /** the browser session (OP session) the sign-in belongs to */
  sid: string;
  /** the access token issued with it (at_hash); a JWT may still be being signed */
  accessToken: string | Promise<string>;
  expiresAt: number;
  now: number;
}

/**
 * ID tokens (OpenID Connect Core §2, §3.1.3.6), signed RS256 with the server's keys: the one
 * algorithm every relying party supports (Discovery §3, contract §11).
 */
export class IdTokenMinter {
  private readonly signer: JwtSigner;
  private readonly issuer: string;

  constructor(deps: { signer: JwtSigner; issuer: string }) {
    this.signer = deps.signer;
    this.issuer = deps.issuer;
  }

  async mint(subject: IdTokenSubject): Promise<string> {
    return this.signer.sign(
      {
        // Core §2: iss, sub, aud, exp and iat are REQUIRED; auth_time because max_age may be asked.
        iss: this.issuer,
        sub: subject.userId,
        aud: subject.clientId,
        exp: Math.floor(subject.expiresAt / 1000),
        iat: Math.floor(subject.now / 1000),
        auth_time: Math.floor(subject.authTime / 1000),
        // Core §3.1.2.1: the nonce is passed through unmodified.
        ...(subject.nonce !== null ? { nonce: subject.nonce } : {}),
        at_hash: atHash(await subject.accessToken),
        sid: subject.sid,
        email: subject.email,
        // Nobody signs themselves up here: every address was entered by an administrator or
        // asserted by the organization's IdP for one of its verified domains.
        email_verified: true,
      },
      { typ: 'JWT', alg: 'RS256' },
    );
  }
}

/**
 * Core §3.1.3.6: "the base64url encoding of the left-most half of the hash of the octets of the
 * ASCII representation of the access_token value", the hash being that of the ID token's alg
 * (SHA-256 for RS256).
 */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
