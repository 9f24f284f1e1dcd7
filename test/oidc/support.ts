/**
 * Helpers for the OpenID Connect tests (issue #17, /work/notes/oidc-design.md): OIDC clients
 * registered through the client service, a fetch-based browser (a cookie jar that keeps the
 * `sei_session` cookie between authorize requests, like a real browser would), openid-client
 * configurations, and small JWT helpers for the negative tests.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { hiddenFields } from '../code-flow/flow.ts';
import type { Harness } from '../support/harness.ts';

/** The session cookie of the design: HttpOnly, SameSite=Lax, Path=/ (Secure on https issuers). */
export const SESSION_COOKIE = 'sei_session';

/** What `client create` takes for OIDC (design §CLI): the new options beside the existing ones. */
export interface OidcClientInput {
  name: string;
  redirectUrls: string[];
  scopes?: string[];
  refreshTokens?: boolean;
  tokenType?: string;
  accessTtl?: number;
  allowNoPkce?: boolean;
  public?: boolean;
  webOrigins?: string[];
  postLogoutRedirectUrls?: string[];
}

export interface OidcClient {
  clientId: string;
  /** absent for a public client */
  clientSecret?: string;
  redirectUri: string;
}

type CreateClient = (input: OidcClientInput) => Promise<{ client_id: string; client_secret?: string }>;

/** Registers a client as `client create` would (the design's createClient options). */
export async function registerClient(h: Harness, input: OidcClientInput): Promise<OidcClient> {
  const create = h.services.clients.createClient.bind(h.services.clients) as unknown as CreateClient;
  const made = await create({ scopes: ['openid email'], refreshTokens: true, ...input });
  return { clientId: made.client_id, clientSecret: made.client_secret, redirectUri: input.redirectUrls[0]! };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
}

let userCounter = 0;

