/** The benchmark's settings, from BENCH_* environment variables. */
import { tmpdir } from 'node:os';

export interface BenchConfig {
  /** measured time per scenario (BENCH_SECONDS, default 6), split into segments; the paired ceiling runs as long again */
  seconds: number;
  /** each measurement is this many back-to-back runs, the best reported (BENCH_SEGMENTS, default 4) */
  segments: number;
  /** length of the mixed-traffic soak (BENCH_SOAK_SECONDS, default 60; 0 skips it) */
  soakSeconds: number;
  /** parallel connections for introspection, refresh, code exchange and the bare ceiling (BENCH_CONNECTIONS, default 32) */
  connections: number;
  /**
   * parallel connections (chains) for refresh rotation and code exchange, and for the bare ceiling
   * measured alongside them (BENCH_WRITE_CONNECTIONS, default 128). Every write waits for its WAL
   * flush (FULL), so at a fixed number of connections these rows measure the disk's flush latency
   * rather than the server; more connections share each flush (group commit).
   */
  writeConnections: number;
  /** parallel connections for password and SAML logins and their ceilings (BENCH_LOGIN_CONNECTIONS, default 16) */
  loginConnections: number;
  /** PostgreSQL server to create a scratch schema in (BENCH_DATABASE_URL); unset skips the PostgreSQL runs */
  databaseUrl: string | undefined;
  /** profiling mode: comma-separated scenarios or "all" (BENCH_PROFILE); no report is written */
  profile: string[] | undefined;
  /** where the report goes (BENCH_OUT, default docs/benchmarks.md) */
  out: string;
  /** scratch directory for the SQLite files and profiles (BENCH_TMPDIR, default the OS temp dir) */
  tmp: string;
}

export const SCENARIOS = ['introspection', 'refresh', 'code', 'login', 'saml'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv): BenchConfig {
  let profile: string[] | undefined;
  if (env.BENCH_PROFILE && env.BENCH_PROFILE !== '0') {
    profile = env.BENCH_PROFILE === '1' || env.BENCH_PROFILE === 'all' ? [...SCENARIOS] : env.BENCH_PROFILE.split(',').map((s) => s.trim());
    for (const name of profile)
      if (!(SCENARIOS as readonly string[]).includes(name))
        throw new Error(`BENCH_PROFILE: unknown scenario ${name} (${SCENARIOS.join(', ')})`);
  }
  return {
    // Codes live 60 s: a code-exchange run must end well within that after they are minted.
    seconds: int(env, 'BENCH_SECONDS', 6, 2, 45),
    segments: int(env, 'BENCH_SEGMENTS', 4, 1, 20),
    soakSeconds: int(env, 'BENCH_SOAK_SECONDS', 60, 0, 3600),
    connections: int(env, 'BENCH_CONNECTIONS', 32, 1, 1024),
    writeConnections: int(env, 'BENCH_WRITE_CONNECTIONS', 128, 1, 1024),
    loginConnections: int(env, 'BENCH_LOGIN_CONNECTIONS', 16, 1, 256),
    databaseUrl: env.BENCH_DATABASE_URL?.trim() || undefined,
    profile,
    out: env.BENCH_OUT?.trim() || 'docs/benchmarks.md',
    tmp: env.BENCH_TMPDIR?.trim() || tmpdir(),
  };
}

/** The BENCH_* variables that were set, for the report's exact command. */
export function benchVariables(env: NodeJS.ProcessEnv): string {
  return Object.keys(env)
    .filter((k) => k.startsWith('BENCH_'))
    .sort()
    .map((k) => `${k}=${k === 'BENCH_DATABASE_URL' ? redactUrl(env[k]!) : env[k]}`)
    .join(' ');
}

/** A database URL without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
