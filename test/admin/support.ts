/** Helpers for the admin API tests: tokens for each kind of caller, and JSON requests. */
import type { LightMyRequestResponse } from 'fastify';
import type { UserRole } from '../../src/store/store.ts';
import { basicAuth } from '../core/support.ts';
import type { Harness } from '../support/harness.ts';

export interface AdminFixture {
  /** an app client with the scope admin: users log in through it (the console's role) */
  appClient: { clientId: string; clientSecret: string };
  /** a full admin's token */
  adminToken: string;
  adminUserId: string;
}

let n = 0;
export const uniqueEmail = (name = 'u') => `${name}-${++n}-${Date.now().toString(36)}@example.com`;
export const PASSWORD = 'correct horse battery staple';

/** A user (with a role) and a token for it, logged in through the fixture's admin-scoped client. */
export async function userWithToken(
  h: Harness,
  app: { clientId: string; clientSecret: string },
  options: { role?: UserRole | null; orgId?: string; scope?: string } = {},
): Promise<{ userId: string; email: string; token: string }> {
  const email = uniqueEmail(options.role ?? 'plain');
  const { id } = await h.services.accounts.createUser({ email, password: PASSWORD, orgId: options.orgId, role: options.role ?? null });
  const res = await h.post('/oauth/token', {
    grant_type: 'client_credentials',
    client_id: app.clientId,
    client_secret: app.clientSecret,
    email,
    password: PASSWORD,
    ...(options.scope !== undefined ? { scope: options.scope } : {}),
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`);
  return { userId: id, email, token: res.json().access_token };
}

export async function adminFixture(h: Harness): Promise<AdminFixture> {
  const created = await h.services.clients.createClient({
    name: 'Admin console',
    redirectUrls: ['https://console.example/cb'],
    scopes: ['admin openid'],
  });
  const appClient = { clientId: created.client_id, clientSecret: created.client_secret };
  const admin = await userWithToken(h, appClient, { role: 'admin' });
  return { appClient, adminToken: admin.token, adminUserId: admin.userId };
}

/** A service client (contract §8) with the given scopes, and its own token. */
export async function serviceToken(h: Harness, scopes = 'admin'): Promise<{ clientId: string; token: string }> {
  const created = await h.services.clients.createClient({ name: 'automation', redirectUrls: [], service: true, scopes: [scopes] });
  const res = await h.post(
    '/oauth/token',
    { grant_type: 'client_credentials' },
    { headers: { authorization: basicAuth(created.client_id, created.client_secret) } },
  );
  if (res.statusCode !== 200) throw new Error(`service token failed: ${res.body}`);
  return { clientId: created.client_id, token: res.json().access_token };
}

/** One admin API request with a JSON body. */
export function api(
  h: Harness,
  token: string | undefined,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return h.app.inject({
    method,
    url: `/admin/v1${path}`,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

/** Asserts an RFC 9457 problem with this status. */
export function problem(res: LightMyRequestResponse, status: number): { type: string; title: string; status: number; detail: string } {
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  if (!String(res.headers['content-type']).startsWith('application/problem+json'))
    throw new Error(`not a problem: ${res.headers['content-type']}`);
  const body = res.json();
  if (body.status !== status || typeof body.type !== 'string' || typeof body.title !== 'string' || typeof body.detail !== 'string') {
    throw new Error(`malformed problem: ${res.body}`);
  }
  return body;
}
