import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { OAuthError } from '../common/oauth-error.ts';
import type { Platform } from '../composition-root.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { VERSION } from '../version.ts';
import { closeConnectionsGracefully } from './connection-drain.ts';
import { registerConsoleRoutes } from './console/console-routes.ts';
import { installCors } from './cors.ts';
import { installRateLimits } from './rate-limit-hook.ts';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings, RateLimits } from './rate-limiter.ts';
import { renderError } from './render-error.ts';
import { installRequestLog } from './request-audit.ts';
import { registerAdminRoutes } from './routes/admin-routes.ts';
import { registerAuthorizeRoute } from './routes/authorize-route.ts';
import { registerHealthRoutes } from './routes/health-routes.ts';
import { registerIntrospectionRoute } from './routes/introspection-route.ts';
import { registerJwksRoute } from './routes/jwks-route.ts';
import { registerLogoutRoute } from './routes/logout-route.ts';
import { registerMetadataRoute } from './routes/metadata-route.ts';
import { installHttpMetrics, registerMetricsRoute } from './routes/metrics-route.ts';
import { registerOpenApiRoute } from './routes/openapi-route.ts';
import { registerRevocationRoute } from './routes/revocation-route.ts';
import { registerSamlRoutes } from './routes/saml-routes.ts';
import { registerTokenRoute } from './routes/token-route.ts';
import { registerUserInfoRoute } from './routes/userinfo-route.ts';

export interface AppDeps {
  /** services, grants and settings, built once by the composition root (with metrics) */
  platform: Platform;
  logger: Logger;
  /** Rate limits of the OAuth endpoints (rate-limiter.ts; DEFAULT_RATE_LIMITS when absent). */
  rateLimits?: RateLimitSettings;
  /** Trust X-Forwarded-For from this proxy setting (fastify's trustProxy); off by default. */
  trustProxy?: boolean | number | string;
  /** Bearer token GET /metrics requires (METRICS_TOKEN); without it /metrics answers 401 here. */
  metricsToken?: string;
  /** Whether a METRICS_PORT listener serves the metrics (only changes what the 401 says). */
  metricsPort?: boolean;
}

/** A body over 256 KiB is refused with 413 before it is read further. */
export const BODY_LIMIT = 256 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** How long the registered web origins are reused by the CORS check (contract §11). */
const WEB_ORIGINS_CACHE_MS = 5_000;

/** Builds the HTTP application from its dependencies; the caller decides whether to listen. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { platform } = deps;
  const { store, clock, services } = platform;
  // The HTTP face reports metrics; the platform's store feeds them its security events.
  if (!platform.metrics) throw new Error('buildApp: compose the platform with metrics');
  const metrics: Metrics = platform.metrics;
  const issuer = platform.settings.issuer;
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
    // Refused in closeConnectionsGracefully instead, with an OAuth-shaped body.
    return503OnClosing: false,
    // A URL fastify cannot even route (bad percent-encoding in the path) gets the same OAuth JSON.
    frameworkErrors: (error, request, reply) => renderError(error, request, reply),
  }) as unknown as FastifyInstance;

  installRequestLog(app);
  closeConnectionsGracefully(app);
  installHttpMetrics(app, { metrics, store, clock });
  registerMetricsRoute(app, {
    metrics,
    access:
      deps.metricsToken !== undefined
        ? { kind: 'token', token: deps.metricsToken }
        : { kind: 'closed', metricsPort: deps.metricsPort ?? false },
  });

  // Only form bodies exist here. JSON, multipart and the rest are refused (415) rather than parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Set when the request arrives rather than in an onSend hook (one hook pass less per request);
  // fastify keeps a reply's headers when an error replaces its body.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers({
      'x-request-id': request.id,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
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

  // Contract §11: the registered web origins, read again after a change here, and every few seconds for the other instances' changes.
  let origins: { at: number; changes: number; set: Promise<Set<string>> } | undefined;
  installCors(app, {
    isAllowedOrigin: async (origin) => {
      const now = performance.now();
      const changes = services.clients.changeCount;
      if (!origins || now - origins.at > WEB_ORIGINS_CACHE_MS || origins.changes !== changes) {
        const set = services.clients.webOriginsInUse();
        origins = { at: now, changes, set };
        set.catch(() => {
          if (origins?.set === set) origins = undefined;
        });
      }
      return (await origins.set).has(origin);
    },
  });

  const rateLimits = new RateLimits(deps.rateLimits ?? DEFAULT_RATE_LIMITS, clock);
  installRateLimits(app, rateLimits);

  registerTokenRoute(app, { store, clock, grants: platform.grants, logins: services.logins, rateLimits });
  registerAuthorizeRoute(app, {
    store,
    clock,
    issuer,
    passwordLogin: platform.passwordLogin,
    sso: services.sso,
    browserSessions: services.browserSessions,
  });
  registerSamlRoutes(app, { sso: services.sso, issuer });
  registerIntrospectionRoute(app, { store, clock, introspection: services.introspection, rateLimits });
  registerRevocationRoute(app, { store, clock, revocation: services.revocation, rateLimits });
  registerUserInfoRoute(app, { userInfo: services.userInfo });
  registerLogoutRoute(app, { logout: services.logout, browserSessions: services.browserSessions, issuer });
  registerMetadataRoute(app, {
    issuer,
    grantTypes: [...platform.grants.keys()],
    authorizationEndpoint: true,
    scopesSupported: () => services.clients.scopesInUse(),
  });
  registerAdminRoutes(app, { admin: services.admin });
  registerJwksRoute(app, { keys: services.keys, maxAgeSeconds: platform.settings.jwksMaxAge ?? 300 });
  registerHealthRoutes(app, { store });
  // Contract §9: the admin console, a backend-for-frontend on the admin API.
  registerConsoleRoutes(app, {
    store,
    clock,
    issuer,
    grants: platform.grants,
    logins: services.logins,
    revocation: services.revocation,
  });
  registerOpenApiRoute(app, { issuer, version: VERSION });
  return app;
}
