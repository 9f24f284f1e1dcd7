/**
 * The benchmark scenarios against running sei-auth instances. Each one seeds what it consumes
 * (tokens, codes, chains) through the store just before it runs, warms the server up, then
 * measures. Every response is checked, not only its status: a 200 without the expected body is
 * an error too.
 */
import { RFC7522_SAML_GRANT } from '../src/grants/saml-bearer-grant.ts';
import type { Store } from '../src/store/store.ts';
import { type LoadResult, type MeasuredResult, measure, runLoad } from './load.ts';
import { CODE_VERIFIER, mintCodes, PASSWORD, REDIRECT, type Seeded, startSessions } from './seed.ts';

/** One segment of a ceiling, measured right before each segment of the scenario it is paired with. */
export interface CeilingSegment {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuPerRequest: number;
}

export interface PairedCeiling extends CeilingSegment {
  /** req/s of every paired segment */
  segments: number[];
}

export interface Target {
  /** the ceiling paired with this scenario, one segment of `seconds` at a time (absent: no ratio) */
  /** the ceiling alongside: a segment of `seconds` with `connections` parallel connections (ceilings B and C keep their own parallelism) */
  pair?: (seconds: number, connections: number) => Promise<CeilingSegment>;
  urls: string[];
  store: Store;
  seeded: Seeded;
  /** SAML assertions signed beforehand, each usable once; scenarios take from the front */
  assertions: string[];
  /** signs `n` more assertions (outside any measured run); the SAML scenario tops the pool up with it */
  sign?: (n: number) => Promise<string[]>;
}

export interface Timing {
  /** measured time per scenario, split into `segments` runs (the best is reported) */
  seconds: number;
  segments: number;
  connections: number;
  /** refresh rotation and code exchange (each waits for a WAL flush) */
  writeConnections: number;
  /** password and SAML logins (each costs milliseconds of CPU) */
  loginConnections: number;
}

export interface ScenarioResult extends MeasuredResult {
  notes: string[];
  /** SQLite WAL frames (pages) the server's commits wrote per token request over the scenario (its metric) */
  walFramesPerRequest?: number;
  /** the paired ceiling: the best of its segments, each measured just before one of this scenario's */
  paired?: PairedCeiling;
}

/**
 * Runs `measure` with the target's ceiling interleaved: before each scenario segment, one ceiling
 * segment of the same length. On a shared machine whose load drifts, a ratio between two numbers
 * taken seconds apart means much more than one between numbers taken minutes apart.
 */
