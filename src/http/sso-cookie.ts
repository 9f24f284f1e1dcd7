import { BROWSER_NONCE } from '../sso/browser-sso.ts';
import { cookieValue } from './cookie-header.ts';

/**
 * The cookie that binds a pending SAML sign-in to the browser that started it (contract §10:
 * "bound to the browser with a cookie"). It holds a random nonce; the pending request stores only
 * its SHA-256, so neither the database nor the RelayState can stand in for it.
 *
 * The IdP's answer arrives as a cross-site POST (the IdP's page auto-submits a form to the ACS).
 * A SameSite=Lax or Strict cookie is not sent on it (RFC 6265bis §5.2.1: Lax is sent on
 * top-level navigations with a "safe" method only), so on an https issuer the cookie is
 * `SameSite=None; Secure` — sent on that POST — with the `__Host-` prefix (only this origin, over
 * TLS, can set it: a sibling domain cannot plant one). Chromium's third-party cookie blocking
 * does not apply here: the ACS POST is a top-level navigation, a first-party context.
 *
 * Browsers refuse `SameSite=None` without `Secure`, and `Secure` cookies are not stored from plain
 * http. On an http issuer (development, tests) the cookie is therefore `SameSite=Lax`: it reaches
 * the ACS only when the IdP is same-site with the issuer (same host, any port — e.g. an IdP on
 * 127.0.0.1 for an issuer on 127.0.0.1). docs/security.md explains the choice.
 */
const NAME = 'sei_saml_browser';
/** As long as the pending sign-in lives (SSO_REQUEST_TTL_MS). */
const MAX_AGE_SECONDS = 600;

export class SsoBrowserCookie {
  readonly name: string;
  private readonly secure: boolean;

  constructor(deps: { secure: boolean }) {
    this.secure = deps.secure;
    this.name = deps.secure ? `__Host-${NAME}` : NAME;
  }

  /** The nonce from the Cookie header, when it has the shape this server gives it. */
  read(header: string | undefined): string | undefined {
    const value = cookieValue(header, this.name);
    return value !== undefined && BROWSER_NONCE.test(value) ? value : undefined;
  }

  setCookie(nonce: string): string {
    const attributes = this.secure ? 'Path=/; HttpOnly; Secure; SameSite=None' : 'Path=/saml; HttpOnly; SameSite=Lax';
    return `${this.name}=${nonce}; Max-Age=${MAX_AGE_SECONDS}; ${attributes}`;
  }
}
