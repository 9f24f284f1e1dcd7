import { AdminError } from '../common/admin-error.ts';

/** RFC 6749 §3.1.2: the redirection endpoint URI MUST be absolute and MUST NOT include a fragment. */
export function checkRedirectUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AdminError(`redirect URL is not an absolute URL: ${raw}`);
  }
  if (url.hash || raw.includes('#')) throw new AdminError(`redirect URL must not have a fragment: ${raw}`);
  if (url.protocol === 'javascript:' || url.protocol === 'data:') throw new AdminError(`redirect URL scheme is not allowed: ${raw}`);
  // RFC 9700 §2.6 / RFC 8252 §7.3: plain http only for loopback (native apps); codes must not cross the network in clear.
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new AdminError(`redirect URL must use https (http is allowed only for localhost/127.0.0.1/[::1]): ${raw}`);
  }
  return raw;
}
