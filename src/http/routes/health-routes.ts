import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.ts';

/** /healthz: the process answers. /readyz: the store answers a query and is migrated. */
export function registerHealthRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.store.ping();
      return { status: 'ready' };
    } catch {
      reply.code(503);
      return { status: 'unavailable' };
    }
  });
}
