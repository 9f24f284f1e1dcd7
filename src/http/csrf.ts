import { constantTimeEqual, randomBase64url } from '../crypto/secrets.ts';

/**
 * CSRF protection of the login form by double submit: a random token in a short-lived cookie
 * scoped to the authorize endpoint and the same token in a hidden field; the POST must carry both,
 * equal. An attacker's page can make the browser send the cookie but cannot read it to fill the field.
 */
export const CSRF_COOKIE = 'sei_authorize_csrf';
export const CSRF_FIELD = 'csrf_token';
/** Long enough to type a password, short enough that a stale form is refused. */
const MAX_AGE_SECONDS = 600;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function newCsrfToken(): string {
  return randomBase64url(32);
}

/** The token from the Cookie header, when it is there and well-formed. */
export function readCsrfCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== CSRF_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    // The first one only: the browser sends the most specific path first.
    return TOKEN.test(value) ? value : undefined;
  }
  return undefined;
}

/** The Set-Cookie value; Secure whenever the issuer is https. */
export function csrfCookie(token: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${token}; Max-Age=${MAX_AGE_SECONDS}; Path=/oauth/authorize; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Both present, well-formed and equal (constant time). */
export function csrfMatches(cookieToken: string | undefined, fieldToken: string | undefined): cookieToken is string {
  if (cookieToken === undefined || fieldToken === undefined || !TOKEN.test(fieldToken)) return false;
  return constantTimeEqual(cookieToken, fieldToken);
}
