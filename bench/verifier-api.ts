/**
 * The verifier bench's HTTP row, server side (its own process, pinned like sei-auth): the same
 * small fastify API twice — PORT unprotected, PROTECTED_PORT behind the sei-auth plugin in JWT
 * mode (ISSUER's JWKS) — each answering GET /orders with a small JSON body.
 */
import Fastify from 'fastify';
import { seiAuth } from '../packages/resource-server/src/index.ts';
import { AUDIENCE } from './verifier-issuer.ts';

const orders = { orders: [{ id: 'ord_1', total: 1250 }] };

const plain = Fastify({ logger: false });
plain.get('/orders', async () => ({ user: 'usr_anonymous', ...orders }));
plain.get('/readyz', async () => ({ status: 'ready' }));

const protectedApi = Fastify({ logger: false });
protectedApi.get('/readyz', async () => ({ status: 'ready' }));
await protectedApi.register(async (api) => {
  await api.register(seiAuth, { issuer: process.env.ISSUER!, audience: AUDIENCE });
  api.get('/orders', async (request) => ({ user: request.auth!.sub, ...orders }));
});

await plain.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
await protectedApi.listen({ port: Number(process.env.PROTECTED_PORT), host: '127.0.0.1' });
const stop = () => void Promise.all([plain.close(), protectedApi.close()]).then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
