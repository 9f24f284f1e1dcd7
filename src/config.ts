import { isAudienceUri } from './common/audience.ts';

/**
 * Configuration from environment variables (contract §1), parsed once at start-up and passed
 * down. A bad value throws {@link ConfigError} naming the variable: the server never starts
 * half-configured and never falls back silently to a default.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** DATABASE_URL was not set: the embedded default, whose folder is created on first start */
  databaseUrlIsDefault: boolean;
  issuer: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  logLevel: LogLevel;
  /** SQLite durability: FULL (default) or NORMAL; see docs/benchmarks.md. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** write transactions of one event-loop turn share one SQLite commit (SqliteDriver.transaction) */
  sqliteGroupTransactions: boolean;
  /** Allowed clock difference with SAML IdPs, seconds (SAML_CLOCK_SKEW, default 60). */
  samlClockSkew: number;
  /** SAML assertions valid for longer than this many seconds are refused (SAML_MAX_ASSERTION_LIFETIME, default 3600). */
  samlMaxAssertionLifetime: number;
  /** PostgreSQL connections per instance (DATABASE_POOL_SIZE, default 10). */
  databasePoolSize: number;
  /** Login throttling (see docs/security.md for why these defaults). */
  throttle: {
    accountMaxFailures: number;
    ipMaxFailures: number;
    windowMs: number;
    baseLockMs: number;
    maxLockMs: number;
  };
  /**
   * Requests per second on the OAuth endpoints, per instance; 0 turns a limit off. perIp counts
   * requests that did not authenticate a client; perClient those of an authenticated client.
   */
  rateLimits: { perIp: number; perClient: number };
  /** Days security events are kept (EVENT_RETENTION_DAYS, default 90). */
  eventRetentionDays: number;
  /** Days ended or expired sessions (with their tokens) and expired codes are kept (SESSION_RETENTION_DAYS, default 7). */
  sessionRetentionDays: number;
  /** Seconds between two maintenance runs (MAINTENANCE_INTERVAL, default 600). */
  maintenanceInterval: number;
  /** fastify trustProxy: false, true, a hop count, or comma-separated addresses/CIDRs (TRUST_PROXY). */
  trustProxy: boolean | number | string;
  /** Bearer token GET /metrics on the main port requires (METRICS_TOKEN); unset, it answers 401 there. */
  metricsToken: string | undefined;
  /** A second listener on 127.0.0.1 serving only GET /metrics, without a token (METRICS_PORT); unset: none. */
  metricsPort: number | undefined;
  /** Seconds in-flight requests get to finish on SIGTERM/SIGINT (SHUTDOWN_TIMEOUT, default 10). */
  shutdownTimeout: number;
  /**
   * Seals the private signing keys at rest (KEY_ENCRYPTION_KEY, base64 of 32 bytes). Unset on
   * SQLite: a key file beside the database (keys/key-encryption-key.ts); unset on PostgreSQL:
   * an error once keys are needed, since instances must share it.
   */
  keyEncryptionKey: Buffer | undefined;
  /**
   * Seconds verifiers may cache GET /oauth/jwks (JWKS_MAX_AGE, default 300), and the default
   * delay before a rotated key signs, so that they know the key before they meet it.
   */
  jwksMaxAge: number;
  /** Seconds a browser sign-in on the authorize page lasts (BROWSER_SESSION_TTL, default 36000: 10 h), contract §11. */
  browserSessionTtl: number;
  /** Contract §6: `aud` of a token requested without `resource` (DEFAULT_AUDIENCE, default the ISSUER). */
  defaultAudience: string;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number between ${min} and ${max}, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseDatabaseUrl(raw: string): string {
  if (raw.startsWith('sqlite:')) {
    if (raw.length === 'sqlite:'.length) throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/sei-auth.db');
    return raw;
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      const url = new URL(raw);
      if (!url.hostname) throw new Error('no host');
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return raw;
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://');
}

function parseIssuer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ISSUER', `is not a valid URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('ISSUER', 'must be an http(s) URL');
  // RFC 8414 §2: the issuer has no query or fragment component.
  if (url.search || url.hash) throw new ConfigError('ISSUER', 'must not have a query or fragment');
  return raw.replace(/\/+$/, '');
}

function parseTrustProxy(raw: string): boolean | number | string {
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.every((p) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p))) return parts.join(',');
  throw new ConfigError('TRUST_PROXY', 'must be true, false, a hop count, or comma-separated proxy addresses/CIDRs');
}

