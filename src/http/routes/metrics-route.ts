import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.ts';
import { constantTimeEqual } from '../../crypto/secrets.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import type { Store } from '../../store/store.ts';

/**
 * GET /metrics (Prometheus text format) and the hook that feeds the per-request metrics. The
 * hook reads only the route pattern and `request.audit`, which the routes fill with safe values.
 *
 * The metrics name SAML rejection reasons, throttling events and store timings, so they are never
 * open on the main port: there a scrape needs METRICS_TOKEN; without it GET /metrics answers 401
 * and says how to turn it on. METRICS_PORT serves them without a token on a loopback-only
 * listener (src/http/metrics-app.ts).
 */
export type MetricsAccess =
  /** the main port with METRICS_TOKEN: `Authorization: Bearer <token>` required */
  | { kind: 'token'; token: string }
  /** the main port without METRICS_TOKEN: always 401; `metricsPort` says whether they are served elsewhere */
  | { kind: 'closed'; metricsPort: boolean }
  /** the loopback metrics listener (METRICS_PORT) */
  | { kind: 'open' };

export interface MetricsRouteDeps {
  metrics: Metrics;
  access: MetricsAccess;
}

const TOKEN_ROUTE = '/oauth/token';

function bearer(header: string | undefined): string | undefined {
  // RFC 7235 §2.1: the scheme name is case-insensitive (RFC 6750 §2.1 gives the token's syntax).
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return match?.[1];
}

const TOKEN_REQUIRED = 'A valid metrics bearer token is required.';
const CLOSED =
  'Metrics are off on this port. Set METRICS_TOKEN on the server and scrape with "Authorization: Bearer <token>", ' +
  'or set METRICS_PORT to serve them on 127.0.0.1 only, without a token.';
const ON_METRICS_PORT =
  'Metrics are served on the loopback metrics port (METRICS_PORT). Set METRICS_TOKEN as well to scrape them here ' +
  'with "Authorization: Bearer <token>".';

function unauthorized(request: FastifyRequest, reply: FastifyReply, description: string, error?: 'invalid_token'): FastifyReply {
  if (request.audit) request.audit.outcome = error ?? 'unauthorized';
  // RFC 6750 §3: no error attribute when the request carried no credentials at all.
  const challenge = error ? `Bearer realm="metrics", error="${error}"` : 'Bearer realm="metrics"';
  return reply
    .code(401)
    .header('www-authenticate', challenge)
    .send({ error: error ?? 'unauthorized', error_description: description });
}

/** The per-request metrics of an app, and where the active-sessions gauge reads from. */
export function installHttpMetrics(app: FastifyInstance, deps: { metrics: Metrics; store: Store; clock: Clock }): void {
  const { metrics } = deps;
  metrics.countActiveSessionsWith(() => deps.store.sessions.countAllActive(deps.clock.now()));
  metrics.countWalFramesWith(() => deps.store.walFramesWritten());

  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched requests (404, 405) share one label: raw URLs would be unbounded label values.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeHttpRequest({ method: request.method, route, statusCode: reply.statusCode, seconds: reply.elapsedTime / 1000 });
    if (route === TOKEN_ROUTE) {
      const audit = request.audit ?? {};
      metrics.observeTokenRequest(audit.grantType, audit.outcome ?? (reply.statusCode < 400 ? 'ok' : 'error'));
    }
    done();
  });
}

export function registerMetricsRoute(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const { metrics, access } = deps;
  app.get('/metrics', async (request, reply) => {
    if (access.kind === 'closed') {
      const description = access.metricsPort ? ON_METRICS_PORT : CLOSED;
      return unauthorized(request, reply, description, request.headers.authorization === undefined ? undefined : 'invalid_token');
    }
    if (access.kind === 'token') {
      if (request.headers.authorization === undefined) return unauthorized(request, reply, TOKEN_REQUIRED);
      const presented = bearer(request.headers.authorization);
      if (presented === undefined || !constantTimeEqual(presented, access.token)) {
        return unauthorized(request, reply, TOKEN_REQUIRED, 'invalid_token');
      }
    }
    const body = await metrics.render();
    return reply.type(metrics.contentType).send(body);
  });
}
