/**
 * `npm run bench`: measures sei-auth's token endpoint against this machine's own ceilings and
 * writes docs/benchmarks.md. See docs/benchmarks.md for what each row means; the settings are
 * BENCH_* variables (bench/config.ts). Everything runs over loopback, every child process is
 * killed by PID at the end (also on failure), and each run is bounded in time.
 */

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { RateLimits } from '../src/http/rate-limiter.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { addressBucket } from '../src/throttle/login-throttle.ts';
import { scratchSchema, TEST_KEY_ENCRYPTION_KEY } from '../test/support/harness.ts';
import { type BenchConfig, benchVariables, readConfig, type ScenarioName } from './config.ts';
import { jwtIssuance, jwtIssuanceSection, type SignCeiling } from './jwt-issuance.ts';
import { measure, probeServerCpu, runLoad } from './load.ts';
import {
  type CeilingSetup,
  introspectionCeiling,
  type PgbenchCeiling,
  type PgbenchRun,
  pgbenchAvailable,
  refreshCeiling,
} from './pgbench-ceiling.ts';
import {
  allCores,
  BIN,
  type Child,
  cpuSecondsOf,
  cpuSplitOf,
  decidePinning,
  freePort,
  installCleanup,
  killAllChildren,
  memoryOf,
  type Pinning,
  pinSelf,
  ROOT,
  runNodeJson,
  spawnNode,
  waitReady,
} from './processes.ts';
import { formatSummary, summarise } from './profile-summary.ts';
import { type DatabaseBytes, loadAverage, machineInfo, postgresSection, type Report, type Row, writeReport } from './report.ts';
import {
  type CeilingSegment,
  codeExchange,
  introspection,
  mixedTraffic,
  passwordLogin,
  refreshRotation,
  type ScenarioResult,
  samlLogin,
  type Target,
  type Timing,
} from './scenarios.ts';
import { type Seeded, seedBasics, seedShortLivedClient } from './seed.ts';
import type { LoopResult } from './stats.ts';
import { renderVerifierSection, runVerifierBench, spliceVerifierSection } from './verifier.ts';

const ISSUER = 'https://auth.bench.example';
const started = Date.now();
const say = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const fmt = (r: {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  segments?: number[];
  serverCpu?: number;
  loadCpu?: number;
  cpuPerRequest?: number;
}) =>
  `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}` +
  (r.segments && r.segments.length > 1 ? ` [segments ${r.segments.map((x) => x.toFixed(0)).join(' / ')}]` : '') +
  (r.serverCpu !== undefined && Number.isFinite(r.serverCpu)
    ? ` [server CPU ${(100 * r.serverCpu).toFixed(0)} % = ${(r.cpuPerRequest ?? 0).toFixed(0)} µs/request, load generator CPU ${(100 * (r.loadCpu ?? 0)).toFixed(0)} %]`
    : '');

/** Processes under test right now: every run reports the CPU they used (see probeServerCpu). */
const underTest = new Set<number>();
probeServerCpu(() => [...underTest].reduce((n, pid) => n + cpuSecondsOf(pid), 0));
function track(child: Child): void {
  underTest.add(child.pid);
  void child.exited.then(() => underTest.delete(child.pid));
}

interface Server {
  url: string;
  child: Child;
  /** the server's loopback metrics listener (METRICS_PORT) */
  metricsUrl?: string;
}

/** The server's write counters, from its metrics: WAL frames and token requests so far. */
async function writeCounters(metricsUrl: string): Promise<{ frames: number; tokenRequests: number }> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let frames = 0;
  let tokenRequests = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('sei_auth_sqlite_wal_frames_total ')) frames = Number(line.split(' ')[1]);
    else if (line.startsWith('sei_auth_token_requests_total{')) tokenRequests += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { frames, tokenRequests };
}

/** Runs a scenario and notes the WAL frames its token requests wrote, each (SQLite servers with a metrics listener). */
async function withWalFrames(servers: readonly Server[], run: () => Promise<ScenarioResult>): Promise<ScenarioResult> {
  const urls = servers.map((s) => s.metricsUrl).filter((u): u is string => u !== undefined);
  if (urls.length === 0) return run();
  const sum = async () => {
    const all = await Promise.all(urls.map(writeCounters));
    return { frames: all.reduce((n, c) => n + c.frames, 0), tokenRequests: all.reduce((n, c) => n + c.tokenRequests, 0) };
  };
  const before = await sum();
  const result = await run();
  const after = await sum();
  const requests = after.tokenRequests - before.tokenRequests;
  if (requests > 0 && after.frames > 0) result.walFramesPerRequest = (after.frames - before.frames) / requests;
  return result;
}

/** One jose ES256 signature, µs of CPU, on the server's core (bench/jose-sign-ceiling.ts). */
function joseSignCeiling(pin: Pinning): Promise<SignCeiling> {
  return runNodeJson<SignCeiling>(['--import', 'tsx', 'bench/jose-sign-ceiling.ts'], {
    core: pin.serverCore,
    pin,
    timeoutMs: 120_000,
  });
}

interface ServerOptions {
  databaseUrl: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** 'off' disables both rate limits; 'high' sets them far above what the run reaches */
  rateLimits: 'off' | 'high';
  pin: Pinning;
  /** pinned to the server core unless false */
  pinned?: boolean;
  profileDir?: string;
  /** more environment variables for the server */
  env?: NodeJS.ProcessEnv;
}

