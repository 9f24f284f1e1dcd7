import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../common/oauth-error.ts';
import { lingerAfterAnswer } from './lingering-close.ts';

/**
 * Graceful shutdown, the HTTP half. Once close() begins, a new request on a kept-alive
 * connection is refused with 503 temporarily_unavailable in the usual OAuth JSON (the app sets
 * fastify's own return503OnClosing off, whose body is not OAuth-shaped). And a keep-alive connection whose in-flight request finishes afterwards would stay open until
 * its keep-alive timeout (72 s), holding close() up. So every response sent while closing says
 * `Connection: close`, and Node ends the socket right after it.
 *
 * The same hook closes the connection after an answer sent before the request body has arrived
 * (a 413, a refused content type, a 429): that body is never read, so the connection cannot
 * carry another request. The close lingers (lingering-close.ts), so that a client still
 * uploading reads the answer instead of a reset.
 */
export function closeConnectionsGracefully(app: FastifyInstance): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  // Synchronous hooks: they run on every request, and async ones cost a promise each.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!draining) return done();
    done(
      new OAuthError('temporarily_unavailable', 'The server is shutting down; retry on another instance.', {
        headers: { 'Retry-After': '1' },
      }),
    );
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    // `complete` is false until the whole request has been parsed (and absent under inject()).
    const bodyStillArriving = request.raw.complete === false;
    if (draining || bodyStillArriving) reply.header('connection', 'close');
    if (bodyStillArriving) lingerAfterAnswer(request.raw.socket);
    done(null, payload);
  });
}
