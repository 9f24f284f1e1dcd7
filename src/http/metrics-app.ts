import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.ts';
import { registerMetricsRoute } from './routes/metrics-route.ts';

/**
 * The METRICS_PORT listener: GET /metrics and nothing else, without a token. Its caller binds it
 * to 127.0.0.1 only (src/http/server.ts), so only the host itself (a local Prometheus agent or a
 * sidecar) can scrape it. Scrapes here are not counted in the HTTP metrics of the main app.
 */
export function buildMetricsApp(deps: { metrics: Metrics; logger: Logger }): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024,
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    done();
  });
  registerMetricsRoute(app, { metrics: deps.metrics, access: { kind: 'open' } });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: 'not_found', error_description: 'Only GET /metrics is served on this port.' });
  });
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', error_description: 'The request is malformed.' });
    }
    request.log.error({ err: error }, 'metrics scrape failed');
    return reply.code(500).send({ error: 'server_error', error_description: 'The metrics could not be rendered.' });
  });
  return app;
}