async function startSeiAuth(o: ServerOptions): Promise<Server> {
  const port = await freePort();
  const metricsPort = await freePort();
  const limit = o.rateLimits === 'off' ? '0' : '1000000';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: o.databaseUrl,
    ISSUER,
    LOG_LEVEL: 'warn',
    SQLITE_SYNCHRONOUS: o.synchronous ?? 'FULL',
    METRICS_PORT: String(metricsPort),
    RATE_LIMIT_PER_IP: limit,
    RATE_LIMIT_PER_CLIENT: limit,
    // The key the bench process seals signing keys with too (it seeds JWT sessions through the services).
    KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY.toString('base64'),
    ...o.env,
  };
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: it goes on the command line.
  const profile = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [];
  const child = spawnNode([...profile, BIN, 'serve'], { env, core: o.pinned === false ? undefined : o.pin.serverCore, pin: o.pin });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/readyz`);
  track(child);
  return { url, child, metricsUrl: `http://127.0.0.1:${metricsPort}` };
}

const PRUNED_TABLES = new Set(['sessions', 'access_tokens', 'refresh_tokens', 'authorization_codes']);

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Measured with SQLite's dbstat table on a read-only connection (the server keeps running). */
function databaseBytes(file: string): DatabaseBytes {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT s.tbl_name AS t, SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_schema s ON s.name = d.name GROUP BY s.tbl_name')
      .all() as Array<{ t: string; bytes: number }>;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const free = (db.pragma('freelist_count', { simple: true }) as number) * pageSize;
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const sum = (keep: (t: string) => boolean) => rows.filter((r) => keep(r.t)).reduce((n, r) => n + r.bytes, 0);
    return {
      db: fileBytes(file),
      wal: fileBytes(`${file}-wal`),
      pruned: sum((t) => PRUNED_TABLES.has(t)),
      events: sum((t) => t === 'security_events'),
      other: sum((t) => !PRUNED_TABLES.has(t) && t !== 'security_events'),
      free,
      rows: {
        sessions: count('sessions'),
        tokens: count('access_tokens') + count('refresh_tokens'),
        codes: count('authorization_codes'),
        events: count('security_events'),
      },
    };
  } finally {
    db.close();
  }
}

