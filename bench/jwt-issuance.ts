/**
 * Issue #14, speed: token issuance with JWT access tokens. Each grant runs again with a client
 * whose tokens are RFC 9068 JWTs (same users, same server, same run), and its server CPU per
 * request is compared with its opaque row plus 1.2 × one ES256 signature from a jose signing
 * ceiling measured in this run: the signature must be the only added cost. The service-token
 * grant (contract §8) runs in both formats here, since it has no opaque row elsewhere.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { systemClock } from '../src/clock.ts';
import { servicesFor } from '../test/support/harness.ts';
import { type LoadSpec, measure, runLoad } from './load.ts';
import { codeExchange, refreshRotation, type ScenarioResult, samlLogin, type Target, type Timing } from './scenarios.ts';
import { REDIRECT, type Seeded } from './seed.ts';

export interface JwtIssuanceRow {
  grant: string;
  opaque: ScenarioResult;
  jwt: ScenarioResult;
}

export interface JwtIssuanceReport {
  /** one jose ES256 SignJWT, microseconds of CPU (32 at a time; median of 3 rounds, in the load generator's process) */
  signMicros: number;
  rows: JwtIssuanceRow[];
}

/** The same client as `seeded`'s, issuing JWT access tokens (the users and the IdP are shared). */
async function jwtClient(t: Target): Promise<Seeded> {
  const services = servicesFor(t.store, systemClock);
  const { client_id, client_secret } = await services.clients.createClient({
    name: 'bench (JWT access tokens)',
    redirectUrls: [REDIRECT],
    refreshTokens: true,
    allowNoPkce: false,
    accessTokenFormat: 'jwt',
  });
  return { ...t.seeded, clientId: client_id, clientSecret: client_secret, client: (await t.store.clients.find(client_id))! };
}

async function serviceClient(t: Target, format: 'opaque' | 'jwt'): Promise<{ id: string; secret: string }> {
  const services = servicesFor(t.store, systemClock);
  const made = await services.clients.createClient({
    name: `bench service (${format})`,
    redirectUrls: [],
    service: true,
    scopes: ['bench:run'],
    accessTokenFormat: format,
  });
  return { id: made.client_id, secret: made.client_secret };
}

/** RFC 6749 §4.4 for a service client: each request a new token, written with its event. */
async function serviceTokens(t: Target, timing: Timing, client: { id: string; secret: string }): Promise<ScenarioResult> {
  const spec: LoadSpec = {
    urls: t.urls,
    path: '/oauth/token',
    connections: timing.writeConnections,
    body: () =>
      `grant_type=client_credentials&client_id=${encodeURIComponent(client.id)}&client_secret=${encodeURIComponent(client.secret)}`,
    onResponse: (_conn, status, body) => status === 200 && body.includes('"access_token"'),
  };
  await runLoad({ ...spec, seconds: 2 });
  const result = await measure(spec, timing.segments, { seconds: timing.seconds / timing.segments });
  return { ...result, notes: [] };
}

/** CPU microseconds of one ES256 signature of an access token's claims, as the server makes it. */
export async function joseSignCeiling(): Promise<number> {
  const { privateKey } = await generateKeyPair('ES256');
  const claims = {
    iss: 'http://127.0.0.1:8080',
    sub: 'usr_0123456789abcdef',
    aud: 'http://127.0.0.1:8080',
    client_id: 'cl_0123456789abcdef',
    email: 'bench@example.com',
    sid: 'ses_0123456789abcdef',
    jti: 'x'.repeat(32),
  };
  const sign = () =>
    new SignJWT({ ...claims, iat: 1, exp: 2 }).setProtectedHeader({ alg: 'ES256', kid: 'k', typ: 'at+jwt' }).sign(privateKey);
  // In batches of 32 at once, as the server signs under load (WebCrypto runs each signature as a
  // job off the event loop: one at a time, the hand-offs cost as much again as the signature).
  const round = async (n: number) => {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: 32 }, sign));
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  await round(3200); // warm-up
  const rounds = [await round(6400), await round(6400), await round(6400)].sort((a, b) => a - b);
  return rounds[1]!;
}

/**
 * Runs the JWT rows on the server of `t`; `opaque` are the same run's opaque rows of refresh,
 * code and SAML. Returns the comparison rows (the service grant in both formats).
 */
export async function jwtIssuance(
  t: Target,
  timing: Timing,
  opaque: { refresh: ScenarioResult; code: ScenarioResult; saml: ScenarioResult },
  say: (line: string) => void,
): Promise<JwtIssuanceReport> {
  say('JWT access tokens: the jose ES256 signing ceiling …');
  const signMicros = await joseSignCeiling();
  say(`JWT access tokens: one ES256 signature = ${signMicros.toFixed(0)} µs CPU`);
  const jwt = { ...t, seeded: await jwtClient(t), pair: undefined };
  const rows: JwtIssuanceRow[] = [];
  const run = async (grant: string, opaqueResult: ScenarioResult, jwtRun: () => Promise<ScenarioResult>) => {
    say(`JWT access tokens: ${grant} …`);
    const result = await jwtRun();
    rows.push({ grant, opaque: opaqueResult, jwt: result });
    say(
      `JWT access tokens: ${grant}: ${result.rps.toFixed(0)} req/s, ${result.cpuPerRequest.toFixed(0)} µs/request (opaque ${opaqueResult.cpuPerRequest.toFixed(0)})`,
    );
  };
  await run('refresh rotation', opaque.refresh, () => refreshRotation(jwt, timing));
  await run('code exchange', opaque.code, () => codeExchange(jwt, timing));
  await run('SAML login', opaque.saml, () => samlLogin(jwt, timing));
  say('JWT access tokens: service tokens (client_credentials, contract §8), opaque then JWT …');
  const serviceOpaque = await serviceTokens(t, timing, await serviceClient(t, 'opaque'));
  const serviceJwt = await serviceTokens(t, timing, await serviceClient(t, 'jwt'));
  rows.push({ grant: 'service token (client_credentials)', opaque: serviceOpaque, jwt: serviceJwt });
  return { signMicros, rows };
}

/** The report's section: added CPU per request against 1.2 × one signature. */
export function jwtIssuanceSection(r: JwtIssuanceReport): string[] {
  const lines = [
    '## JWT access tokens: the signature is the only added cost',
    '',
    `Each grant again with a client whose access tokens are RFC 9068 JWTs (ES256), same server and run; server CPU per request against its opaque row. Target (issue #14): no more than the opaque row + 1.2 × one signature of a jose ES256 ceiling measured in this run (**${r.signMicros.toFixed(0)} µs**, so + ${(1.2 * r.signMicros).toFixed(0)} µs). Password login is excluded (argon2 dominates it).`,
    '',
    '| grant | opaque req/s | JWT req/s | opaque µs/request | JWT µs/request | added | allowed (1.2 × sign) | met |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of r.rows) {
    const added = row.jwt.cpuPerRequest - row.opaque.cpuPerRequest;
    const allowed = 1.2 * r.signMicros;
    lines.push(
      `| ${row.grant} | ${row.opaque.rps.toFixed(0)} | ${row.jwt.rps.toFixed(0)} | ${row.opaque.cpuPerRequest.toFixed(0)} | ${row.jwt.cpuPerRequest.toFixed(0)} | ${added >= 0 ? '+' : ''}${added.toFixed(0)} µs | ${allowed.toFixed(0)} µs | ${added <= allowed ? '**met**' : '**missed**'}${row.jwt.errors + row.opaque.errors ? ` (${row.jwt.errors + row.opaque.errors} errors)` : ''} |`,
    );
  }
  lines.push('');
  return lines;
}
