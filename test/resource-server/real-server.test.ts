/**
 * The verifier against a real sei-auth (`sei-auth serve` on loopback, set up with the admin CLI
 * exactly as contract §2 and §5–§8 name it): JWT and opaque tokens, expired, wrong audience, wrong
 * issuer, alg none, HS256 with the public key as secret, a token signed by a retired key, a revoked
 * opaque token, key rotation while the API runs, a service token, and a fastify API over HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { createVerifier, requireScopes, seiAuth, TokenError, type VerifierOptions } from '../../packages/resource-server/src/index.ts';
import { postForm, startServerProcess } from '../support/server-process.ts';

const BIN = fileURLToPath(new URL('../../bin/sei-auth.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sei-auth-rs-'));
const DATABASE_URL = `sqlite:${join(dir, 'rs.db')}`;
const server = await startServerProcess({ DATABASE_URL, LOG_LEVEL: 'warn' });
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const AUDIENCE = 'https://orders.api.test';

/** Runs `sei-auth …` against the test database; resolves its output (and asserts exit 0 unless told not to). */
function cli(args: string[], stdin?: string, check = true): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL, LOG_LEVEL: 'warn' }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      if (check && status !== 0) reject(new Error(`sei-auth ${args.join(' ')} exited ${status}: ${stderr}`));
      else resolve({ status, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

async function cliJson<T = Record<string, string>>(args: string[], stdin?: string): Promise<T> {
  return JSON.parse((await cli([...args, '--json'], stdin)).stdout) as T;
}

describe('the verifier against a real sei-auth', () => {
  const issuer = server.url;
  const password = 'rs-test-password-42';
  const email = `ada-${Date.now()}@example.com`;
  let rs: { client_id: string; client_secret: string };
  let jwtApp: { client_id: string; client_secret: string };
  let opaqueApp: { client_id: string; client_secret: string };
  let userId: string;

  const verifierFor = (extra: Partial<VerifierOptions> = {}) =>
    createVerifier({ issuer, audience: AUDIENCE, clientId: rs.client_id, clientSecret: rs.client_secret, ...extra });

  /** The seed's password login; `resource` is AUDIENCE unless `extra` says otherwise (null: none). */
  async function login(app: { client_id: string; client_secret: string }, extra: Record<string, string | null> = {}): Promise<string> {
    const form: Record<string, string | null> = {
      grant_type: 'client_credentials',
      client_id: app.client_id,
      client_secret: app.client_secret,
      email,
      password,
      resource: AUDIENCE,
      ...extra,
    };
    const res = await postForm(
      `${issuer}/oauth/token`,
      Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => e[1] !== null)),
    );
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return (res.json as { access_token: string }).access_token;
  }

  async function refused(promise: Promise<unknown>, status: number, code: string): Promise<void> {
    const error = await promise.then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TokenError, String(error));
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code);
  }

  /** The kid in a JWT's header (the key that signed it). */
  const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

  test('set-up with the CLI: a resource server, a user, a JWT client and an opaque client', async () => {
    rs = await cliJson(['client', 'create', '--resource-server', '--name', 'Orders API', '--audience', AUDIENCE]);
    userId = (await cliJson(['user', 'create', '--email', email, '--password-stdin'], `${password}\n`)).id!;
    const common = ['--redirect-url', 'https://app.example/callback', '--scope', 'orders:read orders:write'];
    jwtApp = await cliJson(['client', 'create', '--name', 'JWT app', ...common, '--access-token-format', 'jwt']);
    opaqueApp = await cliJson(['client', 'create', '--name', 'Opaque app', ...common]);
  });

  test('a JWT access token is verified locally', async () => {
    const token = await login(jwtApp, { scope: 'orders:read' });
    assert.equal(token.split('.').length, 3);
    const result = await verifierFor().verify(`Bearer ${token}`);
    assert.equal(result.format, 'jwt');
    assert.equal(result.sub, userId);
    assert.equal(result.email, email);
    assert.equal(result.clientId, jwtApp.client_id);
    assert.deepEqual(result.scope, ['orders:read']);
    assert.ok(result.sessionId);
    await refused(verifierFor().verify(token, { scopes: ['orders:write'] }), 403, 'insufficient_scope');
  });

  test('an opaque access token is introspected', async () => {
    const token = await login(opaqueApp);
    const result = await verifierFor().verify(`Bearer ${token}`);
    assert.equal(result.format, 'opaque');
    assert.equal(result.sub, userId);
    assert.equal(result.clientId, opaqueApp.client_id);
    assert.deepEqual([...result.scope].sort(), ['orders:read', 'orders:write']);
  });

  test('wrong audience: a token for the default audience, and a verifier of another API', async () => {
    const defaultAudience = await login(jwtApp, { resource: null });
    await refused(verifierFor().verify(defaultAudience), 401, 'invalid_token');
    await refused(verifierFor({ audience: 'https://other.api.test' }).verify(await login(jwtApp)), 401, 'invalid_token');
  });

  test('wrong issuer', async () => {
    const token = await login(jwtApp);
    await refused(verifierFor({ issuer: `${issuer}/`, jwksUri: `${issuer}/oauth/jwks` }).verify(token), 401, 'invalid_token');
  });

  test('expired', async () => {
    const shortLived = await cliJson<{ client_id: string; client_secret: string }>([
      'client',
      'create',
      '--name',
      'Short-lived',
      '--redirect-url',
      'https://app.example/callback',
      '--access-token-format',
      'jwt',
      '--access-ttl',
      '1',
    ]);
    const token = await login(shortLived);
    await new Promise((r) => setTimeout(r, 2500));
    await refused(verifierFor({ clockToleranceSeconds: 0 }).verify(token), 401, 'invalid_token');
  });

  test('alg: none, and HS256 with the published public key as the secret', async () => {
    const token = await login(jwtApp);
    const [header, payload] = token.split('.') as [string, string];
    const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    const none = `${Buffer.from(JSON.stringify({ ...head, alg: 'none' })).toString('base64url')}.${payload}.`;
    await refused(verifierFor().verify(none), 401, 'invalid_token');
    const jwks = (await (await fetch(`${issuer}/oauth/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
    const jwk = jwks.keys.find((k) => k.kid === head.kid)!;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: head.kid as string })
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await refused(verifierFor().verify(hs), 401, 'invalid_token');
  });

  test('key rotation while the API runs, then the old key retired', async () => {
    const verifier = verifierFor({ jwks: { cooldownMs: 0, cacheMaxAgeMs: 500 } });
    const before = await login(jwtApp);
    const oldKid = kidOf(before);
    await verifier.verify(before);
    const { kid: newKid } = await cliJson(['keys', 'rotate', '--activate-in', '0']);
    assert.notEqual(newKid, oldKid);
    // Every instance reads the key set again within a second (docs/keys.md): until then the old key still signs.
    let afterRotation = await login(jwtApp);
    for (let i = 0; i < 30 && kidOf(afterRotation) !== newKid; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      afterRotation = await login(jwtApp);
    }
    assert.equal(kidOf(afterRotation), newKid);
    // An unknown kid: the verifier refetches the JWKS and accepts it; the old key is still published.
    await verifier.verify(afterRotation);
    await verifier.verify(before);
    await cli(['keys', 'retire', '--kid', oldKid]);
    // The server's JWKS reflects the retirement within its one-second key cache, the verifier's after its 500 ms.
    await new Promise((r) => setTimeout(r, 1200));
    await verifier.verify(before).catch(() => {}); // a stale JWKS: this hit starts the refetch
    await new Promise((r) => setTimeout(r, 300));
    await refused(verifier.verify(before), 401, 'invalid_token');
    await refused(verifierFor().verify(before), 401, 'invalid_token');
    await verifier.verify(afterRotation);
  });

  test('a revoked opaque token is refused once the introspection cache TTL has passed', async () => {
    const verifier = verifierFor({ introspection: { cacheTtlMs: 300 } });
    const token = await login(opaqueApp);
    await verifier.verify(token);
    const res = await postForm(`${issuer}/oauth/revoke`, { token, client_id: opaqueApp.client_id, client_secret: opaqueApp.client_secret });
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 400));
    await refused(verifier.verify(token), 401, 'invalid_token');
  });

  test('a revoked JWT stays valid for a local verifier until its exp (documented: keep access TTLs short)', async () => {
    const token = await login(jwtApp);
    const res = await postForm(`${issuer}/oauth/revoke`, { token, client_id: jwtApp.client_id, client_secret: jwtApp.client_secret });
    assert.equal(res.status, 200);
    await verifierFor().verify(token);
  });

  test('a service token (client_credentials for the client itself): sub is the client, no email, no session', async () => {
    const svc = await cliJson([
      'client',
      'create',
      '--service',
      '--name',
      'Batch',
      '--scope',
      'orders:read',
      '--access-token-format',
      'jwt',
    ]);
    const res = await postForm(`${issuer}/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: svc.client_id!,
      client_secret: svc.client_secret!,
      resource: AUDIENCE,
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const result = await verifierFor().verify((res.json as { access_token: string }).access_token);
    assert.equal(result.sub, svc.client_id);
    assert.equal(result.email, undefined);
    assert.equal(result.sessionId, undefined);
  });

  test('a fastify API protected by the plugin, over HTTP', async () => {
    const api = Fastify();
    await api.register(seiAuth, { issuer, audience: AUDIENCE, clientId: rs.client_id, clientSecret: rs.client_secret });
    api.get('/orders', { preHandler: requireScopes('orders:read') }, async (request) => ({ user: request.auth?.sub }));
    const url = await api.listen({ port: 0, host: '127.0.0.1' });
    try {
      for (const token of [await login(jwtApp), await login(opaqueApp)]) {
        const res = await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { user: userId });
      }
      const none = await fetch(`${url}/orders`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${AUDIENCE}"`);
    } finally {
      await api.close();
    }
  });
});
