/**
 * Issue #13, item 12: the data lifecycle. Sessions that ended or expired longer ago than
 * SESSION_RETENTION_DAYS are deleted with their tokens, authorization codes expired as long ago
 * too; newer ones are kept and active sessions never touched. The deletes run in bounded batches,
 * each its own transaction. `sei-auth db prune` runs the same maintenance on demand, and a
 * server runs it every MAINTENANCE_INTERVAL. A pruned token introspects inactive (never a 5xx).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock, systemClock } from '../../src/clock.ts';
import { newId, newSecret, storedKey } from '../../src/crypto/secrets.ts';
import { runMaintenance } from '../../src/maintenance/maintenance.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { runBin, runCliInProcess, singleJson } from '../core/support.ts';
import {
  createHarness,
  freshDatabase,
  type Harness,
  introspect,
  passwordLogin,
  type Seeded,
  servicesFor,
  storeKinds,
} from '../support/harness.ts';
import { postForm, startServerProcess } from '../support/server-process.ts';

const DAY = 86_400_000;

/** Sessions (each with an access and a refresh token) written straight into the store. */
async function insertSessions(
  store: Store,
  owner: { userId: string; clientId: string },
  n: number,
  times: { startedAt: number; expiresAt: number; endedAt?: number },
): Promise<Array<{ id: string; access: string; refresh: string }>> {
  const made: Array<{ id: string; access: string; refresh: string }> = [];
  await store.transaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const id = newId('ses_');
      await tx.sessions.create({
        id,
        userId: owner.userId,
        clientId: owner.clientId,
        grantType: 'password',
        redirectUrl: 'https://app.example/callback',
        startedAt: times.startedAt,
        expiresAt: times.expiresAt,
        endedAt: times.endedAt ?? null,
        endReason: times.endedAt === undefined ? null : 'logout',
        scope: '',
        audience: null,
      });
      const access = storedKey(newSecret('access_token'));
      const refresh = storedKey(newSecret('refresh_token'));
      await tx.tokens.createAccess({
        hash: access,
        sessionId: id,
        expiresAt: times.expiresAt,
        createdAt: times.startedAt,
        scope: '',
        audience: 'https://aud.example',
      });
      await tx.tokens.createRefresh({ hash: refresh, sessionId: id, expiresAt: times.expiresAt, createdAt: times.startedAt });
      made.push({ id, access, refresh });
    }
  });
  return made;
}

async function codeWith(store: Store, owner: { userId: string; clientId: string }, expiresAt: number, used: boolean): Promise<string> {
  const code = newSecret('authorization_code');
  await store.codes.create({
    hash: storedKey(code),
    clientId: owner.clientId,
    userId: owner.userId,
    redirectUri: 'https://app.example/callback',
    redirectUriGiven: true,
    codeChallenge: null,
    expiresAt,
    usedAt: used ? expiresAt - 30_000 : null,
    sessionId: null,
    createdAt: expiresAt - 60_000,
    scope: '',
  });
  return code;
}

