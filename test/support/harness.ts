/**
 * Test harness: a real server (fastify inject, or a listening socket) on a real store —
 * SQLite always, PostgreSQL too when TEST_DATABASE_URL is set (each harness gets its own
 * schema there, so tests never see each other's rows).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import type { PasswordVerifier } from '../../src/accounts/password-login.ts';
import { type Clock, ManualClock, systemClock } from '../../src/clock.ts';
import { composePlatform, type Services } from '../../src/composition-root.ts';
import { buildApp } from '../../src/http/app.ts';
import type { RateLimitSettings } from '../../src/http/rate-limiter.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import type { ThrottlePolicy } from '../../src/throttle/login-throttle.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** The stores this run covers: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function storeKinds(): StoreKind[] {
  return process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * The key-encryption key composed platforms get unless a test gives its own: one fixed value, so
 * that a harness reopened on the same database (restart tests) opens its signing keys.
 */
export const TEST_KEY_ENCRYPTION_KEY: Buffer = createHash('sha256').update('sei-auth test key-encryption key').digest();

let schemaCounter = 0;

/** A fresh, empty database URL of the given kind, and a function that removes it. */
export async function freshDatabase(kind: StoreKind): Promise<{ url: string; drop: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sei-auth-test-'));
    return { url: `sqlite:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  return scratchSchema(base, `t_${process.pid}_${Date.now().toString(36)}_${++schemaCounter}`);
}

/** A new, empty schema on the PostgreSQL server at `base`, as a URL whose search_path is that schema; and a function that drops it. */
export async function scratchSchema(base: string, schema: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

export interface Harness {
  app: FastifyInstance;
  store: Store;
  services: Services;
  clock: Clock;
  databaseUrl: string;
  /** every log line the server wrote */
  logs: string[];
  issuer: string;
  /** POST a form (string or record) with optional query string and headers */
  post(
    path: string,
    form?: Record<string, string> | string,
    options?: { query?: string; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** a client (BearerToken unless told) and a user with a known password */
  seed(options?: SeedOptions): Promise<Seeded>;
  /**
   * A resource server (contract §7) of `audience` — by default the issuer, which is the default
   * audience, so it may introspect every token issued without `resource`. Made once per audience.
   */
  resourceServer(audience?: string): Promise<{ clientId: string; clientSecret: string; audience: string }>;
  /** closes the app and store; keeps the database (for restart tests) unless drop */
  close(options?: { drop?: boolean }): Promise<void>;
}

export interface SeedOptions {
  email?: string;
  password?: string;
  maxSessions?: number | null;
  orgId?: string;
  client?: Partial<Parameters<Services['clients']['createClient']>[0]>;
}

export interface Seeded {
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
  userId: string;
}

export interface HarnessOptions {
  kind?: StoreKind;
  clock?: Clock;
  databaseUrl?: string;
  issuer?: string;
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  /** login throttling policy for the app (defaults as in production) */
  throttle?: Partial<ThrottlePolicy>;
  /** per-IP and per-client rate limits for the app (defaults as in production) */
  rateLimits?: RateLimitSettings;
  /** replaces the argon2id verify of password logins (to count or pace the verifications) */
  verifyPassword?: PasswordVerifier;
  /** seals the signing keys (default TEST_KEY_ENCRYPTION_KEY) */
  keyEncryptionKey?: Buffer;
  /** JWKS_MAX_AGE (default 300) */
  jwksMaxAge?: number;
}

let seedCounter = 0;

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const kind = options.kind ?? 'sqlite';
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await freshDatabase(kind);
  const clock = options.clock ?? systemClock;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('trace', sink);
  const store = await openStore({ databaseUrl: db.url, now: clock.now(), sqliteSynchronous: 'NORMAL' });
  const issuer = options.issuer ?? 'http://localhost:8080';
  const platform = composePlatform({
    store,
    clock,
    metrics: createMetrics(),
    verifyPassword: options.verifyPassword,
    settings: {
      issuer,
      lifetimes: { accessTokenTtl: options.accessTokenTtl ?? 3600, refreshTokenTtl: options.refreshTokenTtl ?? 2_592_000 },
      throttle: options.throttle,
      keyEncryptionKey: options.keyEncryptionKey ?? TEST_KEY_ENCRYPTION_KEY,
      jwksMaxAge: options.jwksMaxAge,
    },
  });
  // As the server does at start: the first signing key.
  await platform.services.keys.ensureInitialKey();
  const app = buildApp({ platform, logger, rateLimits: options.rateLimits });
  await app.ready();
  const { services } = platform;
  const resourceServers = new Map<string, { clientId: string; clientSecret: string; audience: string }>();

  const harness: Harness = {
    app,
    store,
    services,
    clock,
    databaseUrl: db.url,
    logs,
    issuer,
    post(path, form = {}, opts = {}) {
      const payload = typeof form === 'string' ? form : new URLSearchParams(form).toString();
      const headers: Record<string, string> = {
        ...(payload ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...opts.headers,
      };
      return app.inject({ method: 'POST', url: opts.query ? `${path}?${opts.query}` : path, payload, headers });
    },
    async seed(seedOptions = {}) {
      const n = ++seedCounter;
      const email = seedOptions.email ?? `user${n}-${Date.now()}@example.com`;
      const password = seedOptions.password ?? 'correct horse battery staple';
      const user = await services.accounts.createUser({
        email,
        password,
        maxSessions: seedOptions.maxSessions ?? null,
        orgId: seedOptions.orgId,
      });
      const client = await services.clients.createClient({
        name: `Test client ${n}`,
        redirectUrls: ['https://app.example/callback'],
        ...seedOptions.client,
      });
      // A public client (contract §11) has no secret: '' here, which no client authentication accepts.
      return { clientId: client.client_id, clientSecret: client.client_secret ?? '', email, password, userId: user.id };
    },
    async resourceServer(audience = issuer) {
      let made = resourceServers.get(audience);
      if (!made) {
        const created = await services.clients.createClient({ name: `API ${audience}`, redirectUrls: [], resourceServer: true, audience });
        made = { clientId: created.client_id, clientSecret: created.client_secret, audience };
        resourceServers.set(audience, made);
      }
      return made;
    },
    async close(closeOptions = {}) {
      await app.close();
      await store.close();
      if (closeOptions.drop !== false) await db.drop();
    },
  };
  return harness;
}

/** The services of the composition root over `store` (for tests that manage data without a server). */
export function servicesFor(store: Store, clock: Clock = systemClock): Services {
  return composePlatform({
    store,
    clock,
    settings: {
      issuer: 'http://localhost:8080',
      lifetimes: { accessTokenTtl: 3600, refreshTokenTtl: 2_592_000 },
      keyEncryptionKey: TEST_KEY_ENCRYPTION_KEY,
    },
  }).services;
}

/** The seed's password login: grant_type=client_credentials with email and password. */
export function passwordLogin(h: Harness, s: Seeded, extra: Record<string, string> = {}) {
  return h.post('/oauth/token', {
    grant_type: 'client_credentials',
    client_id: s.clientId,
    client_secret: s.clientSecret,
    email: s.email,
    password: s.password,
    ...extra,
  });
}

export function introspect(h: Harness, s: Seeded | { clientId: string; clientSecret: string; audience: string }, token: string) {
  return h.post('/oauth/introspect', { client_id: s.clientId, client_secret: s.clientSecret, token });
}

export { ManualClock };
