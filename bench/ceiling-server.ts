/**
 * Ceiling A: the cheapest server that does what every token request must do at least — a fastify
 * POST route that reads and parses an application/x-www-form-urlencoded body and answers a fixed
 * JSON body. No logging, no hooks, no database. Started as its own process, pinned like sei-auth.
 */
import { parse } from 'node:querystring';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
  done(null, parse(body as string)),
);

const answer = { access_token: 'sat_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH', token_type: 'Bearer', expires_in: 3600 };
app.post('/oauth/token', async (request, reply) => {
  const form = request.body as Record<string, unknown>;
  if (typeof form.grant_type !== 'string') return reply.code(400).send({ error: 'invalid_request' });
  reply.header('cache-control', 'no-store');
  return answer;
});
app.get('/readyz', async () => ({ status: 'ready' }));

await app.listen({ port, host: '127.0.0.1' });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