for (const kind of storeKinds()) {
  describe(`data lifecycle: pruning sessions, tokens and codes [${kind}]`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let h: Harness;
    let s: Seeded;
    let owner: { userId: string; clientId: string };
    before(async () => {
      h = await createHarness({ kind, clock, accessTokenTtl: 60, rateLimits: { perIp: 0, perClient: 0 } });
      s = await h.seed();
      owner = { userId: s.userId, clientId: s.clientId };
    });
    after(() => h.close());

    test('ended and expired sessions older than the retention go with their tokens; newer ones stay; active ones never go; pruned tokens introspect inactive', async () => {
      // Real logins through the token endpoint: access tokens live 60 s, so do their sessions.
      const login = async () => {
        const res = await passwordLogin(h, s);
        assert.equal(res.statusCode, 200, res.body);
        const token = res.json().access_token as string;
        const found = await h.store.tokens.findAccess(storedKey(token));
        return { token, session: found!.session.id };
      };
      const expiredLongAgo = await login();
      const endedLongAgo = await login();
      assert.equal(
        (await h.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: endedLongAgo.token })).statusCode,
        200,
      );
      // A session that lives for 30 days: still active after the 8 days below.
      const active = await insertSessions(h.store, owner, 1, { startedAt: clock.now(), expiresAt: clock.now() + 30 * DAY });
      clock.advance(7.5 * DAY);
      const expiredRecently = await login();
      clock.advance(0.5 * DAY + 1);

      const report = await h.services.maintenance.run();
      assert.ok(report.sessions >= 2, JSON.stringify(report));
      for (const gone of [expiredLongAgo, endedLongAgo]) {
        assert.equal(await h.store.sessions.find(gone.session), undefined, 'the session is deleted');
        assert.equal(await h.store.tokens.findAccess(storedKey(gone.token)), undefined, 'with its tokens');
        // Introspecting a pruned token: inactive, as any unknown token (RFC 7662 §2.2), never a 5xx.
        const res = await introspect(h, s, gone.token);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { active: false });
      }
      assert.ok(await h.store.sessions.find(expiredRecently.session), 'expired half a day ago: kept (7-day retention)');
      assert.ok(await h.store.tokens.findAccess(storedKey(expiredRecently.token)));
      assert.ok(await h.store.sessions.find(active[0]!.id), 'an active session is never pruned');
      assert.ok(await h.store.tokens.findAccess(active[0]!.access));
      assert.ok(await h.store.tokens.findRefresh(active[0]!.refresh));
      // The events about them stay (their own retention, EVENT_RETENTION_DAYS).
      assert.ok((await h.store.events.list({ userId: s.userId, limit: 100_000 })).some((e) => e.sessionId === endedLongAgo.session));

      // A second run finds nothing more.
      const again = await h.services.maintenance.run();
      assert.equal(again.sessions, 0);
    });

    test('codes expired longer ago than the retention go, used or not; newer and live codes stay; a pruned code is invalid_grant', async () => {
      const now = clock.now();
      const oldUsed = await codeWith(h.store, owner, now - 8 * DAY, true);
      const oldUnused = await codeWith(h.store, owner, now - 8 * DAY, false);
      const recent = await codeWith(h.store, owner, now - 1 * DAY, false);
      const live = await codeWith(h.store, owner, now + 60_000, false);
      const report = await h.services.maintenance.run();
      assert.equal(report.codes, 2);
      for (const gone of [oldUsed, oldUnused]) assert.equal(await h.store.codes.find(storedKey(gone)), undefined);
      for (const kept of [recent, live]) assert.ok(await h.store.codes.find(storedKey(kept)));
      const exchange = await h.post('/oauth/token', {
        grant_type: 'authorization_code',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        code: oldUnused,
        redirect_uri: 'https://app.example/callback',
      });
      assert.equal(exchange.statusCode, 400);
      assert.equal(exchange.json().error, 'invalid_grant');
    });

    test('a backlog is deleted in bounded batches, each its own transaction, until a batch comes back short', async () => {
      const long = clock.now() - 10 * DAY;
      const backlog = await insertSessions(h.store, owner, 1234, { startedAt: long - DAY, expiresAt: long, endedAt: long });
      const transactions: number[] = [];
      // Count the store's transactions during the run.
      const counting: Store = {
        ...h.store,
        kind: h.store.kind,
        transaction: (fn) => {
          transactions.push(Date.now());
          return h.store.transaction(fn);
        },
        ping: () => h.store.ping(),
        close: () => h.store.close(),
      };
      const report = await runMaintenance(counting, clock, {
        eventRetentionDays: 90,
        throttleWindowMs: 900_000,
        sessionRetentionDays: 7,
        batchSize: 500,
      });
      assert.equal(report.sessions, 1234);
      // 500 + 500 + 234: three session batches, each in its own transaction.
      assert.equal(transactions.length, 3);
      assert.ok(report.batches >= 5, `sessions 3 + codes 1 + events 1: ${report.batches}`);
      assert.ok(report.longestBatchMs >= 0 && report.longestBatchMs < 10_000);
      for (const gone of [backlog[0]!, backlog[777]!, backlog[1233]!]) {
        assert.equal(await h.store.sessions.find(gone.id), undefined);
        assert.equal(await h.store.tokens.findAccess(gone.access), undefined);
        assert.equal(await h.store.tokens.findRefresh(gone.refresh), undefined);
      }
    });

    test('SESSION_RETENTION_DAYS=0 prunes at the next run whatever has ended, and still nothing active', async () => {
      const now = clock.now();
      const ended = await insertSessions(h.store, owner, 3, { startedAt: now - 1000, expiresAt: now + DAY, endedAt: now - 1 });
      const active = await insertSessions(h.store, owner, 3, { startedAt: now - 1000, expiresAt: now + 1 });
      const report = await runMaintenance(h.store, clock, { eventRetentionDays: 90, throttleWindowMs: 900_000, sessionRetentionDays: 0 });
      assert.ok(report.sessions >= 3);
      for (const e of ended) assert.equal(await h.store.sessions.find(e.id), undefined);
      for (const a of active) assert.ok(await h.store.sessions.find(a.id));
    });
  });

  describe(`sei-auth db prune and the server's maintenance loop [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let store: Store;
    let owner: { userId: string; clientId: string };
    const run = kind === 'sqlite' ? runBin : runCliInProcess;
    before(async () => {
      db = await freshDatabase(kind);
      store = await openStore({ databaseUrl: db.url, now: systemClock.now() });
      const services = servicesFor(store);
      const user = await services.accounts.createUser({ email: `prune-${Date.now()}@example.com`, password: 'correct horse battery' });
      const client = await services.clients.createClient({ name: 'prune', redirectUrls: ['https://app.example/callback'] });
      owner = { userId: user.id, clientId: client.client_id };
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test('db prune --json deletes what is past SESSION_RETENTION_DAYS and prints the counts; text mode says it in a line', async () => {
      const now = Date.now();
      const old = await insertSessions(store, owner, 5, { startedAt: now - 3 * DAY, expiresAt: now - 2 * DAY });
      const recent = await insertSessions(store, owner, 2, { startedAt: now - DAY, expiresAt: now - 0.5 * DAY });
      const active = await insertSessions(store, owner, 2, { startedAt: now, expiresAt: now + DAY });
      await codeWith(store, owner, now - 3 * DAY, true);
      const result = await run(['db', 'prune', '--json'], { env: { DATABASE_URL: db.url, SESSION_RETENTION_DAYS: '1' } });
      const printed = singleJson(result);
      assert.deepEqual(Object.keys(printed).sort(), [
        'batches',
        'codes',
        'events',
        'longest_batch_ms',
        'saml_replay',
        'saml_requests',
        'service_tokens',
        'sessions',
        'throttles',
      ]);
      assert.equal(printed.sessions, 5);
      assert.equal(printed.codes, 1);
      for (const o of old) assert.equal(await store.sessions.find(o.id), undefined);
      for (const kept of [...recent, ...active]) assert.ok(await store.sessions.find(kept.id));

      const text = await run(['db', 'prune'], { env: { DATABASE_URL: db.url, SESSION_RETENTION_DAYS: '0' } });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^pruned .+: 2 sessions \(with their tokens\), 0 codes, /);
      for (const r of recent) assert.equal(await store.sessions.find(r.id), undefined);
      for (const a of active) assert.ok(await store.sessions.find(a.id), 'active sessions survive SESSION_RETENTION_DAYS=0');
    });

    test('a server with MAINTENANCE_INTERVAL=1 and SESSION_RETENTION_DAYS=0 prunes an expired session by itself while it serves', async () => {
      const now = Date.now();
      const [soon] = await insertSessions(store, owner, 1, { startedAt: now, expiresAt: now + 1500 });
      const client = await servicesFor(store).clients.createClient({
        name: 'prune-server',
        redirectUrls: ['https://app.example/callback'],
      });
      const server = await startServerProcess({ DATABASE_URL: db.url, SESSION_RETENTION_DAYS: '0', MAINTENANCE_INTERVAL: '1' });
      try {
        const deadline = Date.now() + 15_000;
        while ((await store.sessions.find(soon!.id)) !== undefined) {
          assert.ok(Date.now() < deadline, 'the server pruned the expired session within its maintenance interval');
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(await store.tokens.findAccess(soon!.access), undefined);
        // Still serving: an unknown (or pruned) token is inactive.
        const res = await postForm(`${server.url}/oauth/introspect`, {
          client_id: client.client_id,
          client_secret: client.client_secret,
          token: newSecret('access_token'),
        });
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { active: false });
      } finally {
        assert.equal(await server.stop(), 0);
      }
    });
  });
}
