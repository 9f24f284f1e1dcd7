/**
 * Issue #14, speed: token issuance with JWT access tokens. Each grant runs again with a client
 * whose tokens are RFC 9068 JWTs (same users, same server, same run), and its server CPU per
 * request is compared with its opaque row plus 1.2 × one ES256 signature from a jose signing
 * ceiling measured in this run (bench/jose-sign-ceiling.ts, on the server's core, before every
 * round): the signature must be the only added cost. The service-token grant (contract §8) runs in
 * both formats here, since it has no opaque row elsewhere.
 */
import { systemClock } from '../src/clock.ts';
import { servicesFor } from '../test/support/harness.ts';
import { type LoadSpec, measure, runLoad } from './load.ts';
import { codeExchange, refreshRotation, type ScenarioResult, samlLogin, type Target, type Timing } from './scenarios.ts';
import { REDIRECT, type Seeded } from './seed.ts';

export interface JwtIssuanceRow {
  grant: string;
  /** the median round of each format (by server CPU per request) */
  opaque: ScenarioResult;
  jwt: ScenarioResult;
  /** per round: the ceiling measured just before it, and the JWT rounds' added CPU over the opaque one (µs) */
  rounds?: Array<{ signMicros: number; oneAtATimeMicros?: number; addedMicros: number }>;
}

/** What bench/jose-sign-ceiling.ts prints: one signature 32 at a time (the ceiling), and one at a time (for reference). */
export interface SignCeiling {
  signMicros: number;
  oneAtATimeMicros: number;
}