async function paired(
  t: Target,
  segmentSeconds: () => number,
  connections: number,
  run: (before: () => Promise<void>) => Promise<MeasuredResult>,
  beforeEach?: () => Promise<void>,
): Promise<{ result: MeasuredResult; paired?: PairedCeiling }> {
  const ceiling: CeilingSegment[] = [];
  const result = await run(async () => {
    if (beforeEach) await beforeEach();
    if (t.pair) ceiling.push(await t.pair(segmentSeconds(), connections));
  });
  if (!t.pair || ceiling.length === 0) return { result };
  const best = ceiling.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { result, paired: { ...best, errors: ceiling.reduce((n, c) => n + c.errors, 0), segments: ceiling.map((c) => c.rps) } };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const auth = (s: Seeded) => ({ client_id: s.clientId, client_secret: s.clientSecret });

function tokenResponse(status: number, body: string, field = 'access_token'): boolean {
  if (status !== 200) return false;
  try {
    return typeof (JSON.parse(body) as Record<string, unknown>)[field] === 'string';
  } catch {
    return false;
  }
}

function withNotes(result: MeasuredResult, notes: string[]): ScenarioResult {
  const statuses = Object.entries(result.statuses).filter(([code]) => code !== '200');
  if (statuses.length) notes.push(`unexpected responses: ${statuses.map(([c, n]) => `${c}×${n}`).join(', ')}`);
  if (result.wrongBodies) notes.push(`${result.wrongBodies} 2xx responses without the expected body`);
  return { ...result, notes };
}

/** Segment sizes for runs that end by request count: `seconds / segments` at the probe's rate. */
function perSegment(probe: LoadResult, timing: Timing, connections: number): number {
  return Math.max(connections, Math.round((probe.rps * timing.seconds) / timing.segments));
}

/** RFC 7662 introspection of valid access tokens (one per connection); every answer must say active. */
export async function introspection(
  t: Target,
  timing: Timing,
  seconds = timing.seconds,
  warmup = 2,
  segments = timing.segments,
): Promise<ScenarioResult> {
  const sessions = await startSessions(t.store, t.seeded, timing.connections);
  const bodies = sessions.map((s) => form({ ...auth(t.seeded), token: s.accessToken, token_type_hint: 'access_token' }));
  const spec = {
    urls: t.urls,
    path: '/oauth/introspect',
    connections: timing.connections,
    body: (conn: number) => bodies[conn % bodies.length]!,
    onResponse: (_conn: number, status: number, body: string) => status === 200 && body.includes('"active":true'),
  };
  if (warmup > 0) await runLoad({ ...spec, seconds: warmup });
  const { result, paired: ceiling } = await paired(
    t,
    () => seconds / segments,
    timing.connections,
    (before) => measure(spec, segments, { seconds: seconds / segments }, before),
  );
  return { ...withNotes(result, []), paired: ceiling };
}

/**
 * Refresh-token rotation over `connections` parallel chains (one session each). Every request of
 * a chain presents the refresh token the previous response returned; runs end by request count,
 * so no request is cut off and each chain's last token is known. Afterwards each chain's last
 * token must still refresh (the chain is intact: no rotation lost, no reuse detected).
 */
export async function refreshRotation(t: Target, timing: Timing): Promise<ScenarioResult> {
  const n = timing.writeConnections;
  const sessions = await startSessions(t.store, t.seeded, n);
  const chains = sessions.map((s) => ({ token: s.refreshToken, rotations: 0, failures: 0 }));
  const spec = {
    urls: t.urls,
    path: '/oauth/token',
    connections: n,
    next: (conn: number) => form({ grant_type: 'refresh_token', refresh_token: chains[conn]!.token, ...auth(t.seeded) }),
    onResponse: (conn: number, status: number, body: string) => {
      const chain = chains[conn]!;
      if (!tokenResponse(status, body, 'refresh_token')) {
        chain.failures++;
        return false;
      }
      chain.token = (JSON.parse(body) as { refresh_token: string }).refresh_token;
      chain.rotations++;
      return true;
    },
  };
  await runLoad({ ...spec, amount: n * 20 }); // warm-up
  const probe = await runLoad({ ...spec, amount: n * 30 });
  const { result: main, paired: ceiling } = await paired(
    t,
    () => timing.seconds / timing.segments,
    n,
    (before) => measure(spec, timing.segments, { amount: () => perSegment(probe, timing, n) }, before),
  );

  // Each chain's latest token must still work: one more rotation per chain, over HTTP.
  let intact = 0;
  for (const [i, chain] of chains.entries()) {
    const url = t.urls[i % t.urls.length]!;
    const res = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'refresh_token', refresh_token: chain.token, ...auth(t.seeded) }),
    });
    const body = await res.text();
    if (chain.failures === 0 && tokenResponse(res.status, body, 'refresh_token')) intact++;
  }
  const rotations = chains.reduce((n, c) => n + c.rotations, 0);
  const notes = [
    `${intact}/${chains.length} chains intact after ${rotations} rotations in all (each chain's last token refreshed once more afterwards)`,
  ];
  const result: ScenarioResult = { ...withNotes(main, notes), paired: ceiling };
  if (intact !== chains.length) result.errors += chains.length - intact;
  return result;
}