export async function createUser(h: Harness, options: { maxSessions?: number | null; email?: string } = {}): Promise<TestUser> {
  const email = options.email ?? `oidc${++userCounter}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const user = await h.services.accounts.createUser({ email, password, maxSessions: options.maxSessions ?? null });
  return { id: user.id, email, password };
}

/** openid-client's configuration for a client of the harness (http on loopback: allowInsecureRequests). */
export function discover(
  origin: string,
  c: OidcClient,
  options: { fetch?: client.CustomFetch; auth?: 'basic' | 'post' } = {},
): Promise<client.Configuration> {
  const auth =
    c.clientSecret === undefined
      ? client.None()
      : options.auth === 'post'
        ? client.ClientSecretPost(c.clientSecret)
        : client.ClientSecretBasic(c.clientSecret);
  return client.discovery(new URL(origin), c.clientId, c.clientSecret === undefined ? {} : c.clientSecret, auth, {
    // enableNonRepudiationChecks: the library also verifies the ID token's signature against the JWKS.
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    ...(options.fetch ? { [client.customFetch]: options.fetch } : {}),
  });
}

export interface Recorded {
  url: URL;
  method: string;
  status: number;
  headers: Headers;
  body: string;
}

/** A customFetch that keeps every response the library received (to look at the raw wire values). */
export function recordingFetch(): { fetch: client.CustomFetch; seen: Recorded[]; last(path: string): Recorded } {
  const seen: Recorded[] = [];
  const recorder: client.CustomFetch = async (url, options) => {
    const res = await fetch(url, options as RequestInit);
    seen.push({ url: new URL(url), method: options.method, status: res.status, headers: res.headers, body: await res.clone().text() });
    return res;
  };
  return {
    fetch: recorder,
    seen,
    last(path) {
      const hit = seen.findLast((r) => r.url.pathname === path);
      assert.ok(hit, `the library called ${path}`);
      return hit;
    },
  };
}

/**
 * What openid-client refused: its ClientError wraps oauth4webapi's error, whose message names the
 * claim ('unexpected ID Token "nonce" claim value') and whose code is the kind of check.
 */
export function refusal(error: unknown): { code: string; message: string } {
  assert.ok(error instanceof client.ClientError, `openid-client refused: ${String(error)}`);
  const inner = error.cause instanceof Error ? error.cause : error;
  return { code: String(error.code), message: inner.message };
}

/** The parameters of one authorization request, and the checks the callback needs. */
export interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization URL built by openid-client: code, S256 PKCE, state, nonce, scope `openid email` unless told. */
export async function authRequest(config: client.Configuration, c: OidcClient, extra: Record<string, string> = {}): Promise<AuthRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: c.redirectUri,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** openid-client's code exchange of a callback URL, with every check of the request. */
export function codeGrant(config: client.Configuration, callback: URL, req: AuthRequest, extra: client.AuthorizationCodeGrantChecks = {}) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: req.verifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
    idTokenExpected: true,
    ...extra,
  });
}

/**
 * A browser without a screen: fetch with a cookie jar, never following redirects (the test looks
 * at every hop). Cookies are kept per name (this server sets host-only cookies on one origin).
 */
export class FetchBrowser {
  readonly jar = new Map<string, string>();

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (value === '' || expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /** The raw Set-Cookie line of the last response that set `name` (for attribute checks). */
  lastSetCookie: Record<string, string> = {};

  async request(url: URL | string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size > 0) headers.set('cookie', this.cookieHeader());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) this.lastSetCookie[line.split('=')[0]!.trim()] = line;
    this.keep(res);
    return res;
  }

  /** GET an authorize URL: either the login page (200) or a redirect straight back (302). */
  async authorize(url: URL | string): Promise<{ page?: string; status: number; location?: URL }> {
    const res = await this.request(url);
    if (res.status === 302 || res.status === 303) return { status: res.status, location: new URL(res.headers.get('location')!) };
    return { status: res.status, page: await res.text() };
  }

  /** Opens the login page and submits the password; returns the URL the server sends the browser back to. */
  async signIn(url: URL | string, user: { email: string; password: string }): Promise<URL> {
    const opened = await this.authorize(url);
    assert.equal(opened.status, 200, `the login page is shown (got ${opened.status} ${opened.location ?? ''})`);
    return this.submitLogin(new URL(url), opened.page!, user);
  }

  /** Submits a login page already shown. */
  async submitLogin(url: URL, page: string, user: { email: string; password: string }): Promise<URL> {
    const form = new URLSearchParams({ ...hiddenFields(page), email: user.email, password: user.password });
    const res = await this.request(new URL('/oauth/authorize', url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    assert.equal(res.status, 303, `the login succeeds: ${res.status} ${res.status === 303 ? '' : (await res.text()).slice(0, 300)}`);
    return new URL(res.headers.get('location')!);
  }
}

/** Whether introspection calls the token active: asked by the client itself, or by a resource server of the issuer. */
export async function isActive(h: Harness, token: string, by?: OidcClient): Promise<boolean> {
  const asker = by?.clientSecret !== undefined ? { clientId: by.clientId, clientSecret: by.clientSecret } : await h.resourceServer();
  const res = await h.post('/oauth/introspect', { client_id: asker.clientId, client_secret: asker.clientSecret, token });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().active === true;
}

/** OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token (RS256). */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

export function jwtParts(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [header, payload, signature] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')),
    signature: signature ?? '',
  };
}

function unescapeHtml(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39|#x27);/g,
    (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!,
  );
}

/** The hidden inputs of a form page, in order, whatever the attribute order. */
export function formFields(html: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    const tag = m[0];
    if (!/\btype="hidden"/i.test(tag)) continue;
    const name = /\bname="([^"]*)"/i.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(tag)?.[1] ?? '';
    if (name !== undefined) fields.push([unescapeHtml(name), unescapeHtml(value)]);
  }
  return fields;
}

export function encodeSegment(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A tiny app on loopback for the browser tests: every path answers a page titled by its path; hits are kept. */
export async function appServer(): Promise<{ origin: string; hits: string[]; close(): Promise<void>; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/favicon')) hits.push(req.url ?? '');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><title>App ${req.url?.split('?')[0]}</title><h1>App page</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, hits, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
