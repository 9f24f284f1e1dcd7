import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { constantTimeEqual, randomBase64url } from '../crypto/secrets.ts';
import type { ServerSecretStore } from '../store/store.ts';
import { cookieValue } from './cookie-header.ts';

/**
 * CSRF protection of the login form by double submit: a token in a short-lived cookie and the
 * same token in a hidden field; the POST must carry both, equal. An attacker's page can make the
 * browser send the cookie but cannot read it to fill the field.
 *
 * The token is a random nonce and its HMAC under a key every instance shares (kept in the store),
 * so only a token this server made is accepted: a cookie chosen by the caller (planted through a
 * sibling domain or plain http, with a field to match) fails the MAC and counts as no cookie. On
 * https issuers the cookie is `__Host-` (Secure, Path=/, no Domain), which a browser accepts only
 * from this origin over TLS, so it cannot be planted at all.
 */
export const CSRF_FIELD = 'csrf_token';
const COOKIE = 'sei_authorize_csrf';
/** Long enough to type a password, short enough that a stale form is refused. */
const MAX_AGE_SECONDS = 600;
/** base64url of 32 random bytes, a dot, base64url of the 32-byte HMAC-SHA256 */
const TOKEN = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;
/** The name of the shared MAC key in the store's server secrets. */
const KEY_NAME = 'csrf_hmac_key';

export interface CsrfDeps {
  secrets: ServerSecretStore;
  clock: Clock;
  /** the issuer is https: `__Host-` cookie, Secure */
  secure: boolean;
}

export class CsrfProtection {
  /** The cookie's name: `__Host-` prefixed on https issuers. */
  readonly cookieName: string;
  private readonly deps: CsrfDeps;
  private key: Promise<Buffer> | undefined;

  constructor(deps: CsrfDeps) {
    this.deps = deps;
    this.cookieName = deps.secure ? `__Host-${COOKIE}` : COOKIE;
  }

  /** A new token: a random nonce and its MAC. */
  async newToken(): Promise<string> {
    const nonce = randomBase64url(32);
    return `${nonce}.${mac(await this.macKey(), nonce)}`;
  }

  /** The token from the Cookie header when it is there and this server made it; undefined otherwise. */
  async fromCookie(header: string | undefined): Promise<string | undefined> {
    const token = this.readCookie(header);
    if (token === undefined) return undefined;
    const [, nonce, tag] = TOKEN.exec(token)!;
    return constantTimeEqual(mac(await this.macKey(), nonce!), tag!) ? token : undefined;
  }

  /** The form's token equals a cookie token that {@link fromCookie} accepted (constant time). */
  matches(cookieToken: string | undefined, fieldToken: string | undefined): cookieToken is string {
    if (cookieToken === undefined || fieldToken === undefined || !TOKEN.test(fieldToken)) return false;
    return constantTimeEqual(cookieToken, fieldToken);
  }

  /** The Set-Cookie value. RFC 6265bis §4.1.3.2: a `__Host-` cookie must be Secure, with Path=/ and no Domain. */
  setCookie(token: string): string {
    const scope = this.deps.secure ? 'Path=/' : 'Path=/oauth/authorize';
    return `${this.cookieName}=${token}; Max-Age=${MAX_AGE_SECONDS}; ${scope}; HttpOnly; SameSite=Lax${this.deps.secure ? '; Secure' : ''}`;
  }

  private readCookie(header: string | undefined): string | undefined {
    const value = cookieValue(header, this.cookieName);
    return value !== undefined && TOKEN.test(value) ? value : undefined;
  }

  /**
   * The shared key, read once per process. The first instance to need it creates it; instances
   * racing to do so all end up with the one that was stored first. A failed read is retried next time.
   */
  private macKey(): Promise<Buffer> {
    this.key ??= this.loadKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  private async loadKey(): Promise<Buffer> {
    let stored = await this.deps.secrets.find(KEY_NAME);
    if (stored === undefined) {
      await this.deps.secrets.create(KEY_NAME, randomBase64url(32), this.deps.clock.now());
      stored = await this.deps.secrets.find(KEY_NAME);
    }
    if (stored === undefined) throw new Error('the CSRF key could not be stored');
    return Buffer.from(stored, 'base64url');
  }
}

function mac(key: Buffer, nonce: string): string {
  return createHmac('sha256', key).update(nonce, 'utf8').digest('base64url');
}
