/**
 * The console's two cookies, both HttpOnly (no script ever reads them) and Secure with the
 * `__Host-` prefix behind an https issuer:
 *
 * - the session cookie, `SameSite=Strict`: never sent on a request another site starts, which
 *   (with the proxy's header check) is the console's CSRF defence;
 * - the sign-in cookie, `SameSite=Lax`, alive only between /admin/login and /admin/callback: the
 *   callback may arrive at the end of a redirect chain that began on an IdP's site (SAML SSO),
 *   where a Strict cookie is not sent.
 *
 * Each holds only a random id; the server keeps what it names (console-sessions.ts).
 */
import { cookieValue } from '../cookie-header.ts';

const SESSION = 'sei_console';
const SIGN_IN = 'sei_console_signin';
const ID = /^[A-Za-z0-9_-]{43}$/;

export class ConsoleCookies {
  private readonly secure: boolean;
  readonly sessionName: string;
  readonly signInName: string;

  constructor(deps: { secure: boolean }) {
    this.secure = deps.secure;
    this.sessionName = deps.secure ? `__Host-${SESSION}` : SESSION;
    this.signInName = deps.secure ? `__Host-${SIGN_IN}` : SIGN_IN;
  }

  readSession(header: string | undefined): string | undefined {
    return read(header, this.sessionName);
  }

  readSignIn(header: string | undefined): string | undefined {
    return read(header, this.signInName);
  }

  session(id: string, maxAgeSeconds: number): string {
    return `${this.sessionName}=${id}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${this.attributes('Strict')}`;
  }

  signIn(id: string, maxAgeSeconds: number): string {
    return `${this.signInName}=${id}; Max-Age=${maxAgeSeconds}; ${this.attributes('Lax')}`;
  }

  clearSession(): string {
    return `${this.sessionName}=; Max-Age=0; ${this.attributes('Strict')}`;
  }

  clearSignIn(): string {
    return `${this.signInName}=; Max-Age=0; ${this.attributes('Lax')}`;
  }

  private attributes(sameSite: 'Strict' | 'Lax'): string {
    // `__Host-` requires Path=/ and Secure; on plain http (development) the path narrows it instead.
    return this.secure ? `Path=/; HttpOnly; Secure; SameSite=${sameSite}` : `Path=/admin; HttpOnly; SameSite=${sameSite}`;
  }
}

function read(header: string | undefined, name: string): string | undefined {
  const value = cookieValue(header, name);
  return value !== undefined && ID.test(value) ? value : undefined;
}
