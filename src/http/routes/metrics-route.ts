import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.ts';
import { constantTimeEqual } from '../../crypto/secrets.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import type { Store } from '../../store/store.ts';

/**
 * GET /metrics (Prometheus text format) and the hook that feeds the per-request metrics. The
 * hook reads only the route pattern and `request.audit`, which the routes fill with safe values.
 */
export interface MetricsRouteDeps {
  metrics: Metrics;
  store: Store;
  clock: Clock;
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string;
}

const TOKEN_ROUTE = '/oauth/token';

function bearer(header: string | undefined): string | undefined {
  // RFC 7235 §2.1: the scheme name is case-insensitive (RFC 6750 §2.1 gives the token's syntax).
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return match?.[1];
}

function unauthorized(request: FastifyRequest, reply: FastifyReply, error?: 'invalid_token'): FastifyReply {
  request.audit.outcome = error ?? 'unauthorized';
  // RFC 6750 §3: no error attribute when the request carried no credentials at all.
  const challenge = error ? `Bearer realm="metrics", error="${error}"` : 'Bearer realm="metrics"';
  return reply
    .code(401)
    .header('www-authenticate', challenge)
    .send({ error: error ?? 'unauthorized', error_description: 'A valid metrics bearer token is required.' });
}

export function registerMetricsRoute(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const { metrics } = deps;
  metrics.countActiveSessionsWith(() => deps.store.sessions.countAllActive(deps.clock.now()));

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

  app.get('/metrics', async (request, reply) => {
    if (deps.token !== undefined) {
      if (request.headers.authorization === undefined) return unauthorized(request, reply);
      const presented = bearer(request.headers.authorization);
      if (presented === undefined || !constantTimeEqual(presented, deps.token)) return unauthorized(request, reply, 'invalid_token');
    }
    const body = await metrics.render();
    return reply.type(metrics.contentType).send(body);
  });
}
