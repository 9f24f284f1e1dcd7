import type { FastifyInstance } from 'fastify';

/**
 * What the per-request log line may say about a token request. Filled in by the route only
 * with values known to be safe: a registered grant type, an authenticated client id, an error
 * code. Never a parameter value, a header, or the URL's query string.
 */
export interface RequestAudit {
  grantType?: string;
  clientId?: string;
  outcome?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    audit: RequestAudit;
  }
}

/** One structured line per request: route, method, status, grant type, client, outcome, time. */
export function installRequestLog(app: FastifyInstance): void {
  app.decorateRequest('audit', null as unknown as RequestAudit);
  app.addHook('onRequest', async (request) => {
    request.audit = {};
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(no route)';
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ...(request.audit.grantType ? { grant_type: request.audit.grantType } : {}),
        ...(request.audit.clientId ? { client_id: request.audit.clientId } : {}),
        outcome: request.audit.outcome ?? (reply.statusCode < 400 ? 'ok' : 'error'),
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
      },
      'request',
    );
  });
}
