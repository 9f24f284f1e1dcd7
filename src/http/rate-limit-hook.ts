import type { FastifyInstance } from 'fastify';
import { addressBucket } from '../throttle/login-throttle.ts';
import type { RateLimits } from './rate-limiter.ts';

/** The client-authenticated endpoints. */
const LIMITED = new Set(['/oauth/token', '/oauth/introspect', '/oauth/revoke']);
/**
 * The login form's submit runs a password check and has no client secret, and the SAML ACS runs
 * a signature check for anyone who posts: per IP, on arrival.
 */
const LOGIN_FORMS = new Set(['/oauth/authorize', '/saml/acs']);

/**
 * The per-IP rate limit of the OAuth endpoints: a budget of requests that did not authenticate a
 * client (failed or missing client authentication, or refused before it), checked as soon as a
 * request arrives and charged when its response is sent. Contract §7: it never applies to a
 * request whose client authenticates, so an address over budget is only marked here; its requests
 * that fail client authentication then get 429 (parsed-request.ts), whatever the failure, so
 * guessing stays bounded. (The per-client limit is charged once the secret matched.)
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
          const wait = limits.addressWait(addressBucket(request.ip));
          if (wait > 0) request.audit.addressWaitMs = wait;
        } else if (LOGIN_FORMS.has(route)) {
          limits.takeAddress(addressBucket(request.ip));
        }
      }
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // No client authenticated (authenticatedRequest sets audit.clientId only once the secret
    // matched; a public client proves nothing): a failed or missing client authentication, or a
    // request refused before it (bad media type, unknown grant type…). Not counted: this limit's own 429s (they cost nothing;
    // every other 429 here comes after authentication) and 5xx answers (the server's failure).
    const status = reply.statusCode;
    if (
      request.method === 'POST' &&
      (request.audit?.clientId === undefined || request.audit.unprovenClient === true) &&
      status < 500 &&
      status !== 429 &&
      LIMITED.has(request.routeOptions.url ?? '')
    ) {
      limits.chargeAddress(addressBucket(request.ip));
    }
    done();
  });
}