/** Samples a file's size (with its WAL) every `everyMs`; stop() returns the samples. */
function sampleDatabaseSize(file: string, everyMs: number) {
  const samples: Array<{ t: number; bytes: number }> = [];
  const t0 = Date.now();
  const take = () => samples.push({ t: (Date.now() - t0) / 1000, bytes: fileBytes(file) + fileBytes(`${file}-wal`) });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** The soak's short-lived client: its logins and refresh chains expire within seconds (see mixedTraffic). */
const SOAK_LIFETIMES = { accessTtl: 5, refreshTtl: 10 };
/** How often the soak's refresh chains move to fresh sessions: well within SOAK_LIFETIMES.refreshTtl. */
const SOAK_RENEW_MS = 3000;
/** The SQLite FULL server's MAINTENANCE_INTERVAL (seconds), with SESSION_RETENTION_DAYS=0. */
const SOAK_MAINTENANCE = 2;

/** Samples a process's memory every `everyMs`; stop() returns the samples (bytes of VmRSS) and the peak (VmHWM). */
function sampleMemory(pid: number, everyMs: number) {
  const samples: Array<{ t: number; rss: number }> = [];
  const t0 = Date.now();
  let hwm = 0;
  const take = () => {
    const m = memoryOf(pid);
    if (m) {
      samples.push({ t: (Date.now() - t0) / 1000, rss: m.rss });
      hwm = Math.max(hwm, m.hwm);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { samples, hwm };
    },
  };
}

// ---------------------------------------------------------------- ceilings

/** Ceiling A's process (bench/ceiling-server.ts), kept running (idle between segments) for the whole run. */
async function startCeilingServer(pin: Pinning): Promise<Server> {
  const port = await freePort();
  const child = spawnNode(['--import', 'tsx', 'bench/ceiling-server.ts'], {
    env: { ...process.env, PORT: String(port) },
    core: pin.serverCore,
    pin,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/readyz`);
  track(child);
  return { url, child };
}

function ceilingSpec(url: string, cfg: BenchConfig) {
  return {
    urls: [url],
    path: '/oauth/token',
    connections: cfg.connections,
    // The size of a real password-login form.
    body: () =>
      'grant_type=client_credentials&client_id=cl_0123456789abcdef&client_secret=scs_0123456789abcdefghijklmnopqrstuvwxyz&email=user-0%40bench.example&password=bench-password-0123',
    onResponse: (_c: number, status: number) => status === 200,
  };
}

async function ceilingChild(
  script: string,
  cfg: BenchConfig,
  pin: Pinning,
  seconds: number,
  segments: number,
  warmup: number,
): Promise<LoopResult> {
  return runNodeJson<LoopResult>(['--import', 'tsx', script], {
    env: {
      ...process.env,
      PARALLEL: String(cfg.loginConnections),
      BENCH_CHILD_SECONDS: String(seconds),
      SEGMENTS: String(segments),
      WARMUP: String(warmup),
      DOCS: '50',
      ISSUER,
    },
    core: pin.serverCore,
    pin,
    timeoutMs: (seconds + 90) * 1000,
  });
}

/**
 * A ceiling child kept running (pinned like the server, warmed up once, idle between segments)
 * that measures one segment per request over IPC — see serveCeiling in stats.ts.
 */
function ceilingService(script: string, cfg: BenchConfig, pin: Pinning): (seconds: number) => Promise<CeilingSegment> {
  let child: Child | undefined;
  let ready: Promise<unknown> | undefined;
  const died = () =>
    new Promise<never>(
      (_, reject) => void child!.exited.then((code) => reject(new Error(`${script} exited (${code}):\n${child!.output()}`))),
    );
  return async (seconds) => {
    if (!child) {
      child = spawnNode(['--import', 'tsx', script], {
        env: { ...process.env, PARALLEL: String(cfg.loginConnections), WARMUP: '3', DOCS: '50', ISSUER },
        core: pin.serverCore,
        pin,
        ipc: true,
      });
      ready = Promise.race([new Promise((resolve) => child!.child.once('message', resolve)), died()]);
    }
    await ready;
    const c = child;
    return Promise.race([
      new Promise<CeilingSegment>((resolve) => {
        c.child.once('message', (m) => resolve(m as CeilingSegment));
        c.child.send({ seconds });
      }),
      died(),
    ]);
  };
}

/** The paired-ceiling segments (see `paired` in scenarios.ts): A over HTTP, B and C from warm child processes. */
function pairings(
  cfg: BenchConfig,
  pin: Pinning,
  ceilingUrl: string,
): Record<'A' | 'B' | 'C', (seconds: number, connections: number) => Promise<CeilingSegment>> {
  return {
    // Ceiling A alongside a scenario runs with that scenario's number of connections.
    A: async (seconds, connections) => runLoad({ ...ceilingSpec(ceilingUrl, cfg), connections, seconds }),
    B: ceilingService('bench/argon2-ceiling.ts', cfg, pin),
    C: ceilingService('bench/saml-ceiling.ts', cfg, pin),
  };
}

/** Signs `count` assertions in two child processes side by side (one per core when pinned). */
async function signPool(count: number, seeded: Seeded, dir: string, pin: Pinning): Promise<string[]> {
  const halves = [Math.ceil(count / 2), Math.floor(count / 2)];
  const files = halves.map((_, i) => join(dir, `assertions-${Date.now()}-${i}.json`));
  await Promise.all(
    halves.map((n, i) =>
      runNodeJson(['--import', 'tsx', 'bench/sign-assertions.ts'], {
        env: { ...process.env, COUNT: String(n), ISSUER, EMAILS: seeded.samlEmails.join(','), OUT: files[i]! },
        core: i === 0 ? pin.serverCore : pin.loadCore,
        pin,
        timeoutMs: 300_000,
      }),
    ),
  );
  const out = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as string[]);
  for (const f of files) rmSync(f, { force: true });
  return out;
}

/** SAML assertions are signed by two child processes (one per core) whenever a scenario needs more, never during a measured run. */
function signerFor(dir: string, pin: Pinning) {
  return (seeded: Seeded) => async (n: number) => {
    say(`signing ${n} SAML assertions (two processes) …`);
    return signPool(n, seeded, dir, pin);
  };
}

/** The rate limiter's own work per authenticated request (limits far from triggering), in ns, timed in this process. */
function limiterCost(): number {
  // A clock that moves 1 ms per reading: this loop calls far faster than any real client, and
  // the limits must not trigger (a refused request would measure the error path instead).
  let t = Date.now();
  const limits = new RateLimits({ perIp: 1_000_000, perClient: 1_000_000 }, { now: () => (t += 1) });
  const n = 1_000_000;
  const run = () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      // On arrival (the address's budget, read only), then once the client authenticated.
      limits.addressWait(addressBucket('127.0.0.1'));
      limits.clientAuthenticated('cl_0123456789abcdef');
    }
    return Number(process.hrtime.bigint() - start) / n;
  };
  run(); // warm-up
  return Math.min(run(), run(), run());
}

// ---------------------------------------------------------------- stores

async function sqliteDatabase(dir: string, name: string): Promise<string> {
  return `sqlite:${join(dir, `${name}.db`)}`;
}

function postgresSchema(base: string): Promise<{ url: string; drop: () => Promise<void> }> {
  return scratchSchema(base, `bench_${process.pid}_${Date.now().toString(36)}`);
}

async function seededStore(
  databaseUrl: string,
  synchronous: 'FULL' | 'NORMAL',
  cfg: BenchConfig,
): Promise<{ store: Store; seeded: Seeded }> {
  const store = await openStore({ databaseUrl, now: Date.now(), sqliteSynchronous: synchronous });
  const seeded = await seedBasics(store, { loginUsers: Math.max(cfg.loginConnections, 8), samlUsers: 16 });
  return { store, seeded };
}

// ---------------------------------------------------------------- phases

type Ceilings = { A: ScenarioResult; B: LoopResult; C: LoopResult };

const TARGETS: Record<ScenarioName, { label: string; ceiling: 'A' | 'B' | 'C'; target: number }> = {
  introspection: { label: 'Introspection (valid token)', ceiling: 'A', target: 0.6 },
  refresh: { label: 'Refresh-token rotation (chains)', ceiling: 'A', target: 0.4 },
  code: { label: 'Authorization-code exchange (PKCE)', ceiling: 'A', target: 0.4 },
  login: { label: 'Email/password login', ceiling: 'B', target: 0.85 },
  saml: { label: 'SAML bearer login', ceiling: 'C', target: 0.7 },
};

async function runScenario(name: ScenarioName, target: Target, timing: Timing): Promise<ScenarioResult> {
  switch (name) {
    case 'introspection':
      return introspection(target, timing);
    case 'refresh':
      return refreshRotation(target, timing);
    case 'code':
      return codeExchange(target, timing);
    case 'login':
      return passwordLogin(target, timing);
    case 'saml':
      return samlLogin(target, timing);
  }
}

function row(phase: string, name: ScenarioName, result: ScenarioResult, paired: boolean): Row {
  const t = TARGETS[name];
  // The issue's targets are for SQLite; PostgreSQL rows show their ratio without a verdict.
  const target = paired && phase.startsWith('SQLite') ? t.target : undefined;
  return { phase, scenario: t.label, result, ceiling: paired ? t.ceiling : undefined, target, notes: result.notes };
}

type Pairings = ReturnType<typeof pairings>;

async function scenarios(
  phase: string,
  names: readonly ScenarioName[],
  target: Target,
  timing: Timing,
  pairs: Pairings | undefined,
  rows: Row[],
  servers: readonly Server[] = [],
): Promise<Record<string, ScenarioResult>> {
  const out: Record<string, ScenarioResult> = {};
  for (const name of names) {
    say(`${phase}: ${TARGETS[name].label} …`);
    const ceiling = TARGETS[name].ceiling;
    const result = await withWalFrames(servers, () => runScenario(name, { ...target, pair: pairs?.[ceiling] }, timing));
    out[name] = result;
    rows.push(row(phase, name, result, pairs !== undefined));
    const ratio = result.paired
      ? ` = ${((100 * result.rps) / result.paired.rps).toFixed(0)} % of ceiling ${ceiling} measured alongside (${result.paired.segments.map((x) => x.toFixed(0)).join(' / ')} req/s)`
      : '';
    const frames = result.walFramesPerRequest !== undefined ? `, ${result.walFramesPerRequest.toFixed(1)} WAL frames/request` : '';
    say(`${phase}: ${TARGETS[name].label}: ${fmt(result)}${ratio}${frames}${result.notes.length ? ` (${result.notes.join('; ')})` : ''}`);
  }
  return out;
}

/** The scenarios of the PostgreSQL phase that have a pgbench ceiling (bench/pgbench-ceiling.ts). */
const PGBENCH_CEILINGS: Partial<Record<ScenarioName, typeof introspectionCeiling>> = {
  introspection: introspectionCeiling,
  refresh: refreshCeiling,
};

/**
 * PostgreSQL, one instance vs two (unpinned), alternately, on a scratch schema dropped afterwards;
 * each scenario with a pgbench ceiling runs it in the same alternation. With a signer, the SAML
 * login is measured once on one instance after them.
 */
async function postgresPhase(
  cfg: BenchConfig,
  databaseUrl: string,
  pin: Pinning,
  dir: string,
  timing: Timing,
  rows: Row[],
  signer: ReturnType<typeof signerFor> | undefined,
): Promise<{ scaling: NonNullable<Report['scaling']>; pgMemory?: number }> {
  const db = await postgresSchema(databaseUrl);
  try {
    const { store, seeded } = await seededStore(db.url, 'FULL', cfg);
    try {
      // One phase: every scenario against one instance and against two sharing the load,
      // alternately. On 2 cores a second instance only has somewhere to run if nothing is
      // pinned: the servers, PostgreSQL and this load generator all share both cores here.
      if (pin.enabled) pinSelf(allCores());
      const scaling: NonNullable<Report['scaling']> = [];
      let pgMemory: number | undefined;
      // SAML is left out of the alternation (each round would need ~700 freshly signed
      // assertions); it is measured once on one instance after it.
      const names: ScenarioName[] = ['introspection', 'refresh', 'code', 'login'];
      // Three servers on the same schema at once (the idle ones cost nothing): one alone, two
      // sharing the load. The runs alternate — 1, 2, 1, 2, … — one segment each, so both sides
      // see the same machine; each side reports its best round.
      const servers = await Promise.all([0, 1, 2].map(() => startSeiAuth({ databaseUrl: db.url, rateLimits: 'off', pin, pinned: false })));
      try {
        const pool: string[] = [];
        const sign = signer?.(seeded);
        const one: Target = { urls: [servers[0]!.url], store, seeded, assertions: pool, ...(sign ? { sign } : {}) };
        const two: Target = { urls: [servers[1]!.url, servers[2]!.url], store, seeded, assertions: pool, ...(sign ? { sign } : {}) };
        const rounds = 3;
        // Writes with the introspection's number of connections here: each instance's pool has 10
        // PostgreSQL connections, so 128 would only queue (and make this part several minutes long).
        const round: Timing = { ...timing, writeConnections: timing.connections, seconds: timing.seconds / rounds, segments: 1 };
        const pgMemory1 = sampleMemory(servers[0]!.child.pid, 1000);
        for (const name of names) {
          say(`PostgreSQL, 1 vs 2 instances (unpinned): ${TARGETS[name].label} …`);
          // The ceiling runs with as many connections as the scenario's round.
          const connections = name === 'refresh' ? round.writeConnections : round.connections;
          const ceiling = await pgbenchCeilingFor(name, { url: db.url, store, seeded, connections, dir });
          const ones: ScenarioResult[] = [];
          const twos: ScenarioResult[] = [];
          const ceilings: PgbenchRun[] = [];
          for (let i = 0; i < rounds; i++) {
            if (ceiling.run) {
              try {
                ceilings.push(await ceiling.run.run(Math.max(1, Math.round(round.seconds))));
              } catch (error) {
                ceiling.error = (error as Error).message.split('\n')[0];
                say(`pgbench ceiling failed: ${(error as Error).message}`);
                ceiling.run = undefined;
              }
            }
            ones.push(await runScenario(name, one, round));
            twos.push(await runScenario(name, two, round));
          }
          const best = (rs: ScenarioResult[]): ScenarioResult => {
            const top = rs.reduce((a, b) => (b.rps > a.rps ? b : a));
            return { ...top, errors: rs.reduce((n, r) => n + r.errors, 0), segments: rs.map((r) => r.rps) };
          };
          const entry: NonNullable<Report['scaling']>[number] = { scenario: TARGETS[name].label, one: best(ones), two: best(twos) };
          if (ceiling.run && ceilings.length === rounds) {
            const top = ceilings.reduce((a, b) => (b.tps > a.tps ? b : a));
            entry.pgbench = {
              tps: top.tps,
              latencyMs: top.latencyMs,
              segments: ceilings.map((c) => c.tps),
              connections,
              ratioOne: entry.one.rps / top.tps,
              ratioTwo: entry.two.rps / top.tps,
              notes: ceiling.run.notes(),
            };
          } else if (ceiling.error) entry.pgbenchError = ceiling.error;
          scaling.push(entry);
          rows.push(row('PostgreSQL, 1 instance', name, { ...entry.one, notes: entry.one.notes }, false));
          rows.push(row('PostgreSQL, 2 instances', name, { ...entry.two, notes: entry.two.notes }, false));
          const p = entry.pgbench;
          say(
            `PostgreSQL, 1 vs 2 instances: ${entry.scenario}: 1 instance ${fmt(entry.one)}; 2 instances ${fmt(entry.two)}; ×${(entry.two.rps / entry.one.rps).toFixed(2)}` +
              (p
                ? `; pgbench ceiling ${p.tps.toFixed(0)} tps (${p.segments.map((x) => x.toFixed(0)).join(' / ')}), latency ${p.latencyMs.toFixed(2)} ms: 1 instance ${(100 * p.ratioOne).toFixed(0)} %, 2 instances ${(100 * p.ratioTwo).toFixed(0)} % of it (${p.notes.join('; ')})`
                : ''),
          );
        }
        if (signer) await scenarios('PostgreSQL, 1 instance', ['saml'], one, timing, undefined, rows);
        pgMemory = pgMemory1.stop().hwm;
      } finally {
        await Promise.all(servers.map((s) => s.child.stop()));
        if (pin.enabled) pinSelf(String(pin.loadCore));
      }
      const geo = Math.exp(scaling.reduce((n, s) => n + Math.log(s.two.rps / s.one.rps), 0) / scaling.length);
      say(
        `PostgreSQL 2 instances vs 1: ${scaling.map((s) => `${s.scenario} ×${(s.two.rps / s.one.rps).toFixed(2)}`).join(', ')}; geometric mean ×${geo.toFixed(2)}`,
      );
      return { scaling, ...(pgMemory !== undefined ? { pgMemory } : {}) };
    } finally {
      await store.close();
    }
  } finally {
    await db.drop();
  }
}

/** The scenario's pgbench ceiling, seeded and warmed up (one 1-second run); none without pgbench or for the other scenarios. */
async function pgbenchCeilingFor(
  name: ScenarioName,
  setup: CeilingSetup,
): Promise<{ run: PgbenchCeiling | undefined; error: string | undefined }> {
  const make = PGBENCH_CEILINGS[name];
  if (!make) return { run: undefined, error: undefined };
  if (!pgbenchAvailable()) return { run: undefined, error: 'pgbench not found' };
  try {
    const ceiling = await make(setup);
    await ceiling.run(1);
    return { run: ceiling, error: undefined };
  } catch (error) {
    say(`pgbench ceiling for ${name} not available: ${(error as Error).message}`);
    return { run: undefined, error: (error as Error).message.split('\n')[0] };
  }
}

async function main(): Promise<void> {
  const cfg = readConfig(process.env);
  installCleanup();
  const pin = decidePinning(process.env);
  if (pin.enabled) pinSelf(String(pin.loadCore));
  const machine = machineInfo();
  const startLoad = loadAverage();
  say(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.ramGb} GB RAM, Node ${process.version}`);
  say(
    pin.enabled
      ? `pinning: the server under test and the ceiling processes run on core ${pin.serverCore} (taskset -c ${pin.serverCore}); the load generator (autocannon, in this process) on core ${pin.loadCore}`
      : `pinning: off (${pin.reason}); server and load generator share the cores`,
  );
  const dir = mkdtempSync(join(cfg.tmp, 'sei-auth-bench-'));
  const timing: Timing = {
    seconds: cfg.seconds,
    segments: cfg.segments,
    connections: cfg.connections,
    writeConnections: cfg.writeConnections,
    loginConnections: cfg.loginConnections,
  };

  try {
    if (process.argv.slice(2).includes('verifier') || process.env.BENCH_ONLY === 'verifier') {
      // The resource-server verifier's rows alone: spliced into the existing docs/benchmarks.md.
      const vars = benchVariables(process.env);
      const command =
        process.env.BENCH_ONLY === 'verifier' ? `${vars} npm run bench` : `${vars}${vars ? ' ' : ''}npm run bench -- verifier`;
      const verifier = await runVerifierBench(cfg, pin, say, command);
      const out = resolve(ROOT, cfg.out);
      const doc = existsSync(out) ? readFileSync(out, 'utf8') : '# Benchmarks\n';
      writeFileSync(out, spliceVerifierSection(doc, renderVerifierSection(verifier)));
      say(`wrote the verifier section of ${cfg.out}`);
      return;
    }
    if (process.env.BENCH_ONLY === 'jwt-issuance') return await jwtIssuanceOnly(cfg, pin, dir, timing);
    if (process.env.BENCH_ONLY === 'postgres') return await postgresOnly(cfg, pin, dir, timing);
    if (cfg.profile) return await profileMode(cfg, pin, dir, timing, true);
    // Ceiling A's server runs for the whole run: its segments are measured alongside the scenarios.
    const ceilingServer = await startCeilingServer(pin);
    const pairs = pairings(cfg, pin, ceilingServer.url);
    await runLoad({ ...ceilingSpec(ceilingServer.url, cfg), seconds: 2 }); // warm-up
    if (process.env.BENCH_ONLY) {
      // Development aid: only the listed scenarios, each with its paired ceiling (no report written).
      return await profileMode({ ...cfg, profile: process.env.BENCH_ONLY.split(',') }, pin, dir, timing, false, pairs);
    }

    const rows: Row[] = [];
    // ---- the ceilings on their own (the ratios use the segments measured alongside each scenario)
    say('ceiling A: bare fastify POST form → fixed JSON …');
    const A: ScenarioResult = {
      ...(await measure(ceilingSpec(ceilingServer.url, cfg), cfg.segments, { seconds: cfg.seconds / cfg.segments })),
      notes: [],
    };
    say(`ceiling A: ${fmt(A)}`);
    say(`ceiling B: raw argon2id verify, ${cfg.loginConnections} in parallel …`);
    const B = await ceilingChild('bench/argon2-ceiling.ts', cfg, pin, cfg.seconds, cfg.segments, 1);
    say(`ceiling B: ${fmt(B)}`);
    say(`ceiling C: verifySamlBearer alone on pre-signed assertions, ${cfg.loginConnections} in parallel …`);
    const C = await ceilingChild('bench/saml-ceiling.ts', cfg, pin, cfg.seconds, cfg.segments, 1);
    say(`ceiling C: ${fmt(C)}`);
    const ceilings: Ceilings = { A, B, C };
    say('reference D: SQLite alone (a primary-key read; a write transaction of two inserts) …');
    const floor = await runNodeJson<NonNullable<Report['floor']>>(['--import', 'tsx', 'bench/sqlite-floor.ts'], {
      env: { ...process.env, BENCH_CHILD_SECONDS: '2', BENCH_TMPDIR: cfg.tmp },
      core: pin.serverCore,
      pin,
      timeoutMs: 120_000,
    });
    say(
      `reference D: read ${floor.read.rps.toFixed(0)}/s (${floor.read.cpuPerRequest.toFixed(1)} µs CPU), write transaction ${floor.write.rps.toFixed(0)}/s (${floor.write.cpuPerRequest.toFixed(0)} µs CPU)`,
    );

    say('admin API: GET /admin/v1/users?limit=100 with 100,000 users …');
    const adminList = await runNodeJson<NonNullable<Report['adminList']>>(['--import', 'tsx', 'bench/admin-list.ts'], {
      env: { ...process.env, BENCH_TMPDIR: cfg.tmp },
      core: pin.serverCore,
      pin,
      timeoutMs: 300_000,
    });
    say(
      `admin list: p50 ${adminList.p50_ms} ms, p99 ${adminList.p99_ms} ms (CPU p50 ${adminList.cpu_p50_ms} ms, p99 ${adminList.cpu_p99_ms} ms)`,
    );

    // ---- SQLite, synchronous=FULL (the default): every scenario, rate-limit cost, memory, soak
    const fullUrl = await sqliteDatabase(dir, 'full');
    const full = await seededStore(fullUrl, 'FULL', cfg);
    const soakSaml = cfg.soakSeconds > 0 ? Math.min(600, Math.ceil(cfg.soakSeconds * 5)) : 0;
    const signer = signerFor(dir, pin);
    const report: Report = {
      cfg,
      pin,
      machine,
      command: `${benchVariables(process.env)}${benchVariables(process.env) ? ' ' : ''}npm run bench`,
      startedAt: new Date(started),
      load: { start: startLoad },
      ceilings,
      floor,
      adminList,
      rows,
      durability: [],
    };

    // Maintenance every SOAK_MAINTENANCE seconds, keeping nothing that has ended, for the whole
    // phase (the soak's database row needs it; the scenarios' tokens live an hour, so until the
    // soak it prunes little more than the code scenario's spent codes).
    const lifecycle = { SESSION_RETENTION_DAYS: '0', MAINTENANCE_INTERVAL: String(SOAK_MAINTENANCE) };
    const server = await startSeiAuth({ databaseUrl: fullUrl, synchronous: 'FULL', rateLimits: 'off', pin, env: lifecycle });
    const memory = sampleMemory(server.child.pid, 1000);
    try {
      const target: Target = { urls: [server.url], store: full.store, seeded: full.seeded, assertions: [], sign: signer(full.seeded) };
      const fullResults = await scenarios(
        'SQLite FULL',
        ['introspection', 'refresh', 'code', 'login', 'saml'],
        target,
        timing,
        pairs,
        rows,
        [server],
      );
      report.durability.push({ level: 'FULL', refresh: fullResults.refresh!, code: fullResults.code!, login: fullResults.login! });
      report.jwt = await jwtIssuance(
        target,
        timing,
        { refresh: fullResults.refresh!, code: fullResults.code!, saml: fullResults.saml! },
        () => joseSignCeiling(pin),
        say,
      );

      report.levers = await leverComparison(server, fullUrl, target, timing, pin, lifecycle);

      // Rate limits on (far above what the run reaches) vs off, alternately on two servers over the same file.
      say('rate limits: introspection with limits on (1,000,000/s per IP and per client) vs off, alternately …');
      const limited = await startSeiAuth({ databaseUrl: fullUrl, synchronous: 'FULL', rateLimits: 'high', pin, env: lifecycle });
      try {
        // Short alternating rounds (off, on, off, on …), so both see the same machine; the cost is
        // read from the server's CPU per request (robust on a busy machine) and from req/s.
        const rounds = 4;
        const seconds = 2;
        const off: ScenarioResult[] = [];
        const on: ScenarioResult[] = [];
        await introspection({ ...target, urls: [limited.url] }, timing, 2, 0, 1); // warm the second server up
        for (let round = 0; round < rounds; round++) {
          off.push(await introspection(target, timing, seconds, 0.5, 1));
          on.push(await introspection({ ...target, urls: [limited.url] }, timing, seconds, 0.5, 1));
        }
        const best = (rs: ScenarioResult[]) => Math.max(...rs.map((r) => r.rps));
        const medianCpu = (rs: ScenarioResult[]) => rs.map((r) => r.cpuPerRequest).sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
        report.rateLimits = {
          limiterNs: limiterCost(),
          off: best(off),
          on: best(on),
          cpuOff: medianCpu(off),
          cpuOn: medianCpu(on),
          errors: [...off, ...on].reduce((n, r) => n + r.errors, 0),
          rounds,
          seconds,
        };
        say(
          `rate limits: off ${best(off).toFixed(0)} req/s at ${medianCpu(off).toFixed(0)} µs/request, on ${best(on).toFixed(0)} req/s at ${medianCpu(on).toFixed(0)} µs/request ` +
            `(CPU per request ${((100 * (medianCpu(on) - medianCpu(off))) / medianCpu(off)).toFixed(1)} %)`,
        );
      } finally {
        await limited.child.stop();
      }

      if (cfg.soakSeconds > 0) {
        say(
          `soak: ${cfg.soakSeconds} s of mixed traffic, RSS and database size sampled every 2 s, maintenance every ${SOAK_MAINTENANCE} s …`,
        );
        const soakAssertions = await signPool(soakSaml, full.seeded, dir, pin);
        const shortLived = await seedShortLivedClient(full.store, full.seeded, SOAK_LIFETIMES);
        const file = fullUrl.slice('sqlite:'.length);
        const before = databaseBytes(file);
        const soakMemory = sampleMemory(server.child.pid, 2000);
        const soakSize = sampleDatabaseSize(file, 2000);
        const soak = await mixedTraffic({ ...target, assertions: soakAssertions }, timing, cfg.soakSeconds, {
          seeded: shortLived,
          renewEveryMs: SOAK_RENEW_MS,
        });
        const { samples } = soakMemory.stop();
        const sizes = soakSize.stop();
        const after = databaseBytes(file);
        report.soak = {
          result: soak,
          samples,
          seconds: cfg.soakSeconds,
          database: {
            before,
            after,
            samples: sizes,
            lifetimes: SOAK_LIFETIMES,
            renewEveryMs: SOAK_RENEW_MS,
            maintenanceSeconds: SOAK_MAINTENANCE,
          },
        };
        say(
          `soak: ${fmt(soak)}; mix ${JSON.stringify(soak.mix)}; RSS ${(Math.min(...samples.map((s) => s.rss)) / 2 ** 20).toFixed(0)}–${(Math.max(...samples.map((s) => s.rss)) / 2 ** 20).toFixed(0)} MB`,
        );
        say(`soak database: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
      }
    } finally {
      const { samples, hwm } = memory.stop();
      report.memory = { hwm, maxSampled: Math.max(...samples.map((s) => s.rss)) };
      say(`server peak RSS (VmHWM) over the SQLite FULL phase: ${(hwm / 2 ** 20).toFixed(0)} MB`);
      await server.child.stop();
      await full.store.close();
    }

    // ---- SQLite, synchronous=NORMAL: the write-heavy scenarios again, on a fresh file
    const normalUrl = await sqliteDatabase(dir, 'normal');
    const normal = await seededStore(normalUrl, 'NORMAL', cfg);
    const normalServer = await startSeiAuth({ databaseUrl: normalUrl, synchronous: 'NORMAL', rateLimits: 'off', pin });
    try {
      const target: Target = { urls: [normalServer.url], store: normal.store, seeded: normal.seeded, assertions: [] };
      const r = await scenarios('SQLite NORMAL', ['refresh', 'code', 'login'], target, timing, pairs, rows, [normalServer]);
      report.durability.push({ level: 'NORMAL', refresh: r.refresh!, code: r.code!, login: r.login! });
    } finally {
      await normalServer.child.stop();
      await normal.store.close();
    }

    // ---- PostgreSQL: one instance vs two (unpinned), alternately
    if (cfg.databaseUrl) {
      const pgPhase = await postgresPhase(cfg, cfg.databaseUrl, pin, dir, timing, rows, signer);
      report.scaling = pgPhase.scaling;
      report.pgMemory = pgPhase.pgMemory;
    }

    // ---- the resource-server verifier (issue #14 item 6): its own section
    if (pin.enabled) pinSelf(String(pin.loadCore));
    const verifier = await runVerifierBench(cfg, pin, say, report.command);

    report.finishedAt = new Date();
    report.load!.end = loadAverage();
    const out = resolve(ROOT, cfg.out);
    writeFileSync(out, spliceVerifierSection(writeReport(report), renderVerifierSection(verifier)));
    say(`wrote ${cfg.out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  } finally {
    killAllChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Each lever of the write path on and off in the same run: a second server over the same file
 * with the lever off, the two measured alternately (off, on, off, on …) in short rounds, so both
 * sides see the same machine. Reported: best round's req/s and p99, median round's server CPU and
 * WAL frames per request.
 */
async function leverComparison(
  server: Server,
  databaseUrl: string,
  target: Target,
  timing: Timing,
  pin: Pinning,
  env: NodeJS.ProcessEnv,
): Promise<NonNullable<Report['levers']>> {
  const levers: NonNullable<Report['levers']> = [];
  const rounds = 3;
  const round: Timing = { ...timing, seconds: 2, segments: 1 };
  const offSwitches: Array<{ lever: string; env: NodeJS.ProcessEnv }> = [
    { lever: 'group transactions (`SQLITE_GROUP_TRANSACTIONS`)', env: { SQLITE_GROUP_TRANSACTIONS: 'off' } },
  ];
  for (const { lever, env: off } of offSwitches) {
    say(`levers: ${lever} on vs off, alternately …`);
    const other = await startSeiAuth({ databaseUrl, synchronous: 'FULL', rateLimits: 'off', pin, env: { ...env, ...off } });
    try {
      for (const name of ['refresh', 'code'] as const) {
        const on: ScenarioResult[] = [];
        const offs: ScenarioResult[] = [];
        for (let i = 0; i < rounds; i++) {
          offs.push(await withWalFrames([other], () => runScenario(name, { ...target, urls: [other.url] }, round)));
          on.push(await withWalFrames([server], () => runScenario(name, target, round)));
        }
        const side = (rs: ScenarioResult[]) => {
          const best = rs.reduce((a, b) => (b.rps > a.rps ? b : a));
          const median = (f: (r: ScenarioResult) => number) => rs.map(f).sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
          return {
            rps: best.rps,
            p99: best.p99,
            cpuPerRequest: median((r) => r.cpuPerRequest),
            walFrames: median((r) => r.walFramesPerRequest ?? Number.NaN),
            errors: rs.reduce((n, r) => n + r.errors, 0),
          };
        };
        const entry = { lever, scenario: TARGETS[name].label, on: side(on), off: side(offs), rounds };
        levers.push(entry);
        say(
          `levers: ${lever}, ${entry.scenario}: on ${entry.on.rps.toFixed(0)} req/s, ${entry.on.cpuPerRequest.toFixed(0)} µs, ${entry.on.walFrames.toFixed(1)} frames; off ${entry.off.rps.toFixed(0)} req/s, ${entry.off.cpuPerRequest.toFixed(0)} µs, ${entry.off.walFrames.toFixed(1)} frames`,
        );
      }
    } finally {
      await other.child.stop();
    }
  }
  return levers;
}

/**
 * BENCH_ONLY=jwt-issuance: the section "JWT access tokens: the signature is the only added cost"
 * alone, printed rather than written (a development aid). The SAML row's opaque twin is measured
 * here first, as the full run takes it from its main table. BENCH_PROFILE_DIR set: the server
 * runs with `node --cpu-prof` and writes its profile there.
 */
async function jwtIssuanceOnly(cfg: BenchConfig, pin: Pinning, dir: string, timing: Timing): Promise<void> {
  const url = await sqliteDatabase(dir, 'jwt');
  const { store, seeded } = await seededStore(url, 'FULL', cfg);
  const profileDir = process.env.BENCH_PROFILE_DIR ? resolve(ROOT, process.env.BENCH_PROFILE_DIR) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const server = await startSeiAuth({
    databaseUrl: url,
    synchronous: 'FULL',
    rateLimits: 'off',
    pin,
    ...(profileDir ? { profileDir } : {}),
  });
  try {
    const sign = async (n: number) => {
      say(`signing ${n} SAML assertions (two processes) …`);
      return signPool(n, seeded, dir, pin);
    };
    const target: Target = { urls: [server.url], store, seeded, assertions: [], sign };
    say('SQLite FULL: SAML bearer login (the opaque twin) …');
    const saml = await samlLogin(target, timing);
    say(`SQLite FULL: SAML bearer login: ${fmt(saml)}`);
    const none = { ...saml, notes: [] };
    const report = await jwtIssuance(target, timing, { refresh: none, code: none, saml }, () => joseSignCeiling(pin), say);
    console.log(
      `\nload average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}\n\n${jwtIssuanceSection(report).join('\n')}`,
    );
  } finally {
    await server.child.stop(30_000);
    await store.close();
  }
}

/**
 * BENCH_ONLY=postgres: the PostgreSQL phase alone (BENCH_DATABASE_URL), its section printed rather
 * than written (a development aid). The SAML row, which that section does not show, is left out.
 */
async function postgresOnly(cfg: BenchConfig, pin: Pinning, dir: string, timing: Timing): Promise<void> {
  if (!cfg.databaseUrl) throw new Error('BENCH_ONLY=postgres needs BENCH_DATABASE_URL');
  const { scaling } = await postgresPhase(cfg, cfg.databaseUrl, pin, dir, timing, [], undefined);
  console.log(
    `\nload average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n\n${postgresSection({ cfg, machine: machineInfo(), scaling }).join('\n')}`,
  );
}

/**
 * BENCH_PROFILE=<scenarios|all>: each listed scenario against its own server started with
 * `node --cpu-prof`; prints the top self-time functions of each profile and keeps the
 * .cpuprofile files (open them in Chrome DevTools or speedscope for a flame graph).
 */
async function profileMode(
  cfg: BenchConfig,
  pin: Pinning,
  dir: string,
  timing: Timing,
  profiling: boolean,
  pairs?: Pairings,
): Promise<void> {
  const keep = resolve(ROOT, process.env.BENCH_PROFILE_DIR ?? join(cfg.tmp, `sei-auth-profiles-${Date.now().toString(36)}`));
  if (profiling) mkdirSync(keep, { recursive: true });
  const url = await sqliteDatabase(dir, 'profile');
  const synchronous = process.env.BENCH_PROFILE_SYNCHRONOUS === 'NORMAL' ? 'NORMAL' : 'FULL';
  const { store, seeded } = await seededStore(url, synchronous, cfg);
  try {
    const assertions: string[] = [];
    const sign = (n: number) => signPool(n, seeded, dir, pin);
    for (const name of cfg.profile as ScenarioName[]) {
      const profileDir = join(keep, name);
      if (profiling) mkdirSync(profileDir, { recursive: true });
      const server = await startSeiAuth({ databaseUrl: url, synchronous, rateLimits: 'off', pin, ...(profiling ? { profileDir } : {}) });
      const cpu0 = cpuSplitOf(server.child.pid);
      let result: ScenarioResult;
      let cpu1 = cpu0;
      try {
        const before = memoryOf(server.child.pid);
        result = await withWalFrames([server], () =>
          runScenario(name, { urls: [server.url], store, seeded, assertions, sign, pair: pairs?.[TARGETS[name].ceiling] }, timing),
        );
        cpu1 = cpuSplitOf(server.child.pid);
        const after = memoryOf(server.child.pid);
        if (before && after)
          say(
            `${name}: server RSS ${(before.rss / 2 ** 20).toFixed(0)} MB before, ${(after.rss / 2 ** 20).toFixed(0)} MB after, peak ${(after.hwm / 2 ** 20).toFixed(0)} MB`,
          );
      } finally {
        await server.child.stop(30_000);
      }
      const ratio = result.paired
        ? ` = ${((100 * result.rps) / result.paired.rps).toFixed(0)} % of ceiling ${TARGETS[name].ceiling} alongside (${fmt(result.paired)})`
        : '';
      const frames = result.walFramesPerRequest !== undefined ? `; ${result.walFramesPerRequest.toFixed(1)} WAL frames/request` : '';
      say(
        `${name}: ${fmt(result)}${ratio}${frames}; server CPU over the whole scenario: user ${(cpu1.user - cpu0.user).toFixed(1)} s, system ${(cpu1.system - cpu0.system).toFixed(1)} s`,
      );
      if (!profiling) continue;
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no .cpuprofile written in ${profileDir}`);
      const text = formatSummary(`${name} — ${join(profileDir, file)}`, summarise(join(profileDir, file), 30));
      writeFileSync(join(profileDir, 'summary.txt'), text);
      console.log(`\n${text}\n`);
    }
    if (profiling) say(`profiles kept in ${keep}`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  killAllChildren();
  process.exitCode = 1;
});
