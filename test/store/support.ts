/** Fixtures shared by the store contract tests (test/store/*.test.ts). */
import { hashSecret, newId, newSecret } from '../../src/crypto/secrets.ts';
import { DEFAULT_ORG_ID, MIGRATIONS } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { SqlDriver, SqlExecutor } from '../../src/store/sql-driver.ts';
import { SqliteDriver } from '../../src/store/sqlite-driver.ts';
import type { Client, Session, Store, User } from '../../src/store/store.ts';
import { freshDatabase, type StoreKind } from '../support/harness.ts';

/** How many callers race in the single-winner tests. */
export const N = 20;
export const NOW = Date.UTC(2026, 0, 1);

/** A driver on the store's database without the store: to look at or tamper with its tables. */
export async function rawDriver(kind: StoreKind, url: string): Promise<SqlDriver> {
  if (kind === 'sqlite') return new SqliteDriver(url.slice('sqlite:'.length));
  const { PostgresDriver } = await import('../../src/store/postgres-driver.ts');
  return new PostgresDriver(url);
}

export function user(email: string, extra: Partial<User> = {}): User {
  return {
    id: newId('usr_'),
    orgId: DEFAULT_ORG_ID,
    email,
    passwordHash: null,
    maxSessions: null,
    disabled: false,
    createdAt: NOW,
    role: null,
    version: 1,
    ...extra,
  };
}

export function client(extra: Partial<Client> = {}): Client {
  return {
    id: newId('cl_'),
    name: 'contract',
    secretHash: hashSecret(newSecret('client_secret')),
    redirectUrls: ['https://contract.example/cb'],
    refreshTokens: true,
    accessTtl: null,
    refreshTtl: null,
    tokenType: 'BearerToken',
    refreshGrace: 0,
    querySecrets: true,
    requirePkce: false,
    scopes: [],
    accessTokenFormat: 'opaque',
    kind: 'app',
    audience: null,
    public: false,
    webOrigins: [],
    postLogoutRedirectUrls: [],
    disabled: false,
    createdAt: NOW,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    version: 1,
    ...extra,
  };
}

export function session(userId: string, clientId: string, extra: Partial<Session> = {}): Session {
  return {
    id: newId('ses_'),
    userId,
    clientId,
    grantType: 'password',
    redirectUrl: 'https://contract.example/cb',
    startedAt: NOW,
    expiresAt: NOW + 3_600_000,
    endedAt: null,
    endReason: null,
    scope: '',
    audience: null,
    browserSessionId: null,
    authTime: null,
    ...extra,
  };
}

export interface ContractStore {
  store: Store;
  /** a client registered in the store, for sessions and codes to belong to */
  client: Client;
  /** closes the store and drops its database */
  close(): Promise<void>;
}

/** A store of `kind` on a fresh database, with one client registered. */
export async function openContractStore(kind: StoreKind): Promise<ContractStore> {
  const db = await freshDatabase(kind);
  const store = await openStore({ databaseUrl: db.url, now: NOW });
  const c = client();
  await store.clients.create(c);
  return {
    store,
    client: c,
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
}

/** A new user with a unique email, created in `store`. */
export async function newUser(store: Store, extra: Partial<User> = {}): Promise<User> {
  const u = user(`contract-${newId('')}@example.com`, extra);
  await store.users.create(u);
  return u;
}

/**
 * A database as an older release left it: migrations up to `version` only, then `rows` written
 * with raw SQL (in the same transaction) — for upgrade tests.
 */
export async function databaseAtSchema(
  kind: StoreKind,
  url: string,
  version: number,
  rows: (tx: SqlExecutor) => Promise<void>,
): Promise<void> {
  const driver = await rawDriver(kind, url);
  try {
    await driver.withMigrationLock(async (tx) => {
      await tx.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
        for (const statement of migration.statements(kind)) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          migration.version,
          migration.name,
          NOW,
        ]);
      }
      await rows(tx);
    });
  } finally {
    await driver.close();
  }
}
