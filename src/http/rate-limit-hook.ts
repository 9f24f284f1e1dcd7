import type { FastifyInstance } from 'fastify';
import { addressBucket } from '../throttle/login-throttle.ts';
import { requestParams } from './parsed-request.ts';
import type { RateLimits } from './rate-limiter.ts';

const LIMITED = new Set(['/oauth/token', '/oauth/introspect', '/oauth/revoke']);
/** The login form's submit is limited per IP too (it runs a password check); it has no client secret. */
const LIMITED_BY_IP = new Set([...LIMITED, '/oauth/authorize']);

/**
 * The client id a request claims (HTTP Basic or client_id), before it is authenticated. The Basic
 * user-id is form-decoded as client authentication does (RFC 6749 Appendix B), so that one client
 * cannot spread its requests over many buckets by spelling its id in different encodings.
 */
function claimedClientId(authorization: string | undefined, fallback: () => string | undefined): string | undefined {
  if (authorization && /^Basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    const raw = decoded.slice(0, colon);
    try {
      return decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      return raw; // malformed: client authentication refuses it; it still counts under this key
    }
  }
  return fallback();
}

/**
 * Rate limits on the OAuth endpoints: per client IP as soon as the request arrives (before the
 * body is read), and per claimed client id once the body is parsed (before any database work
 * or hashing). Both answer 429 with Retry-After.
 */
export function installRateLimits(app: FastifyInstance, limits: RateLimits): void {
  // A limit set to 0 registers no hook at all, and the hooks are synchronous: each hook pass
  // and each promise costs every request (docs/benchmarks.md).
  if (limits.perIpEnabled) {
    app.addHook('onRequest', (request, _reply, done) => {
      try {
        // IPv6 clients are counted by their /64, like the login throttle's per-IP counters.
        if (request.method === 'POST' && LIMITED_BY_IP.has(request.routeOptions.url ?? '')) limits.checkIp(addressBucket(request.ip));
      } catch (error) {
        return done(error as Error);
      }
      done();
    });
  }
  if (limits.perClientEnabled) {
    app.addHook('preHandler', (request, _reply, done) => {
      try {
        if (request.method === 'POST' && LIMITED.has(request.routeOptions.url ?? '')) {
          const clientId = claimedClientId(request.headers.authorization, () => requestParams(request).get('client_id'));
          if (clientId !== undefined) limits.checkClient(clientId);
        }
      } catch (error) {
        return done(error as Error);
      }
      done();
    });
  }
}
