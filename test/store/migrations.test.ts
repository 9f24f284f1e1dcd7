/**
 * Versioned migrations on every store kind: idempotent, serialized between processes (and
 * pools), and refusing a database from a newer release.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_ORG_ID, LATEST_SCHEMA_VERSION, MIGRATIONS, SchemaTooNewError } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runBin } from '../core/support.ts';
import { freshDatabase, storeKinds } from '../support/harness.ts';
import { databaseAtSchema, NOW, rawDriver } from './support.ts';

for (const kind of storeKinds()) {
  describe(`store migrations [${kind}]`, () => {
    test('migrations are idempotent: a second open applies nothing and keeps the data', async () => {
      const db = await freshDatabase(kind);
      try {
        const first = await openStore({ databaseUrl: db.url, now: NOW });
        await first.orgs.create({ id: 'org_kept', name: 'kept', maxSessions: 4, createdAt: NOW });
        await first.close();
        const second = await openStore({ databaseUrl: db.url, now: NOW + 1 });
        assert.equal((await second.orgs.find('org_kept'))?.maxSessions, 4);
        assert.equal((await second.orgs.list()).filter((o) => o.id === DEFAULT_ORG_ID).length, 1, 'the default org is not inserted twice');
        await second.close();
        const driver = await rawDriver(kind, db.url);
        try {
          const row = await driver.get<{ n: number; v: number }>('SELECT COUNT(*) AS n, MAX(version) AS v FROM schema_migrations');
          assert.equal(Number(row?.v), LATEST_SCHEMA_VERSION);
          // One row per migration; versions may skip a number reserved by another branch.
          assert.equal(Number(row?.n), MIGRATIONS.length, 'each migration recorded once');
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
          assert.equal(Number(row?.n), MIGRATIONS.length);
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

    test('a database written at schema version 3 upgrades to 4 and keeps its rows; old clients keep working without PKCE', async () => {
      const db = await freshDatabase(kind);
      try {
        // What the previous release wrote: migrations 1-3, a client, a user, a session with a refresh token.
        await databaseAtSchema(kind, db.url, 3, async (tx) => {
          await tx.run(
            `INSERT INTO clients (id, name, secret_hash, redirect_urls, refresh_tokens, token_type, refresh_grace, query_secrets, disabled, created_at)
             VALUES ('cl_old', 'old', 'h', '["https://old.example/cb"]', 1, 'BearerToken', 0, 1, 0, ?)`,
            [NOW],
          );
          await tx.run(
            `INSERT INTO users (id, org_id, email, email_key, disabled, created_at) VALUES ('usr_old', ?, 'old@example.com', 'old@example.com', 0, ?)`,
            [DEFAULT_ORG_ID, NOW],
          );
          await tx.run(
            `INSERT INTO sessions (id, user_id, client_id, grant_type, redirect_url, started_at, expires_at) VALUES ('ses_old', 'usr_old', 'cl_old', 'authorization_code', 'https://old.example/cb', ?, ?)`,
            [NOW, NOW + 3_600_000],
          );
          await tx.run(`INSERT INTO refresh_tokens (hash, session_id, expires_at, created_at) VALUES ('rt_old', 'ses_old', ?, ?)`, [
            NOW + 3_600_000,
            NOW,
          ]);
        });

        const store = await openStore({ databaseUrl: db.url, now: NOW + 1 });
        try {
          const client = await store.clients.find('cl_old');
          assert.equal(client?.name, 'old');
          assert.equal(client?.requirePkce, false, 'a client from before keeps working without PKCE');
          const refresh = await store.tokens.findRefresh('rt_old');
          assert.equal(refresh?.sessionId, 'ses_old');
          assert.equal(refresh?.successor, null);
          assert.equal((await store.users.findByEmail('old@example.com'))?.id, 'usr_old');
          // The new tables answer.
          assert.deepEqual(await store.idps.listDomains('idp_none'), []);
          assert.equal(await store.serverSecrets.find('none'), undefined);
          // Schema 5: login counters carry their in-flight attempts.
          const counter = await store.transaction((tx) => tx.throttle.lock('ip:192.0.2.1'));
          assert.deepEqual([counter.inFlight, counter.runFailed, counter.claimedAt], [0, false, 0]);
        } finally {
          await store.close();
        }
      } finally {
        await db.drop();
      }
    });

    test('a database whose schema is newer than this release is refused with SchemaTooNewError', async () => {
      const db = await freshDatabase(kind);
      try {
        await (await openStore({ databaseUrl: db.url, now: NOW })).close();
        const driver = await rawDriver(kind, db.url);
        await driver.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          LATEST_SCHEMA_VERSION + 1,
          'from the future',
          NOW,
        ]);
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
