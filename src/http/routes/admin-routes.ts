import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { changeBy } from '../../admin/admin-actor.ts';
import { type AdminApi, COLLECTIONS } from '../../admin/admin-api.ts';
import type { AdminCall, Query } from '../../admin/collection.ts';
import { AdminError } from '../../common/admin-error.ts';
import { renderProblem } from '../render-problem.ts';

export const ADMIN_BASE = '/admin/v1';

const calls = new WeakMap<FastifyRequest, AdminCall>();

function callOf(request: FastifyRequest): AdminCall {
  const call = calls.get(request);
  if (!call) throw new Error('admin request without a caller');
  return call;
}

/** A row's ETag (RFC 9110 §8.8.3): its version, a strong validator. */
const etag = (version: number) => `"v${version}"`;

/**
 * RFC 9110 §13.1.1: If-Match uses the strong comparison; `*` matches any current row. Anything
 * else that is not this server's single ETag cannot match any version: 412.
 */
function ifMatch(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*"v(\d{1,15})"\s*$/.exec(header);
  if (!match) throw new AdminError('If-Match does not match the current ETag of the row', 'precondition_failed');
  return Number(match[1]);
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
const queryOf = (request: FastifyRequest) => request.query as Query;

function sendVersioned(reply: FastifyReply, row: { body: object; version: number }): object {
  reply.header('etag', etag(row.version));
  return row.body;
}

/**
 * `/admin/v1` (contract §9): JSON in and out, a Bearer token with the scope `admin` on every
 * request, errors as RFC 9457 problems. Routes only translate HTTP; admin/ decides.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: { admin: AdminApi }): void {
  const { admin } = deps;
  app.register(
    async (scope) => {
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
        if (body === '') return done(null, undefined);
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(new AdminError('the body is not valid JSON'), undefined);
        }
      });
      scope.setErrorHandler((error, request, reply) => renderProblem(error, request, reply));
      scope.setNotFoundHandler((request, reply) => renderProblem(new AdminError('no such admin endpoint', 'not_found'), request, reply));
      // Authentication first, before the body is even parsed: the caller is read afresh from the
      // store on every request (admin/admin-authenticator.ts).
      scope.addHook('onRequest', async (request) => {
        const actor = await admin.authenticator.authenticate(request.headers.authorization);
        calls.set(request, { actor, ctx: changeBy(actor, { ip: request.ip, requestId: request.id }) });
      });

      for (const name of COLLECTIONS) {
        const collection = admin.collections[name];
        scope.get(`/${name}`, (request) => collection.list(callOf(request), queryOf(request)));
        scope.get(`/${name}/:id`, async (request, reply) => sendVersioned(reply, await collection.get(callOf(request), idOf(request))));
        scope.post(`/${name}`, async (request, reply) => {
          const created = (await collection.create(callOf(request), request.body)) as { id?: string; client_id?: string };
          reply.code(201).header('location', `${ADMIN_BASE}/${name}/${created.id ?? created.client_id}`);
          return created;
        });
        scope.patch(`/${name}/:id`, async (request, reply) =>
          sendVersioned(reply, await collection.update(callOf(request), idOf(request), request.body, ifMatch(request))),
        );
        scope.delete(`/${name}/:id`, async (request, reply) => {
          await collection.remove(callOf(request), idOf(request), queryOf(request), ifMatch(request));
          return reply.code(204).send();
        });
      }

      scope.post('/clients/:id/secret', (request) => admin.rotateSecret(callOf(request), idOf(request), request.body));
      scope.put('/users/:id/password', (request) => admin.setPassword(callOf(request), idOf(request), request.body));
      scope.delete('/users/:id/sessions', (request) => admin.endSessions(callOf(request), idOf(request)));
    },
    { prefix: ADMIN_BASE },
  );
}
