/**
 * The Store contract, run against every store kind: uniqueness, single-winner compare-and-swaps
 * under concurrency, the atomic session-limit check, transactions, and versioned migrations that
 * are idempotent and refuse a database from a newer release.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret, newId, newSecret } from '../../src/crypto/secrets.ts';
import { DEFAULT_ORG_ID, LATEST_SCHEMA_VERSION, SchemaTooNewError } from '../../src/store/migrations.ts';
import { openStore, retryWhileBusy } from '../../src/store/open-store.ts';
import type { SqlDriver } from '../../src/store/sql-driver.ts';
import { SqliteDriver } from '../../src/store/sqlite-driver.ts';
import { StoreConflictError, type Client, type Session, type Store, type User } from '../../src/store/store.ts';
import { freshDatabase, storeKinds, type StoreKind } from '../support/harness.ts';
import { runBin } from './support.ts';

const N = 20;
const NOW = Date.UTC(2026, 0, 1);

async function rawDriver(kind: StoreKind, url: string): Promise<SqlDriver> {
  if (kind === 'sqlite') return new SqliteDriver(url.slice('sqlite:'.length));
  const { PostgresDriver } = await import('../../src/store/postgres-driver.ts');
  return new PostgresDriver(url);
}

function user(email: string, extra: Partial<User> = {}): User {
  return { id: newId('usr_'), orgId: DEFAULT_ORG_ID, email, passwordHash: null, maxSessions: null, disabled: false, createdAt: NOW, ...extra };
}

function client(extra: Partial<Client> = {}): Client {
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
    disabled: false,
    createdAt: NOW,
    ...extra,
  };
}

function session(userId: string, clientId: string, extra: Partial<Session> = {}): Session {
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
    ...extra,
  };
}

for (const kind of storeKinds()) {
  describe(`store contract [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let store: Store;
    let c: Client;
    before(async () => {
      db = await freshDatabase(kind);
      store = await openStore({ databaseUrl: db.url, now: NOW });
      c = client();
      await store.createClient(c);
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    async function newUser(extra: Partial<User> = {}): Promise<User> {
      const u = user(`contract-${newId('')}@example.com`, extra);
      await store.createUser(u);
      return u;
    }

    test('the store reports its kind, answers ping, and has the default organization', async () => {
      assert.equal(store.kind, kind);
      await store.ping();
      assert.equal((await store.findOrg(DEFAULT_ORG_ID))?.maxSessions, null);
    });

    test('email uniqueness is case-insensitive: StoreConflictError', async () => {
      await store.createUser(user('Case.Test@Example.com'));
      await assert.rejects(store.createUser(user('case.test@example.COM')), StoreConflictError);
      await assert.rejects(store.createUser(user('  CASE.TEST@EXAMPLE.COM ')), StoreConflictError);
      assert.equal((await store.findUserByEmail('CASE.test@example.com'))?.email, 'Case.Test@Example.com');
    });

    test('a conflicting user inside a transaction rolls the whole transaction back', async () => {
      const email = `rollback-${newId('')}@example.com`;
      await store.createUser(user(email));
      const org = { id: newId('org_'), name: 'rolled back', maxSessions: null, createdAt: NOW };
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.createOrg(org);
          await tx.createUser(user(email.toUpperCase()));
        }),
        StoreConflictError,
      );
      assert.equal(await store.findOrg(org.id), undefined);
    });

    test('a transaction whose function throws commits nothing', async () => {
      const u = user(`thrown-${newId('')}@example.com`);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.createUser(u);
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await store.findUserById(u.id), undefined);
    });

    test('updates of unknown rows report false', async () => {
      assert.equal(await store.updateUser('usr_nope', { disabled: true }), false);
      assert.equal(await store.updateClient('cl_nope', { disabled: true }), false);
      assert.equal(await store.updateOrg('org_nope', { maxSessions: 1 }), false);
    });

    test('client settings round-trip', async () => {
      const custom = client({ redirectUrls: ['https://a.example/1', 'https://a.example/2'], accessTtl: 60, refreshTtl: 120, tokenType: 'Bearer', refreshGrace: 5, querySecrets: false, refreshTokens: false });
      await store.createClient(custom);
      assert.deepEqual(await store.findClient(custom.id), custom);
    });

    test('active sessions exclude ended and expired ones', async () => {
      const u = await newUser();
      const live = session(u.id, c.id);
      const expired = session(u.id, c.id, { expiresAt: NOW - 1 });
      const ended = session(u.id, c.id);
      for (const s of [live, expired, ended]) await store.insertSession(s);
      assert.equal(await store.endSession(ended.id, 'logout', NOW), true);
      assert.equal(await store.countActiveSessions(u.id, NOW), 1);
      assert.deepEqual((await store.listActiveSessions(u.id, NOW)).map((s) => s.id), [live.id]);
      assert.equal(await store.countActiveSessions(u.id, NOW + 3_600_000), 0, 'at its expiry a session no longer counts');
    });

    test('ending a session revokes its tokens and happens once', async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.insertSession(s);
      const access = hashSecret(newSecret('access_token'));
      const refresh = hashSecret(newSecret('refresh_token'));
      await store.insertAccessToken({ hash: access, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      await store.insertRefreshToken({ hash: refresh, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      assert.equal(await store.endSession(s.id, 'admin', NOW + 1), true);
      assert.equal(await store.endSession(s.id, 'admin', NOW + 2), false);
      assert.equal((await store.findAccessToken(access))?.revokedAt, NOW + 1);
      assert.equal((await store.findRefreshToken(refresh))?.revokedAt, NOW + 1);
      assert.equal((await store.findSession(s.id))?.endReason, 'admin');
    });

    test("endUserSessions ends exactly the user's active sessions and returns their ids", async () => {
      const u = await newUser();
      const other = await newUser();
      const a = session(u.id, c.id);
      const b = session(u.id, c.id);
      const theirs = session(other.id, c.id);
      for (const s of [a, b, theirs]) await store.insertSession(s);
      assert.deepEqual((await store.endUserSessions(u.id, 'end_other_sessions', NOW)).sort(), [a.id, b.id].sort());
      assert.deepEqual(await store.endUserSessions(u.id, 'end_other_sessions', NOW), []);
      assert.equal(await store.countActiveSessions(other.id, NOW), 1);
    });

    test(`markRefreshTokenRotated has exactly one winner among ${N} parallel calls`, async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.insertSession(s);
      const hash = hashSecret(newSecret('refresh_token'));
      await store.insertRefreshToken({ hash, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      const wins = await Promise.all(Array.from({ length: N }, (_, i) => store.markRefreshTokenRotated(hash, NOW + i)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.notEqual((await store.findRefreshToken(hash))?.rotatedAt, null);
    });

    test(`markRefreshTokenRotated has exactly one winner among ${N} parallel transactions`, async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.insertSession(s);
      const hash = hashSecret(newSecret('refresh_token'));
      await store.insertRefreshToken({ hash, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      const wins = await Promise.all(Array.from({ length: N }, () => store.transaction((tx) => tx.markRefreshTokenRotated(hash, NOW))));
      assert.equal(wins.filter(Boolean).length, 1);
    });

    test('a revoked refresh token cannot be rotated', async () => {
      const u = await newUser();
      const s = session(u.id, c.id);
      await store.insertSession(s);
      const hash = hashSecret(newSecret('refresh_token'));
      await store.insertRefreshToken({ hash, sessionId: s.id, expiresAt: s.expiresAt, createdAt: NOW });
      assert.equal(await store.revokeRefreshToken(hash, NOW), true);
      assert.equal(await store.markRefreshTokenRotated(hash, NOW), false);
    });

    test(`consumeAuthorizationCode has exactly one winner among ${N} parallel calls`, async () => {
      const u = await newUser();
      const hash = hashSecret(newSecret('authorization_code'));
      await store.insertAuthorizationCode({
        hash,
        clientId: c.id,
        userId: u.id,
        redirectUri: 'https://contract.example/cb',
        redirectUriGiven: true,
        codeChallenge: null,
        expiresAt: NOW + 60_000,
        usedAt: null,
        sessionId: null,
        createdAt: NOW,
      });
      const sessions = Array.from({ length: N }, () => newId('ses_'));
      const wins = await Promise.all(sessions.map((sid) => store.consumeAuthorizationCode(hash, sid, NOW)));
      assert.equal(wins.filter(Boolean).length, 1);
      const winner = sessions[wins.indexOf(true)];
      const code = await store.findAuthorizationCode(hash);
      assert.equal(code?.usedAt, NOW);
      assert.equal(code?.sessionId, winner);
      assert.equal(await store.consumeAuthorizationCode(hash, newId('ses_'), NOW), false);
    });

    test(`the session-limit transaction (lock, count, insert) admits exactly one of ${N} parallel starts`, async () => {
      const u = await newUser({ maxSessions: 1 });
      const results = await Promise.all(
        Array.from({ length: N }, () =>
          store.transaction(async (tx) => {
            await tx.lockUser(u.id);
            if ((await tx.countActiveSessions(u.id, NOW)) >= 1) return false;
            await tx.insertSession(session(u.id, c.id));
            return true;
          }),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.countActiveSessions(u.id, NOW), 1);
    });

    test('events are listed by user, time and limit', async () => {
      const u = await newUser();
      for (let i = 0; i < 3; i++) {
        await store.insertEvent({ id: newId('evt_'), at: NOW + i, type: 'login_failed', reason: 'bad_password', userId: u.id, email: u.email, clientId: c.id, sessionId: null, ip: '127.0.0.1', requestId: null });
      }
      assert.equal((await store.listEvents({ userId: u.id })).length, 3);
      assert.equal((await store.listEvents({ userId: u.id, since: NOW + 1 })).length, 2);
      assert.equal((await store.listEvents({ userId: u.id, limit: 1 })).length, 1);
    });
  });

  describe(`store migrations [${kind}]`, () => {
    test('migrations are idempotent: a second open applies nothing and keeps the data', async () => {
      const db = await freshDatabase(kind);
      try {
        const first = await openStore({ databaseUrl: db.url, now: NOW });
        await first.createOrg({ id: 'org_kept', name: 'kept', maxSessions: 4, createdAt: NOW });
        await first.close();
        const second = await openStore({ databaseUrl: db.url, now: NOW + 1 });
        assert.equal((await second.findOrg('org_kept'))?.maxSessions, 4);
        assert.equal((await second.listOrgs()).filter((o) => o.id === DEFAULT_ORG_ID).length, 1, 'the default org is not inserted twice');
        await second.close();
        const driver = await rawDriver(kind, db.url);
        try {
          const row = await driver.get<{ n: number; v: number }>('SELECT COUNT(*) AS n, MAX(version) AS v FROM schema_migrations');
          assert.equal(Number(row?.v), LATEST_SCHEMA_VERSION);
          assert.equal(Number(row?.n), LATEST_SCHEMA_VERSION, 'each migration recorded once');
        } finally {
          await driver.close();
        }
      } finally {
        await db.drop();
      }
    });

    test('several processes opening a fresh database at once all succeed (the migration is serialized)', async () => {
      // Separate processes: one SQLite connection per process is how the store is meant to run
      // (better-sqlite3 waits for a lock synchronously, so two connections in one thread would wait on each other).
      const db = await freshDatabase(kind);
      try {
        const results = await Promise.all([0, 1, 2].map(() => runBin(['org', 'list', '--json'], { env: { DATABASE_URL: db.url } })));
        for (const result of results) assert.equal(result.code, 0, result.stderr);
        const driver = await rawDriver(kind, db.url);
        try {
          const row = await driver.get<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations');
          assert.equal(Number(row?.n), LATEST_SCHEMA_VERSION);
          const orgs = await driver.get<{ n: number }>('SELECT COUNT(*) AS n FROM orgs');
          assert.equal(Number(orgs?.n), 1, 'the default organization exists once');
        } finally {
          await driver.close();
        }
      } finally {
        await db.drop();
      }
    });

    if (kind === 'postgres') {
      test('several pools opening a fresh database at once all succeed (advisory lock)', async () => {
        const db = await freshDatabase(kind);
        try {
          const stores = await Promise.all([0, 1, 2].map(() => openStore({ databaseUrl: db.url, now: NOW })));
          for (const s of stores) await s.ping();
          await Promise.all(stores.map((s) => s.close()));
        } finally {
          await db.drop();
        }
      });
    }

    test('a database whose schema is newer than this release is refused with SchemaTooNewError', async () => {
      const db = await freshDatabase(kind);
      try {
        await (await openStore({ databaseUrl: db.url, now: NOW })).close();
        const driver = await rawDriver(kind, db.url);
        await driver.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [LATEST_SCHEMA_VERSION + 1, 'from the future', NOW]);
        await driver.close();
        await assert.rejects(openStore({ databaseUrl: db.url, now: NOW }), (error: unknown) => {
          assert.ok(error instanceof SchemaTooNewError);
          assert.match(error.message, new RegExp(`version ${LATEST_SCHEMA_VERSION + 1}`));
          assert.match(error.message, /newer/);
          return true;
        });
      } finally {
        await db.drop();
      }
    });
  });
}

describe('opening SQLite while other processes set the same new file up', () => {
  const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

  test('SQLITE_BUSY while opening is retried until the open succeeds', async () => {
    let attempts = 0;
    const value = await retryWhileBusy(async () => {
      if (++attempts < 3) throw busy();
      return 'opened';
    });
    assert.equal(value, 'opened');
    assert.equal(attempts, 3);
  });

  test('any other error is not retried', async () => {
    let attempts = 0;
    await assert.rejects(
      retryWhileBusy(async () => {
        attempts++;
        throw Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' });
      }),
      /not a database/,
    );
    assert.equal(attempts, 1);
  });

  test('a lock that never clears ends in the error once the retry time is up', async () => {
    let attempts = 0;
    await assert.rejects(
      retryWhileBusy(async () => {
        attempts++;
        throw busy();
      }, 200),
      /database is locked/,
    );
    assert.ok(attempts > 1);
  });
});