/** Authorization-code exchange (with PKCE S256), every request a distinct code minted just before. */
export async function codeExchange(t: Target, timing: Timing): Promise<ScenarioResult> {
  const n = timing.writeConnections;
  let pool: string[] = [];
  let next = 0;
  const spec = {
    urls: t.urls,
    path: '/oauth/token',
    connections: n,
    // Past the end of the pool a used code is sent again: the server refuses it, counted as an error.
    next: () =>
      form({
        grant_type: 'authorization_code',
        code: pool[next++ % pool.length]!,
        redirect_uri: REDIRECT,
        code_verifier: CODE_VERIFIER,
        ...auth(t.seeded),
      }),
    onResponse: (_conn: number, status: number, body: string) => tokenResponse(status, body, 'refresh_token'),
  };
  const fresh = async (n: number) => {
    pool = await mintCodes(t.store, t.seeded, n);
    next = 0;
  };
  await fresh(n * 20);
  await runLoad({ ...spec, amount: pool.length }); // warm-up
  await fresh(n * 40);
  const probe = await runLoad({ ...spec, amount: pool.length });
  // Codes live 60 s (AUTHORIZATION_CODE_TTL_MS): each segment's codes are minted just before it.
  let minted = 0;
  const { result: main, paired: ceiling } = await paired(
    t,
    () => timing.seconds / timing.segments,
    n,
    (before) => measure(spec, timing.segments, { amount: () => pool.length }, before),
    async () => {
      await fresh(perSegment(probe, timing, n));
      minted += pool.length;
    },
  );
  return { ...withNotes(main, [`${minted} codes minted beforehand (before each segment), each exchanged once`]), paired: ceiling };
}

/** Email/password login (seed form: grant_type=client_credentials), one user per connection, no session limit. */
export async function passwordLogin(t: Target, timing: Timing, warmup = 2): Promise<ScenarioResult> {
  const emails = t.seeded.loginEmails;
  const spec = {
    urls: t.urls,
    path: '/oauth/token',
    connections: timing.loginConnections,
    body: (conn: number) =>
      form({ grant_type: 'client_credentials', email: emails[conn % emails.length]!, password: PASSWORD, ...auth(t.seeded) }),
    onResponse: (_conn: number, status: number, body: string) => tokenResponse(status, body),
  };
  if (warmup > 0) await runLoad({ ...spec, seconds: warmup });
  const seconds = timing.seconds / timing.segments;
  const { result, paired: ceiling } = await paired(
    t,
    () => seconds,
    timing.loginConnections,
    (before) => measure(spec, timing.segments, { seconds }, before),
  );
  return { ...withNotes(result, []), paired: ceiling };
}

/** SAML 2.0 bearer login (RFC 7522 `assertion`), every request a distinct pre-signed assertion. */
export async function samlLogin(t: Target, timing: Timing): Promise<ScenarioResult> {
  const spec = {
    urls: t.urls,
    path: '/oauth/token',
    connections: timing.loginConnections,
    next: () => {
      // An exhausted pool repeats the last assertion: the replay cache refuses it (an error).
      const assertion = t.assertions.length > 1 ? t.assertions.shift()! : t.assertions[0]!;
      return form({ grant_type: RFC7522_SAML_GRANT, assertion, ...auth(t.seeded) });
    },
    onResponse: (_conn: number, status: number, body: string) => tokenResponse(status, body),
  };
  // Signing costs ~10 ms of CPU per assertion: sign what each step needs, just before it.
  const ensure = async (n: number) => {
    if (t.sign && t.assertions.length < n + 1) t.assertions.push(...(await t.sign(n + 1 - t.assertions.length)));
  };
  // A longer warm-up than the other scenarios: the XML and signature code paths take a few
  // hundred documents to be optimised by the JIT (the paired ceiling C child warms up for 3 s).
  await ensure(timing.loginConnections * 60);
  await runLoad({ ...spec, amount: timing.loginConnections * 60 }); // warm-up
  await ensure(timing.loginConnections * 10);
  const probe = await runLoad({ ...spec, amount: timing.loginConnections * 10 });
  await ensure(Math.ceil(perSegment(probe, timing, timing.loginConnections) * timing.segments * 1.1));
  const left = () =>
    Math.max(timing.loginConnections, Math.min(perSegment(probe, timing, timing.loginConnections), t.assertions.length - 1));
  const { result: main, paired: ceiling } = await paired(
    t,
    () => timing.seconds / timing.segments,
    timing.loginConnections,
    (before) => measure(spec, timing.segments, { amount: left }, before),
  );
  return { ...withNotes(main, [`${main.requests} distinct pre-signed assertions`]), paired: ceiling };
}

