import type { FastifyInstance } from 'fastify';

/**
 * Graceful shutdown, the HTTP half. Once close() begins, fastify refuses new requests with 503,
 * but a keep-alive connection whose in-flight request finishes afterwards would stay open until
 * its keep-alive timeout (72 s), holding close() up. So every response sent while closing says
 * `Connection: close`, and Node ends the socket right after it.
 */
export function closeConnectionsWhenDraining(app: FastifyInstance): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
}