/** Where a fresh clone keeps its data; the only SQLite path whose folder sei-auth creates. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/sei-auth.db';

export function loadConfig(env: Env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL);
  const issuer = parseIssuer(env.ISSUER?.trim() || `http://localhost:${port}`);
  const accessTokenTtl = integer(env, 'ACCESS_TOKEN_TTL', 3600, 1, 31_536_000);
  const refreshTokenTtl = integer(env, 'REFRESH_TOKEN_TTL', 2_592_000, 1, 315_360_000);
  const level = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const sync = (env.SQLITE_SYNCHRONOUS?.trim().toUpperCase() || 'FULL') as Config['sqliteSynchronous'];
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new ConfigError('SQLITE_SYNCHRONOUS', 'must be FULL or NORMAL');
  const grouping = env.SQLITE_GROUP_TRANSACTIONS?.trim().toLowerCase() || 'on';
  if (grouping !== 'on' && grouping !== 'off') throw new ConfigError('SQLITE_GROUP_TRANSACTIONS', 'must be on or off');
  const samlClockSkew = integer(env, 'SAML_CLOCK_SKEW', 60, 0, 600);
  const samlMaxAssertionLifetime = integer(env, 'SAML_MAX_ASSERTION_LIFETIME', 3600, 60, 7 * 86_400);
  const databasePoolSize = integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000);
  const throttle = {
    accountMaxFailures: integer(env, 'LOGIN_MAX_FAILURES', 5, 1, 1000),
    ipMaxFailures: integer(env, 'LOGIN_IP_MAX_FAILURES', 50, 1, 100_000),
    windowMs: integer(env, 'LOGIN_FAILURE_WINDOW', 900, 1, 86_400) * 1000,
    baseLockMs: integer(env, 'LOGIN_LOCK_SECONDS', 60, 1, 86_400) * 1000,
    maxLockMs: integer(env, 'LOGIN_MAX_LOCK_SECONDS', 900, 1, 86_400) * 1000,
  };
  if (throttle.maxLockMs < throttle.baseLockMs) throw new ConfigError('LOGIN_MAX_LOCK_SECONDS', 'must be at least LOGIN_LOCK_SECONDS');
  const rateLimits = {
    perIp: integer(env, 'RATE_LIMIT_PER_IP', 200, 0, 1_000_000),
    // From a measurement: several times what one client can get from one instance (docs/security.md, item 5).
    perClient: integer(env, 'RATE_LIMIT_PER_CLIENT', 100_000, 0, 1_000_000),
  };
  const eventRetentionDays = integer(env, 'EVENT_RETENTION_DAYS', 90, 1, 36_500);
  const sessionRetentionDays = integer(env, 'SESSION_RETENTION_DAYS', 7, 0, 36_500);
  const maintenanceInterval = integer(env, 'MAINTENANCE_INTERVAL', 600, 1, 86_400);
  const trustProxy = parseTrustProxy(env.TRUST_PROXY?.trim() ?? '');
  const metricsPort = env.METRICS_PORT?.trim() ? integer(env, 'METRICS_PORT', 0, 1, 65535) : undefined;
  // Both on 127.0.0.1 by default: the second listener would fail with EADDRINUSE after the first.
  if (metricsPort !== undefined && metricsPort === port) throw new ConfigError('METRICS_PORT', `must differ from PORT (${port})`);
  return {
    port,
    host,
    databaseUrl,
    databaseUrlIsDefault: !env.DATABASE_URL?.trim(),
    issuer,
    accessTokenTtl,
    refreshTokenTtl,
    logLevel: level,
    sqliteSynchronous: sync,
    sqliteGroupTransactions: grouping === 'on',
    samlClockSkew,
    samlMaxAssertionLifetime,
    databasePoolSize,
    throttle,
    rateLimits,
    eventRetentionDays,
    sessionRetentionDays,
    maintenanceInterval,
    trustProxy,
    metricsToken: parseMetricsToken(env.METRICS_TOKEN),
    metricsPort,
    shutdownTimeout: integer(env, 'SHUTDOWN_TIMEOUT', 10, 0, 3600),
    keyEncryptionKey: parseKeyEncryptionKey(env.KEY_ENCRYPTION_KEY),
    jwksMaxAge: integer(env, 'JWKS_MAX_AGE', 300, 0, 86_400),
    browserSessionTtl: integer(env, 'BROWSER_SESSION_TTL', 36_000, 60, 30 * 86_400),
    defaultAudience: env.DEFAULT_AUDIENCE?.trim() ? parseAudience('DEFAULT_AUDIENCE', env.DEFAULT_AUDIENCE.trim()) : issuer,
  };
}

function parseKeyEncryptionKey(raw: string | undefined): Buffer | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  // The message never echoes the value: it is a secret.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new ConfigError('KEY_ENCRYPTION_KEY', 'must be base64 (e.g. openssl rand -base64 32)');
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new ConfigError('KEY_ENCRYPTION_KEY', `must decode to 32 bytes, got ${key.length}`);
  return key;
}

/** RFC 8707 §2: an audience is an absolute URI without a fragment. */
export function parseAudience(variable: string, raw: string): string {
  if (!isAudienceUri(raw)) throw new ConfigError(variable, 'must be an absolute URI without a fragment');
  return raw;
}

function parseMetricsToken(raw: string | undefined): string | undefined {
  const token = raw?.trim();
  if (!token) return undefined;
  // RFC 6750 §2.1 b64token characters only, so the value always fits an Authorization header.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new ConfigError('METRICS_TOKEN', 'must be a bearer token (letters, digits and -._~+/)');
  // A short token can be guessed; the message never echoes the value.
  if (token.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters long');
  return token;
}
