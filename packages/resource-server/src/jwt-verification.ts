import { errors, type JWTVerifyOptions, jwtVerify } from 'jose';
import { type JwksSource, KeySourceUnavailable } from './jwks-source.js';
import type { ResolvedOptions } from './options.js';
import { TokenError } from './token-error.js';
import { optionalString, splitScope, type VerifiedToken, VouchedToken } from './verified-token.js';

/** A three-part JWS in compact form (RFC 7515 §7.1); anything else is an opaque token. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function isCompactJws(token: string): boolean {
  return COMPACT_JWS.test(token);
}

export interface VerifiedJwt {
  token: VerifiedToken;
  /** the key that signed it, for the verified-token cache */
  kid: string | undefined;
}

/** Why jose refused a token, in words safe to send back (no token content, no key material). */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not accepted';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed with a key the issuer does not publish';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (error instanceof errors.JOSENotSupported) return 'the token uses an unsupported algorithm';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'the token is not a well-formed JWT';
  return 'the token is not valid';
}

/** RFC 9068 §4: local validation of a JWT access token against the issuer's published keys. */
export class JwtVerification {
  readonly #o: ResolvedOptions;
  readonly #keys: JwksSource;
  readonly #options: JWTVerifyOptions;

  constructor(o: ResolvedOptions, keys: JwksSource) {
    this.#o = o;
    this.#keys = keys;
    this.#options = {
      // RFC 9068 §4: "The resource server MUST validate that the iss claim exactly matches the issuer identifier".
      issuer: o.issuer,
      // RFC 9068 §4: "MUST validate that the aud claim contains a resource indicator value corresponding to an identifier the resource server expects for itself".
      audience: o.audience,
      // RFC 9068 §4: "MUST verify that the typ header value is at+jwt or application/at+jwt" (jose compares without the application/ prefix, case-insensitively).
      typ: 'at+jwt',
      // RFC 9068 §4: "MUST reject any JWT in which the value of alg is none"; RFC 8725 §3.1: an allow-list, asymmetric only (no HS256 with the public key as secret).
      algorithms: [...o.algorithms],
      // RFC 9068 §4: "The current time MUST be before the time represented by the exp claim" (with a small leeway for clock skew).
      clockTolerance: o.clockTolerance,
      // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are REQUIRED.
      requiredClaims: ['exp', 'sub', 'client_id', 'iat', 'jti'],
    };
  }

  async verify(token: string): Promise<VerifiedJwt> {
    const o = this.#o;
    let result: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      const options = o.customClock ? { ...this.#options, currentDate: new Date(o.now()) } : this.#options;
      const key = this.#keys.knownKey(token);
      result = key !== undefined ? await jwtVerify(token, key, options) : await jwtVerify(token, this.#keys.getKey, options);
    } catch (error) {
      if (error instanceof KeySourceUnavailable) {
        throw new TokenError('temporarily_unavailable', "the issuer's keys (JWKS) could not be fetched", {
          realm: o.realm,
          retryAfterSeconds: o.retryAfterSeconds,
          cause: error.cause,
        });
      }
      throw new TokenError('invalid_token', describe(error), { realm: o.realm });
    }
    const { payload, protectedHeader } = result;
    const now = Math.floor(o.now() / 1000);
    // A token issued in the future (beyond the leeway) comes from a wrong clock or a forgery.
    if (typeof payload.iat !== 'number' || payload.iat > now + o.clockTolerance)
      throw new TokenError('invalid_token', "the token's iat claim is in the future", { realm: o.realm });
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.client_id !== 'string' || typeof payload.exp !== 'number')
      throw new TokenError('invalid_token', 'the token lacks sub, client_id or exp', { realm: o.realm });
    if (payload.scope !== undefined && typeof payload.scope !== 'string')
      throw new TokenError('invalid_token', "the token's scope claim is not a string", { realm: o.realm });
    return {
      token: new VouchedToken(
        {
          sub: payload.sub,
          email: optionalString(payload.email),
          clientId: payload.client_id,
          scope: splitScope(payload.scope),
          sessionId: optionalString(payload.sid),
          expiresAt: payload.exp,
          format: 'jwt' as const,
        },
        o.realm,
      ),
      kid: protectedHeader.kid,
    };
  }
}