/**
 * Mixed traffic for the soak: per 8 connections, 4 introspect, 2 rotate refresh chains, 1 logs in
 * with a password and 1 with SAML (falling back to introspection once the signed pool runs out).
 *
 * With `shortLived` (a client whose tokens live seconds), the logins and the refresh chains use
 * that client, and every `renewEveryMs` each chain moves on to a fresh session (minted in the
 * store) before its old one expires: everything the soak writes, apart from the introspected
 * sessions and the security events, expires while it runs, for maintenance to prune.
 */
export async function mixedTraffic(
  t: Target,
  timing: Timing,
  seconds: number,
  shortLived?: { seeded: Seeded; renewEveryMs: number },
): Promise<ScenarioResult & { mix: Record<string, number>; renewals: number }> {
  const n = timing.connections;
  const sessions = await startSessions(t.store, t.seeded, n);
  const writer = shortLived?.seeded ?? t.seeded;
  const chains = sessions.map((s) => s.refreshToken);
  const chainConns = chains.map((_, conn) => conn).filter((conn) => conn % 8 === 4 || conn % 8 === 5);
  let renewals = 0;
  const renewChains = async () => {
    const fresh = await startSessions(t.store, writer, chainConns.length);
    chainConns.forEach((conn, i) => {
      chains[conn] = fresh[i]!.refreshToken;
    });
    renewals++;
  };
  if (shortLived) await renewChains();
  // The token each chain's request in flight presented: a renewal meanwhile wins over its answer.
  const sent: string[] = [];
  // The renewal in flight, awaited before returning: the caller closes the store afterwards.
  let renewing: Promise<void> | undefined;
  const renewal = shortLived
    ? setInterval(() => {
        if (renewing) return;
        renewing = renewChains().finally(() => {
          renewing = undefined;
        });
      }, shortLived.renewEveryMs)
    : undefined;
  const mix: Record<string, number> = { introspection: 0, refresh: 0, password: 0, saml: 0 };
  const introspect = (conn: number) => {
    mix.introspection!++;
    return { path: '/oauth/introspect', body: form({ ...auth(t.seeded), token: sessions[conn]!.accessToken }) };
  };
  const spec = {
    urls: t.urls,
    path: '/oauth/token',
    connections: n,
    next: (conn: number) => {
      switch (conn % 8) {
        case 4:
        case 5:
          mix.refresh!++;
          sent[conn] = chains[conn]!;
          return { path: '/oauth/token', body: form({ grant_type: 'refresh_token', refresh_token: chains[conn]!, ...auth(writer) }) };
        case 6:
          mix.password!++;
          return {
            path: '/oauth/token',
            body: form({
              grant_type: 'client_credentials',
              email: t.seeded.loginEmails[conn % t.seeded.loginEmails.length]!,
              password: PASSWORD,
              ...auth(writer),
            }),
          };
        case 7:
          if (t.assertions.length === 0) return introspect(conn);
          mix.saml!++;
          return {
            path: '/oauth/token',
            body: form({ grant_type: RFC7522_SAML_GRANT, assertion: t.assertions.shift()!, ...auth(writer) }),
          };
        default:
          return introspect(conn);
      }
    },
    onResponse: (conn: number, status: number, body: string) => {
      if (conn % 8 === 4 || conn % 8 === 5) {
        if (!tokenResponse(status, body, 'refresh_token')) return false;
        if (chains[conn] === sent[conn]) chains[conn] = (JSON.parse(body) as { refresh_token: string }).refresh_token;
        return true;
      }
      return status === 200 && (body.includes('"active":true') || tokenResponse(status, body));
    },
  };
  try {
    const result = await measure(spec, 1, { seconds });
    return { ...withNotes(result, []), mix, renewals };
  } finally {
    if (renewal) clearInterval(renewal);
    await renewing;
  }
}
