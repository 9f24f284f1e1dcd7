import { AdminError } from '../common/admin-error.ts';

/**
 * Contract §11: a --web-origin is an origin as browsers send it in the `Origin` header (RFC 6454
 * §6.1: scheme "://" host [":" port], nothing else), so the CORS check is an exact string match.
 */
export function checkWebOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AdminError(`web origin is not an origin (scheme://host[:port]): ${raw}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AdminError(`web origin must be http or https: ${raw}`);
  if (url.origin !== raw) throw new AdminError(`web origin must be exactly scheme://host[:port], with no path or trailing slash: ${raw}`);
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new AdminError(`web origin must use https (http is allowed only for localhost/127.0.0.1/[::1]): ${raw}`);
  }
  return raw;
}
