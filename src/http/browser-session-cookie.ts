/**
 * The cookie of a browser session (contract §11): HttpOnly (no script reads it), SameSite=Lax (sent
 * when another app sends the browser to /oauth/authorize, a top-level GET, never on a cross-site
 * POST), no Max-Age (it goes when the browser closes; the server-side session may end sooner). On
 * an https issuer it is `Secure` with the `__Host-` prefix: only this origin, over TLS, sets it.
 */
import { cookieValue } from './cookie-header.ts';

const NAME = 'sei_session';

export class BrowserSessionCookie {
  readonly name: string;
  private readonly secure: boolean;

  constructor(deps: { secure: boolean }) {
    this.secure = deps.secure;
    this.name = deps.secure ? `__Host-${NAME}` : NAME;
  }

  /** The value from the Cookie header (its shape is checked where it is looked up). */
  read(header: string | undefined): string | undefined {
    return cookieValue(header, this.name);
  }

  setCookie(value: string): string {
    return `${this.name}=${value}; Path=/; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
  }

  clearCookie(): string {
    return `${this.name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
  }
}
