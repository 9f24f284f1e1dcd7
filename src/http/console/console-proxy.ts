import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_CSRF_HEADER, type ConsoleContext, sendProblem } from './console-context.ts';

/**
 * `/admin/api/<path>` → `/admin/v1/<path>`: the console's calls reach the admin API with the
 * session's Bearer token added on the server (fastify's inject, so they go through every hook,
 * check and audit line a direct API call does: the console is just another API client). The token
 * never reaches the browser. CSRF: the session cookie is SameSite=Strict, and every call must carry
 * the console's header (a cross-site form cannot add one, and a cross-origin fetch with it needs a
 * CORS preflight this server never grants) and, when the browser sends them, a same-origin
 * Sec-Fetch-Site and Origin.
 */
/** The admin API's shapes: a collection, an item, an item's action (secret, password, sessions). */
export const PROXY_PATHS = ['/admin/api/:collection', '/admin/api/:collection/:id', '/admin/api/:collection/:id/:action'] as const;
export const PROXY_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

const FORWARDED_REQUEST_HEADERS = ['content-type', 'if-match', 'if-none-match', 'accept'] as const;
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'etag', 'location', 'retry-after'] as const;

export function registerConsoleProxy(app: FastifyInstance, ctx: ConsoleContext): void {
  app.register(async (scope) => {
    // The app reads only form bodies; the proxy passes JSON on as it came, unparsed.
    if (!scope.hasContentTypeParser('application/json')) {
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    }
    scope.route({ method: [...PROXY_METHODS], url: PROXY_PATHS[0], handler: forward });
    scope.route({ method: [...PROXY_METHODS], url: PROXY_PATHS[1], handler: forward });
    scope.route({ method: [...PROXY_METHODS], url: PROXY_PATHS[2], handler: forward });
    async function forward(request: FastifyRequest, reply: FastifyReply) {
      if (!ctx.fromConsole(request)) {
        request.audit.outcome = 'console_csrf_refused';
        return sendProblem(reply, 403, 'Forbidden', `Send the ${CONSOLE_CSRF_HEADER} header from the console's own page.`);
      }
      const session = await ctx.current(request);
      if (!session) {
        reply.header('set-cookie', ctx.cookies.clearSession());
        return sendProblem(reply, 401, 'Unauthorized', 'Your console session has ended. Sign in again.');
      }
      const rest = request.url.slice('/admin/api/'.length);
      const headers: Record<string, string> = { authorization: `Bearer ${session.tokens.accessToken}`, 'x-request-id': request.id };
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const body = request.body;
      const forwarded = await app.inject({
        method: request.method as 'GET',
        url: `/admin/v1/${rest}`,
        headers,
        payload: body === undefined || body === null ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        remoteAddress: request.ip,
      });
      if (forwarded.statusCode === 401) {
        // The API no longer takes the token (the session was ended elsewhere): so is the console's.
        await ctx.sessions.end(session.id);
        reply.header('set-cookie', ctx.cookies.clearSession());
      }
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = forwarded.headers[name];
        if (typeof value === 'string') reply.header(name, value);
      }
      request.audit.outcome = `proxied_${forwarded.statusCode}`;
      return reply.code(forwarded.statusCode).header('cache-control', 'no-store').send(forwarded.rawPayload);
    }
  });
}
