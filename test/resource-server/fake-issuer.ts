/**
 * A tiny issuer for the verifier's tests (loopback, node:http): a JWKS the tests rotate and
 * retire keys in, an introspection endpoint answering what the tests registered, and switches to
 * make either endpoint go down, answer 500 or garbage, or answer slowly.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export type Alg = 'ES256' | 'RS256' | 'EdDSA';
export type Mode = 'up' | 'down' | 'error500' | 'garbage' | 'slow';

interface Key {
  kid: string;
  alg: Alg;
  privateKey: CryptoKey;
  publicJwk: JWK;
  published: boolean;
}

export interface FakeIssuer {
  issuer: string;
  audience: string;
  /** the resource server's credentials at the introspection endpoint */
  clientId: string;
  clientSecret: string;
  jwksFetches: number;
  introspections: number;
  /** the decoded Basic credentials and body of the last introspection request */
  lastIntrospection: { clientId: string; clientSecret: string; form: URLSearchParams } | undefined;
  jwksMode: Mode;
  introspectionMode: Mode;
  slowMs: number;
  addKey(alg?: Alg): Promise<string>;
  /** removes a key from the JWKS (its tokens then fail as signed by an unknown key) */
  retire(kid: string): void;
  publicJwk(kid: string): JWK;
  /** a JWT access token (RFC 9068) signed by `kid` (default: the newest key), claims overridable */
  sign(claims?: JWTPayload, options?: { kid?: string; typ?: string | null; header?: Record<string, unknown> }): Promise<string>;
  /** the claims of a valid user token for this issuer and audience */
  claims(extra?: JWTPayload): JWTPayload;
  /** registers an opaque token and the introspection answer to give for it */
  opaque(answer: Record<string, unknown>, token?: string): string;
  /** an active answer for a user token */
  activeAnswer(extra?: Record<string, unknown>): Record<string, unknown>;
  revoke(token: string): void;
  close(): Promise<void>;
}

export async function startFakeIssuer(options: { clientId?: string; clientSecret?: string; audience?: string } = {}): Promise<FakeIssuer> {
  const keys: Key[] = [];
  const answers = new Map<string, Record<string, unknown>>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeIssuer = {
    issuer,
    audience: options.audience ?? 'https://api.example',
    clientId: options.clientId ?? 'rs_client',
    clientSecret: options.clientSecret ?? 'rs_secret',
    jwksFetches: 0,
    introspections: 0,
    lastIntrospection: undefined,
    jwksMode: 'up',
    introspectionMode: 'up',
    slowMs: 2000,
    async addKey(alg = 'ES256') {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = randomUUID();
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
      keys.push({ kid, alg, privateKey, publicJwk, published: true });
      return kid;
    },
    retire(kid) {
      const key = keys.find((k) => k.kid === kid);
      if (key) key.published = false;
    },
    publicJwk(kid) {
      return keys.find((k) => k.kid === kid)!.publicJwk;
    },
    claims(extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: issuer,
        sub: 'usr_1',
        aud: fake.audience,
        exp: now + 300,
        iat: now,
        jti: randomUUID(),
        client_id: 'cl_app',
        scope: 'orders:read profile',
        email: 'ada@example.com',
        sid: 'ses_1',
        ...extra,
      };
    },
    async sign(claims = fake.claims(), o = {}) {
      const key = o.kid ? keys.find((k) => k.kid === o.kid) : keys.at(-1);
      if (!key) throw new Error('no key');
      const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, ...o.header };
      if (o.typ !== null) header.typ = o.typ ?? 'at+jwt';
      return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    opaque(answer, token = `sat_${randomUUID().replaceAll('-', '')}`) {
      answers.set(token, answer);
      return token;
    },
    activeAnswer(extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        active: true,
        scope: 'orders:read profile',
        client_id: 'cl_app',
        sub: 'usr_1',
        email: 'ada@example.com',
        exp: now + 300,
        iat: now,
        aud: fake.audience,
        iss: issuer,
        token_type: 'Bearer',
        sid: 'ses_1',
        ...extra,
      };
    },
    revoke(token) {
      answers.set(token, { active: false });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  /** Applies the endpoint's mode; true when it already answered (or hung up). */
  async function misbehave(mode: Mode, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (mode === 'down') {
      req.socket.destroy();
      return true;
    }
    if (mode === 'error500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      return true;
    }
    if (mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ not json');
      return true;
    }
    if (mode === 'slow') await new Promise((r) => setTimeout(r, fake.slowMs));
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method === 'GET' && req.url === '/oauth/jwks') {
      fake.jwksFetches++;
      if (await misbehave(fake.jwksMode, req, res)) return;
      const jwks = { keys: keys.filter((k) => k.published).map((k) => k.publicJwk) };
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(jwks));
      return;
    }
    if (req.method === 'POST' && req.url === '/oauth/introspect') {
      fake.introspections++;
      if (await misbehave(fake.introspectionMode, req, res)) return;
      const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [id, secret] = Buffer.from(auth?.[1] ?? '', 'base64')
        .toString()
        .split(':')
        .map((s) => decodeURIComponent(s.replaceAll('+', ' ')));
      const form = new URLSearchParams(body);
      fake.lastIntrospection = { clientId: id ?? '', clientSecret: secret ?? '', form };
      if (id !== fake.clientId || secret !== fake.clientSecret) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const answer = answers.get(form.get('token') ?? '') ?? { active: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      return;
    }
    res.writeHead(404).end();
  }

  return fake;
}
