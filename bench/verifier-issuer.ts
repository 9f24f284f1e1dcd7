/**
 * The issuer side of the verifier bench, in whatever process needs it: a signing key per
 * algorithm, a loopback JWKS endpoint and an introspection endpoint answering active for every
 * token it was told about. Fetched once per verifier; it is not what the bench measures.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export type Alg = 'ES256' | 'RS256' | 'EdDSA';
export const AUDIENCE = 'https://api.bench.example';

export interface BenchIssuer {
  issuer: string;
  publicKeys: Record<Alg, CryptoKey>;
  sign(alg: Alg, n: number): Promise<string>;
  opaque(n: number): string;
  close(): Promise<void>;
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const keys = {} as Record<Alg, { kid: string; privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK }>;
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    keys[alg] = { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }
  const jwks = JSON.stringify({ keys: Object.values(keys).map((k) => k.jwk) });
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/oauth/jwks') return void res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      if (req.url === '/oauth/introspect') {
        const now = Math.floor(Date.now() / 1000);
        const token = new URLSearchParams(body).get('token') ?? '';
        const answer = token.startsWith('sat_bench_')
          ? {
              active: true,
              sub: 'usr_bench',
              client_id: 'cl_bench',
              scope: 'orders:read',
              exp: now + 3600,
              iat: now,
              aud: AUDIENCE,
              iss: issuer,
              token_type: 'Bearer',
              email: 'b@bench.example',
              sid: 'ses_bench',
            }
          : { active: false };
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    publicKeys: { ES256: keys.ES256.publicKey, RS256: keys.RS256.publicKey, EdDSA: keys.EdDSA.publicKey },
    sign(alg, n) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ scope: 'orders:read profile', client_id: 'cl_bench', email: `user-${n}@bench.example`, sid: `ses_${n}` })
        .setProtectedHeader({ alg, kid: keys[alg].kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject(`usr_${n}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .setJti(randomUUID())
        .sign(keys[alg].privateKey);
    },
    opaque: (n) => `sat_bench_${n.toString(36).padStart(8, '0')}${'x'.repeat(24)}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
