/**
 * Helpers for the authorization-code tests: drive the login page like a browser would (GET the
 * page, keep its CSRF cookie and hidden fields, POST the form) and exchange the code.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { createHarness, type Harness, type Seeded } from '../support/harness.ts';

export const CALLBACK = 'https://app.example/callback';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeQuery(s: Seeded, extra: Record<string, string | undefined> = {}): string {
  const values: Record<string, string | undefined> = { response_type: 'code', client_id: s.clientId, state: 'xyz-state', ...extra };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) query.append(name, value);
  return query.toString();
}

export function getAuthorize(h: Harness, query: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'GET', url: `/oauth/authorize?${query}`, headers });
}

/** The Set-Cookie headers of a response, as a list. */
export function setCookies(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/** The hidden inputs of the login form, by name. */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescapeHtml(m[1]!)] = unescapeHtml(m[2]!);
  return fields;
}

export interface LoginPage {
  res: LightMyRequestResponse;
  cookie: string;
  fields: Record<string, string>;
}

/** GET the login page; it must be a login page (200 with a CSRF cookie). */
export async function openLoginPage(h: Harness, query: string): Promise<LoginPage> {
  const res = await getAuthorize(h, query);
  assert.equal(res.statusCode, 200, res.body);
  // `__Host-` prefixed on https issuers.
  const cookie = setCookies(res).find((c) => /^(__Host-)?sei_authorize_csrf=/.test(c));
  assert.ok(cookie, 'the login page sets the CSRF cookie');
  return { res, cookie: cookie.split(';')[0]!, fields: hiddenFields(res.body) };
}

/** POST the login form of a page, with the page's cookie unless told otherwise. */
export function submitLogin(
  h: Harness,
  page: LoginPage,
  credentials: { email: string; password: string },
  options: { cookie?: string | null; fields?: Record<string, string | undefined> } = {},
): Promise<LightMyRequestResponse> {
  const form = new URLSearchParams();
  const values: Record<string, string | undefined> = { ...page.fields, ...credentials, ...options.fields };
  for (const [name, value] of Object.entries(values)) if (value !== undefined) form.append(name, value);
  const cookie = options.cookie === undefined ? page.cookie : options.cookie;
  return h.app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    payload: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === null ? {} : { cookie }) },
  });
}

/** The full login: page, form, redirect; returns the redirect's parameters. */
export async function loginForCode(h: Harness, s: Seeded, extra: Record<string, string | undefined> = {}): Promise<URLSearchParams> {
  const page = await openLoginPage(h, authorizeQuery(s, extra));
  const res = await submitLogin(h, page, { email: s.email, password: s.password });
  assert.equal(res.statusCode, 303, res.body);
  const location = String(res.headers.location);
  return new URL(location).searchParams;
}

/** A code for the seeded client and user, by the login page. */
export async function obtainCode(h: Harness, s: Seeded, extra: Record<string, string | undefined> = {}): Promise<string> {
  const code = (await loginForCode(h, s, extra)).get('code');
  assert.ok(code);
  return code;
}

export function exchangeCode(h: Harness, s: Seeded, code: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return h.post('/oauth/token', { grant_type: 'authorization_code', client_id: s.clientId, client_secret: s.clientSecret, code, ...extra });
}

export function refresh(h: Harness, s: Seeded, refreshToken: string): Promise<LightMyRequestResponse> {
  return h.post('/oauth/token', {
    grant_type: 'refresh_token',
    client_id: s.clientId,
    client_secret: s.clientSecret,
    refresh_token: refreshToken,
  });
}

/** Whether introspection calls the token active. */
export async function isActive(h: Harness, s: Seeded, token: string): Promise<boolean> {
  const res = await h.post('/oauth/introspect', { client_id: s.clientId, client_secret: s.clientSecret, token });
  assert.equal(res.statusCode, 200);
  return res.json().active === true;
}

/**
 * A harness whose issuer is the origin it really listens on (RFC 8414 §3.3: the metadata's
 * issuer must equal the URL the client discovered it from): pick a free port, then build and listen.
 */
export async function listeningHarness(options: Parameters<typeof createHarness>[0] = {}): Promise<{ h: Harness; origin: string }> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  const h = await createHarness({ ...options, issuer: origin });
  await h.app.listen({ port, host: '127.0.0.1' });
  return { h, origin };
}
