import type { FastifyInstance } from 'fastify';

/**
 * Contract §11: a single-page app registered with `--web-origin` may call the token, userinfo,
 * JWKS and revocation endpoints from that origin. Only those endpoints, only those origins (an
 * exact match of the Origin header), and never the authorization endpoint, which a browser
 * reaches by navigation. An origin nobody registered gets no CORS headers, so the browser keeps
 * the answer from the page.
 */
export const CORS_PATHS: ReadonlySet<string> = new Set(['/oauth/token', '/oauth/userinfo', '/oauth/jwks', '/oauth/revoke']);

/** How long a browser may reuse a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE = 600;

export interface CorsDeps {
  /** whether some enabled client registered this origin */
  isAllowedOrigin(origin: string): Promise<boolean>;
}

export function installCors(app: FastifyInstance, deps: CorsDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const path = request.url.split('?', 1)[0]!;
    if (!CORS_PATHS.has(path)) return;
    const allowed = await deps.isAllowedOrigin(origin);
    reply.header('vary', 'Origin');
    if (allowed) reply.header('access-control-allow-origin', origin);
    if (request.method === 'OPTIONS') {
      if (allowed) {
        reply.headers({
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'Authorization, Content-Type, DPoP',
          'access-control-max-age': String(PREFLIGHT_MAX_AGE),
        });
      }
      // The preflight itself: no body, whatever the route; the browser decides from the headers.
      return reply.code(204).send();
    }
  });
}
