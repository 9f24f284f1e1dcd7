/**
 * The fastify plugin and the Express-style middleware over real HTTP (loopback) against a fake
 * issuer: request.auth / req.auth, requireScopes, and the RFC 6750 answers (status,
 * WWW-Authenticate, Retry-After, JSON body) for a missing, malformed, invalid, under-scoped token
 * and an unreachable issuer.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { expressMiddleware, requireScopes, seiAuth, type VerifiedToken } from '../../packages/resource-server/src/index.ts';
import { type FakeIssuer, startFakeIssuer } from './fake-issuer.ts';

let fake: FakeIssuer;
let kid: string;
before(async () => {
  fake = await startFakeIssuer();
  kid = await fake.addKey('ES256');
});
after(() => fake.close());

const options = () => ({
  issuer: fake.issuer,
  audience: fake.audience,
  clientId: fake.clientId,
  clientSecret: fake.clientSecret,
  jwks: { timeoutMs: 500 },
  introspection: { timeoutMs: 500 },
});

async function get(url: string, authorization?: string) {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** The same checks for both adapters, given the base URL of an API with /me (any token) and /orders (orders:write). */
function behaves(name: string, base: () => string) {
  describe(name, () => {
    test('a valid JWT: 200 with the verified token', async () => {
      const res = await get(`${base()}/me`, `Bearer ${await fake.sign(fake.claims(), { kid })}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.sub, 'usr_1');
      assert.deepEqual(res.body.scope, ['orders:read', 'profile']);
    });

    test('a valid opaque token: 200', async () => {
      const res = await get(`${base()}/me`, `bearer ${fake.opaque(fake.activeAnswer())}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.format, 'opaque');
    });

    test('no token: 401 with a bare challenge', async () => {
      const res = await get(`${base()}/me`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="https://api.example"');
      assert.equal(res.body.error, 'unauthorized');
    });

    test('a malformed header: 400 invalid_request', async () => {
      const res = await get(`${base()}/me`, 'Bearer a b');
      assert.equal(res.status, 400);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
      assert.equal(res.body.error, 'invalid_request');
    });

    test('an expired token: 401 invalid_token, described', async () => {
      const now = Math.floor(Date.now() / 1000);
      const res = await get(`${base()}/me`, `Bearer ${await fake.sign(fake.claims({ exp: now - 60, iat: now - 120 }), { kid })}`);
      assert.equal(res.status, 401);
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /^Bearer realm="https:\/\/api.example", error="invalid_token", error_description="the token has expired"$/,
      );
      assert.deepEqual(res.body, { error: 'invalid_token', error_description: 'the token has expired' });
    });

    test('requireScopes: 403 insufficient_scope with the scope needed; 200 with it', async () => {
      const res = await get(`${base()}/orders`, `Bearer ${await fake.sign(fake.claims(), { kid })}`);
      assert.equal(res.status, 403);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*, scope="orders:write"$/);
      assert.equal(res.body.error, 'insufficient_scope');
      const ok = await get(`${base()}/orders`, `Bearer ${await fake.sign(fake.claims({ scope: 'orders:write' }), { kid })}`);
      assert.equal(ok.status, 200);
    });

    test('the issuer unreachable: 503 with Retry-After, never accepted', async () => {
      fake.introspectionMode = 'down';
      try {
        const res = await get(`${base()}/me`, `Bearer ${fake.opaque(fake.activeAnswer())}`);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.equal(res.body.error, 'temporarily_unavailable');
      } finally {
        fake.introspectionMode = 'up';
      }
    });
  });
}

// ---- fastify: the plugin protects the context it is registered in; /health, outside it, stays open.
let app: FastifyInstance;
let fastifyUrl = '';
before(async () => {
  app = Fastify();
  app.get('/health', async () => ({ ok: true }));
  await app.register(async (api) => {
    await api.register(seiAuth, options());
    api.get('/me', async (request) => request.auth);
    api.get('/orders', { preHandler: requireScopes('orders:write') }, async (request) => ({ sub: request.auth?.sub }));
  });
  fastifyUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => app.close());
behaves('fastify plugin', () => fastifyUrl);

test('fastify: a route outside the protected context needs no token', async () => {
  const res = await get(`${fastifyUrl}/health`);
  assert.equal(res.status, 200);
});

test('fastify: plugin-wide scopes', async () => {
  const scoped = Fastify();
  await scoped.register(seiAuth, { ...options(), scopes: ['admin'] });
  scoped.get('/', async () => ({ ok: true }));
  try {
    const res = await scoped.inject({ url: '/', headers: { authorization: `Bearer ${await fake.sign(fake.claims(), { kid })}` } });
    assert.equal(res.statusCode, 403);
  } finally {
    await scoped.close();
  }
});

// ---- Express-style: (req, res, next) chains on a bare node:http server (what Express runs on).
type Handler = (req: IncomingMessage & { auth?: VerifiedToken | null }, res: ServerResponse, next: (error?: unknown) => void) => void;
function chain(handlers: Handler[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let i = 0;
    const next = (error?: unknown) => {
      if (error) {
        res.statusCode = 500;
        res.end('{}');
        return;
      }
      handlers[i++]?.(req, res, next);
    };
    next();
  };
}
const json =
  (body: (req: IncomingMessage & { auth?: VerifiedToken | null }) => unknown): Handler =>
  (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body(req)));
  };

let expressUrl = '';
let auth: Handler | undefined;
const server = createServer((req, res) => {
  auth ??= expressMiddleware(options());
  const routes: Record<string, Handler[]> = {
    '/me': [auth, json((req) => req.auth)],
    '/orders': [auth, requireScopes('orders:write'), json((req) => ({ sub: req.auth?.sub }))],
  };
  chain(routes[req.url ?? ''] ?? [json(() => ({ error: 'not_found' }))])(req, res);
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  expressUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
behaves('Express-style middleware', () => expressUrl);