export interface JwtIssuanceReport {
  /** one jose ES256 SignJWT, microseconds of CPU: the median of every measurement of this section */
  signMicros: number;
  /** the same signed one at a time (each awaited before the next), median */
  oneAtATimeMicros?: number;
  rows: JwtIssuanceRow[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A row's added CPU per request and its allowance: per round when measured so (paired with that round's ceiling). */
export function rowVerdict(
  row: JwtIssuanceRow,
  ceiling: { signMicros: number; oneAtATimeMicros?: number },
): { added: number; allowed: number; ratio: number; oneAtATimeRatio?: number } {
  const rounds = row.rounds ?? [];
  if (rounds.length) {
    const ratio = median(rounds.map((r) => r.addedMicros / r.signMicros));
    const paired = rounds.filter((r) => r.oneAtATimeMicros !== undefined);
    return {
      added: median(rounds.map((r) => r.addedMicros)),
      allowed: 1.2 * median(rounds.map((r) => r.signMicros)),
      ratio,
      ...(paired.length ? { oneAtATimeRatio: median(paired.map((r) => r.addedMicros / r.oneAtATimeMicros!)) } : {}),
    };
  }
  const added = row.jwt.cpuPerRequest - row.opaque.cpuPerRequest;
  return {
    added,
    allowed: 1.2 * ceiling.signMicros,
    ratio: added / ceiling.signMicros,
    ...(ceiling.oneAtATimeMicros ? { oneAtATimeRatio: added / ceiling.oneAtATimeMicros } : {}),
  };
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

/**
 * Runs the JWT rows on the server of `t`; `opaque` are the same run's opaque rows of refresh,
 * code and SAML. Returns the comparison rows (the service grant in both formats).
 */
export async function jwtIssuance(
  t: Target,
  timing: Timing,
  opaque: { refresh: ScenarioResult; code: ScenarioResult; saml: ScenarioResult },
  signCeiling: () => Promise<SignCeiling>,
  say: (line: string) => void,
): Promise<JwtIssuanceReport> {
  const ceilings: number[] = [];
  const oneAtATime: number[] = [];
  const jwt = { ...t, seeded: await jwtClient(t), pair: undefined };
  const opaqueTarget = { ...t, pair: undefined };
  const rows: JwtIssuanceRow[] = [];
  // The ceiling, then opaque, then JWT, in short rounds, so that all three meet the same machine
  // (a busy 2-core machine drifts by more than one signature between two runs minutes apart, and
  // its two cores differ); each round's added CPU is compared with its own ceiling, and the
  // median round decides.
  const ROUNDS = 5;
  const round: Timing = { ...timing, seconds: Math.max(2, timing.seconds / 3), segments: 1 };
  const medianRun = (rs: ScenarioResult[]) => [...rs].sort((a, b) => a.cpuPerRequest - b.cpuPerRequest)[Math.floor(rs.length / 2)]!;
  const alternate = async (
    grant: string,
    scenario: (target: Target, timing: Timing) => Promise<ScenarioResult>,
    opaqueOf: Target,
    jwtOf: Target,
  ) => {
    say(`JWT access tokens: ${grant}: the signing ceiling, opaque and JWT alternately, ${ROUNDS} rounds …`);
    const o: ScenarioResult[] = [];
    const j: ScenarioResult[] = [];
    const rounds: NonNullable<JwtIssuanceRow['rounds']> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { signMicros, oneAtATimeMicros } = await signCeiling();
      ceilings.push(signMicros);
      oneAtATime.push(oneAtATimeMicros);
      o.push(await scenario(opaqueOf, round));
      j.push(await scenario(jwtOf, round));
      const addedMicros = j.at(-1)!.cpuPerRequest - o.at(-1)!.cpuPerRequest;
      rounds.push({ signMicros, oneAtATimeMicros, addedMicros });
      say(
        `JWT access tokens: ${grant}, round ${i + 1}: ceiling ${signMicros.toFixed(0)} µs, added ${addedMicros.toFixed(0)} µs (×${(addedMicros / signMicros).toFixed(2)})`,
      );
    }
    const row: JwtIssuanceRow = { grant, opaque: medianRun(o), jwt: medianRun(j), rounds };
    rows.push(row);
    const v = rowVerdict(row, { signMicros: median(ceilings) });
    say(
      `JWT access tokens: ${grant}: JWT ${row.jwt.cpuPerRequest.toFixed(0)} µs/request, opaque ${row.opaque.cpuPerRequest.toFixed(0)} (medians); added ${v.added.toFixed(0)} µs = ×${v.ratio.toFixed(2)} of a signature (median round)`,
    );
  };
  await alternate('refresh rotation', refreshRotation, opaqueTarget, jwt);
  await alternate('code exchange', codeExchange, opaqueTarget, jwt);
  const serviceOpaque = await serviceClient(t, 'opaque');
  const serviceJwt = await serviceClient(t, 'jwt');
  await alternate(
    'service token (client_credentials)',
    (target, timing) => serviceTokens(target, timing, target === jwt ? serviceJwt : serviceOpaque),
    opaqueTarget,
    jwt,
  );
  // SAML logins cost milliseconds each (the XML signature check), so one signature is within their
  // noise: one JWT run beside the opaque row of the main table.
  say('JWT access tokens: SAML login …');
  rows.push({ grant: 'SAML login', opaque: opaque.saml, jwt: await samlLogin(jwt, timing) });
  return { signMicros: median(ceilings), oneAtATimeMicros: median(oneAtATime), rows };
}

/**
 * Met or missed; for a row measured in one run (SAML) whose allowance is under 5 % of its CPU per
 * request, neither: its runs differ by more than that (±15 % between runs here), so one run
 * against another cannot resolve one signature.
 */
function verdict(row: JwtIssuanceRow, v: { allowed: number; ratio: number }): string {
  const share = v.allowed / row.opaque.cpuPerRequest;
  if (!row.rounds?.length && share < 0.05)
    return `not resolvable (the allowance is ${(share * 100).toFixed(1)} % of the request's CPU, below its run-to-run noise)`;
  return v.ratio <= 1.2 ? '**met**' : '**missed**';
}

/** The report's section: added CPU per request against 1.2 × one signature. */
export function jwtIssuanceSection(r: JwtIssuanceReport): string[] {
  const lines = [
    '## JWT access tokens: the signature is the only added cost',
    '',
    `Each grant with a client whose access tokens are RFC 9068 JWTs (ES256) and with an opaque one, same server, server CPU per request. Target (issue #14): no more than the opaque row + 1.2 × one signature of a jose ES256 signing ceiling measured in this run (bench/jose-sign-ceiling.ts: \`SignJWT\` of the same claims, 32 at a time, in a child process on the server's core; **${r.signMicros.toFixed(0)} µs**, the median of its measurements${r.oneAtATimeMicros ? `; the same signatures one at a time, each awaited before the next, cost ${r.oneAtATimeMicros.toFixed(0)} µs, shown for reference in the last column — the issue's "ES256 signs in ~70 µs here" reads like that measurement` : ''}). Each round measures the ceiling, then the opaque row, then the JWT row, and its added CPU is compared with its own ceiling, so that a drift of the shared machine between rounds moves both; the median round decides. The µs/request columns are the median rounds of each format. SAML: one JWT run beside the main table's opaque row, against the median ceiling (its logins cost milliseconds each, so one signature is within their noise). Password login is excluded (argon2 dominates it).`,
    '',
    '| grant | opaque req/s | JWT req/s | opaque µs/request | JWT µs/request | added | allowed (1.2 × sign) | added / sign | met | added / one at a time |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const row of r.rows) {
    const v = rowVerdict(row, r);
    const errors = row.jwt.errors + row.opaque.errors;
    lines.push(
      `| ${row.grant} | ${row.opaque.rps.toFixed(0)} | ${row.jwt.rps.toFixed(0)} | ${row.opaque.cpuPerRequest.toFixed(0)} | ${row.jwt.cpuPerRequest.toFixed(0)} | ${v.added >= 0 ? '+' : ''}${v.added.toFixed(0)} µs | ${v.allowed.toFixed(0)} µs | ×${v.ratio.toFixed(2)} | ${verdict(row, v)}${errors ? ` (${errors} errors)` : ''} | ${v.oneAtATimeRatio === undefined ? '–' : `×${v.oneAtATimeRatio.toFixed(2)}`} |`,
    );
  }
  const perRound = r.rows.filter((row) => row.rounds?.length);
  if (perRound.length) {
    lines.push('', 'Each round (ceiling µs [one at a time µs] → added µs, ×ratio to the ceiling):', '');
    for (const row of perRound)
      lines.push(
        `- ${row.grant}: ${row.rounds!.map((x) => `${x.signMicros.toFixed(0)}${x.oneAtATimeMicros === undefined ? '' : ` [${x.oneAtATimeMicros.toFixed(0)}]`} → ${x.addedMicros >= 0 ? '+' : ''}${x.addedMicros.toFixed(0)} (×${(x.addedMicros / x.signMicros).toFixed(2)})`).join(', ')}`,
      );
  }
  lines.push('');
  return lines;
}
