import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { publicError } from './render-error.ts';
import { renderErrorPage } from './views/error-page.ts';
import { sendHtml } from './views/html.ts';

/**
 * The error handler of the routes a person reaches in a browser (authorize, the SAML ACS, logout):
 * the same safe error as the JSON endpoints (render-error.ts), as an HTML page rather than JSON.
 */
export function renderErrorAsPage(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const oauth = publicError(error);
  request.audit.outcome = oauth.code;
  if (oauth.status >= 500 && oauth.code === 'server_error') request.log.error({ err: oauth.cause ?? oauth }, 'unhandled error');
  reply.headers(oauth.headers);
  sendHtml(reply, oauth.status, renderErrorPage({ description: oauth.description }));
}
