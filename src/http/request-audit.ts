import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/**
 * What the per-request log line may say about a token request. Filled in by the route only
 * with values known to be safe: a registered grant type, an authenticated client id, an error
 * code. Never a parameter value, a header, or the URL's query string.
 */
export interface RequestAudit {
  grantType?: string;
  clientId?: string;
  outcome?: string;
  /** the request's address is over its per-IP budget by this long: it must authenticate a client or get 429 */
  addressWaitMs?: number;
  /** the client named itself without a secret (a public client, contract §11): its address's budget is charged as for no client */
  unprovenClient?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    audit: RequestAudit;
  }
}

/** One structured line per request: route, method, status, grant type, client, outcome, time. */
export function installRequestLog(app: FastifyInstance): void {
  app.decorateRequest('audit', null as unknown as RequestAudit);
  // Synchronous hooks: an async hook costs a promise and a microtask per request.
  app.addHook('onRequest', (request, _reply, done) => {
    request.audit = {};
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    logRequest(request, reply);
    done();
  });
}

/** The request line itself (also written by renderError for requests that never reached the hooks). */
export function logRequest(request: FastifyRequest, reply: FastifyReply): void {
  // The line is built only when it will be written (LOG_LEVEL=warn and above: not at all).
  if ((request.log as Partial<Pick<Logger, 'isLevelEnabled'>>).isLevelEnabled?.('info') === false) return;
  const audit = request.audit ?? {};
  let route = '(no route)';
  try {
    route = request.routeOptions.url ?? route;
  } catch {
    // a request Fastify could not route has no route options
  }
  request.log.info(
    {
      method: request.method,
      route,
      status: reply.statusCode,
      ...(audit.grantType ? { grant_type: audit.grantType } : {}),
      ...(audit.clientId ? { client_id: audit.clientId } : {}),
      outcome: audit.outcome ?? (reply.statusCode < 400 ? 'ok' : 'error'),
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
    },
    'request',
  );
}
