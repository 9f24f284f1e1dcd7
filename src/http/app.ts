import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { TokenService, type TokenLifetimes } from '../domain/token-service.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import { grantRegistry, type Grant } from '../grants/grant.ts';
import { passwordGrant } from '../grants/password-grant.ts';
import { refreshTokenGrant } from '../grants/refresh-token-grant.ts';
import type { Store } from '../store/store.ts';
import { renderError } from './render-error.ts';
import { installRequestLog } from './request-audit.ts';
import { registerHealthRoutes } from './routes/health-routes.ts';
import { registerIntrospectionRoute } from './routes/introspection-route.ts';
import { registerMetadataRoute } from './routes/metadata-route.ts';
import { registerRevocationRoute } from './routes/revocation-route.ts';
import { registerTokenRoute } from './routes/token-route.ts';

export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  issuer: string;
  lifetimes: TokenLifetimes;
  /** Trust X-Forwarded-For from this proxy setting (fastify's trustProxy); off by default. */
  trustProxy?: boolean | string;
}

/** Issue #2: a body over 256 KiB is refused with 413 before it is read further. */
export const BODY_LIMIT = 256 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the HTTP application from its dependencies; the caller decides whether to listen. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Fastify's own request lines log req.url, query string and all: ours log the route only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: deps.trustProxy ?? false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  installRequestLog(app);

  // Only form bodies exist here. JSON, multipart and the rest are refused (415) rather than parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });

  app.setErrorHandler((error, request, reply) => renderError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const known = ['/oauth/token', '/oauth/introspect', '/oauth/revoke'].includes(request.url.split('?')[0]!);
    const error = known
      ? new OAuthError('invalid_request', 'Use POST for this endpoint.', { status: 405, headers: { allow: 'POST' } })
      : new OAuthError('not_found', 'No such endpoint.');
    renderError(error, request, reply);
  });

  const tokens = new TokenService({ store: deps.store, clock: deps.clock, lifetimes: deps.lifetimes });
  const grants: Grant[] = [
    passwordGrant({ store: deps.store, clock: deps.clock, tokens }),
    refreshTokenGrant({ tokens }),
  ];
  const registry = grantRegistry(grants);

  registerTokenRoute(app, { store: deps.store, grants: registry });
  registerIntrospectionRoute(app, { store: deps.store, clock: deps.clock, issuer: deps.issuer });
  registerRevocationRoute(app, { store: deps.store, clock: deps.clock });
  registerMetadataRoute(app, { issuer: deps.issuer, grantTypes: [...registry.keys()] });
  registerHealthRoutes(app, { store: deps.store });
  return app;
}
