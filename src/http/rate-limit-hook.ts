import type { FastifyInstance, FastifyRequest } from 'fastify';
import { addressBucket } from '../throttle/login-throttle.ts';
import { requestParams } from './parsed-request.ts';
import type { RateLimits } from './rate-limiter.ts';

/** The client-authenticated endpoints. */
const LIMITED = new Set(['/oauth/token', '/oauth/introspect', '/oauth/revoke']);
/**
 * The login form's submit runs a password check and has no client secret, and the SAML ACS runs
 * a signature check for anyone who posts: per IP, on arrival.
 */
const LOGIN_FORMS = new Set(['/oauth/authorize', '/saml/acs']);

/**
 * The client id a request claims (HTTP Basic or client_id), before it is authenticated. The Basic
 * user-id is form-decoded as client authentication does (RFC 6749 Appendix B), so that the id
 * compared with the clients known at an address is the one authentication will look up.
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
      return raw; // malformed: client authentication refuses it
    }
  }
  return fallback();
}

/** Requests from an address over its budget that only a client known at that address may make. */
const knownClientsOnly = new WeakSet<FastifyRequest>();

/**
 * The per-IP rate limit of the OAuth endpoints: a budget of requests that did not authenticate a
 * client (failed or missing client authentication, or refused before it), checked as soon as a
 * request arrives (before the body is read) and charged when its response is sent. An address
 * over it gets 429 before its secret is checked, so guessing stays bounded. (The per-client limit
 * is charged in authenticatedRequest, parsed-request.ts, once the secret matched.)
 */
export function installRateLimits(app: FastifyInstance, limits: RateLimits): void {
  // RATE_LIMIT_PER_IP=0 registers no hook at all, and the hooks are synchronous: each hook pass
  // and each promise costs every request (docs/benchmarks.md).
  if (!limits.perIpEnabled) return;
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      if (request.method === 'POST') {
        const route = request.routeOptions.url ?? '';
        // IPv6 clients are counted by their /64, like the login throttle's per-IP counters.
        if (LIMITED.has(route)) {
          if (!limits.admitAddress(addressBucket(request.ip))) knownClientsOnly.add(request);
        } else if (LOGIN_FORMS.has(route)) {
          limits.takeAddress(addressBucket(request.ip));
        }
      }
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    try {
      if (knownClientsOnly.has(request)) {
        const clientId = claimedClientId(request.headers.authorization, () => requestParams(request).get('client_id'));
        limits.admitKnownClient(addressBucket(request.ip), clientId);
      }
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // No client authenticated (authenticatedRequest sets audit.clientId only once the secret
    // matched): a failed or missing client authentication, or a request refused before it (bad
    // media type, unknown grant type…). Not counted: this limit's own 429s (they cost nothing;
    // every other 429 here comes after authentication) and 5xx answers (the server's failure).
    const status = reply.statusCode;
    if (
      request.method === 'POST' &&
      request.audit?.clientId === undefined &&
      status < 500 &&
      status !== 429 &&
      LIMITED.has(request.routeOptions.url ?? '')
    ) {
      limits.chargeAddress(addressBucket(request.ip));
    }
    done();
  });
}
