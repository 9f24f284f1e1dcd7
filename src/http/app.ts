import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { LoginThrottle, type ThrottlePolicy } from '../domain/login-throttle.ts';
import { TokenService, type TokenLifetimes } from '../domain/token-service.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import { authorizationCodeGrant } from '../grants/authorization-code-grant.ts';
import { grantRegistry, type Grant } from '../grants/grant.ts';
import { passwordGrant } from '../grants/password-grant.ts';
import { refreshTokenGrant } from '../grants/refresh-token-grant.ts';
import { samlBearerGrant } from '../grants/saml-bearer-grant.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { observeEvents } from '../store/observed-store.ts';
import type { Store } from '../store/store.ts';
import { VERSION } from '../version.ts';
import { closeConnectionsWhenDraining } from './connection-drain.ts';
import { installRateLimits } from './rate-limit-hook.ts';
import { DEFAULT_RATE_LIMITS, RateLimits, type RateLimitSettings } from './rate-limiter.ts';
import { renderError } from './render-error.ts';
import { installRequestLog } from './request-audit.ts';
import { registerAuthorizeRoute } from './routes/authorize-route.ts';
import { registerHealthRoutes } from './routes/health-routes.ts';
import { registerIntrospectionRoute } from './routes/introspection-route.ts';
import { registerMetadataRoute } from './routes/metadata-route.ts';
import { registerMetricsRoute } from './routes/metrics-route.ts';
import { registerOpenApiRoute } from './routes/openapi-route.ts';
import { registerRevocationRoute } from './routes/revocation-route.ts';
import { registerTokenRoute } from './routes/token-route.ts';

export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  issuer: string;
  lifetimes: TokenLifetimes;
  /** Login throttling policy (defaults: 5 failures per account, 50 per IP, in 15 minutes). */
  throttle?: Partial<ThrottlePolicy>;
  /** Requests per second per IP and per client on the OAuth endpoints (defaults 200 and 1000). */
  rateLimits?: RateLimitSettings;
  /** SAML assertions whose expiry is further away than this are refused (default 1 hour). */
  samlMaxAssertionLifetimeMs?: number;
  /** Allowed clock difference with SAML IdPs (default 60 s). */
  samlClockSkewMs?: number;
  /** Trust X-Forwarded-For from this proxy setting (fastify's trustProxy); off by default. */
  trustProxy?: boolean | number | string;
  /** Prometheus metrics (issue #7); a fresh registry per app when absent. */
  metrics?: Metrics;
  /** Bearer token GET /metrics requires (METRICS_TOKEN); open when absent. */
  metricsToken?: string;
}

/** Issue #2: a body over 256 KiB is refused with 413 before it is read further. */
export const BODY_LIMIT = 256 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the HTTP application from its dependencies; the caller decides whether to listen. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const metrics = deps.metrics ?? createMetrics();
  // Security events feed the metrics once committed (sessions ended, SAML rejections, refresh reuse).
  deps = { ...deps, store: observeEvents(deps.store, (event) => metrics.observeEvent(event)) };
  const app = Fastify({
    loggerInstance: deps.logger,
    // Fastify's own request lines log req.url, query string and all: ours log the route only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: (deps.trustProxy ?? false) as boolean,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Refused in closeConnectionsWhenDraining instead, with an OAuth-shaped body.
    return503OnClosing: false,
    // A URL fastify cannot even route (bad percent-encoding in the path) gets the same OAuth JSON.
    frameworkErrors: (error, request, reply) => renderError(error, request, reply),
  }) as unknown as FastifyInstance;

  installRequestLog(app);
  closeConnectionsWhenDraining(app);
  registerMetricsRoute(app, { metrics, store: deps.store, clock: deps.clock, token: deps.metricsToken });

  // Only form bodies exist here. JSON, multipart and the rest are refused (415) rather than parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Set when the request arrives rather than in an onSend hook (issue #8 profile: one hook pass
  // less per request); fastify keeps a reply's headers when an error replaces its body.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers({ 'x-request-id': request.id, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
    done();
  });

  app.setErrorHandler((error, request, reply) => renderError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const known = ['/oauth/token', '/oauth/introspect', '/oauth/revoke'].includes(request.url.split('?')[0]!);
    const error = known
      ? new OAuthError('invalid_request', 'Use POST for this endpoint.', { status: 405, headers: { allow: 'POST' } })
      : new OAuthError('not_found', 'No such endpoint.');
    renderError(error, request, reply);
  });

  installRateLimits(app, new RateLimits(deps.rateLimits ?? DEFAULT_RATE_LIMITS, deps.clock));

  const tokens = new TokenService({ store: deps.store, clock: deps.clock, lifetimes: deps.lifetimes });
  const throttle = new LoginThrottle({
    store: deps.store,
    clock: deps.clock,
    policy: deps.throttle,
    observer: {
      onLock: (kind) => metrics.loginThrottling.increment(`${kind}_locked`),
      onRefused: () => metrics.loginThrottling.increment('refused'),
    },
  });
  const grants: Grant[] = [
    passwordGrant({ store: deps.store, clock: deps.clock, tokens, throttle }),
    refreshTokenGrant({ tokens }),
    authorizationCodeGrant({ store: deps.store, clock: deps.clock, tokens }),
    samlBearerGrant({ store: deps.store, clock: deps.clock, tokens, issuer: deps.issuer, clockSkewMs: deps.samlClockSkewMs ?? 60_000, maxAssertionLifetimeMs: deps.samlMaxAssertionLifetimeMs ?? 3_600_000 }),
  ];
  const registry = grantRegistry(grants);

  registerTokenRoute(app, { store: deps.store, grants: registry });
  registerAuthorizeRoute(app, { store: deps.store, clock: deps.clock, issuer: deps.issuer, throttle });
  registerIntrospectionRoute(app, { store: deps.store, clock: deps.clock, issuer: deps.issuer });
  registerRevocationRoute(app, { store: deps.store, clock: deps.clock });
  registerMetadataRoute(app, { issuer: deps.issuer, grantTypes: [...registry.keys()], authorizationEndpoint: true });
  registerHealthRoutes(app, { store: deps.store });
  registerOpenApiRoute(app, { issuer: deps.issuer, version: VERSION });
  return app;
}
