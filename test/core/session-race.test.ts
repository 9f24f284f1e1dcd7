/**
 * Issue #2 item 7: "The check and the insert are atomic: N parallel logins of a user limited to
 * 1 give exactly one success" — over real sockets, within one server process and across two
 * server processes sharing one database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createHarness, freshDatabase, type Harness, type Seeded, servicesFor, storeKinds } from '../support/harness.ts';
import { postForm, type ServerProcess, startServerProcess } from './support.ts';

const PARALLEL = 20;

function loginForm(s: { clientId: string; clientSecret: string; email: string; password: string }, extra: Record<string, string> = {}) {
  return {
    grant_type: 'client_credentials',
    client_id: s.clientId,
    client_secret: s.clientSecret,
    email: s.email,
    password: s.password,
    ...extra,
  };
}

function tally(results: Array<{ status: number; body: Record<string, unknown> }>) {
  const ok = results.filter((r) => r.status === 200);
  const limited = results.filter((r) => r.status === 400 && r.body.error === 'concurrent_session_limit');
  const other = results.filter((r) => !ok.includes(r) && !limited.includes(r));
  return { ok, limited, other };
}

for (const kind of storeKinds()) {
  describe(`parallel logins, one server process [${kind}]`, () => {
    let h: Harness;
    let url: string;
    before(async () => {
      // More parallel logins of one account than LOGIN_MAX_FAILURES would be refused 429 before the
      // password check (a burst's attempts are reserved before it); this is about the session limit.
      h = await createHarness({ kind, throttle: { accountMaxFailures: 100 } });
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const address = h.app.server.address();
      assert.ok(address && typeof address === 'object');
      url = `http://127.0.0.1:${address.port}/oauth/token`;
    });
    after(() => h.close());

    test(`${PARALLEL} parallel logins of a user limited to 1: exactly one succeeds`, async () => {
      const s: Seeded = await h.seed({ maxSessions: 1 });
      const results = await Promise.all(Array.from({ length: PARALLEL }, () => postForm(url, loginForm(s))));
      const { ok, limited, other } = tally(results);
      assert.deepEqual(other, [], 'every response is 200 or concurrent_session_limit');
      assert.equal(ok.length, 1);
      assert.equal(limited.length, PARALLEL - 1);
      assert.equal((await h.store.sessions.listActive(s.userId, h.clock.now())).length, 1);
    });

    test(`${PARALLEL} parallel logins of a user limited to 3: exactly three succeed`, async () => {
      const s = await h.seed({ maxSessions: 3 });
      const { ok, limited, other } = tally(await Promise.all(Array.from({ length: PARALLEL }, () => postForm(url, loginForm(s)))));
      assert.deepEqual(other, []);
      assert.equal(ok.length, 3);
      assert.equal(limited.length, PARALLEL - 3);
      assert.equal((await h.store.sessions.listActive(s.userId, h.clock.now())).length, 3);
    });

    test(`${PARALLEL} parallel logins with endOtherSessions=true leave exactly one active session`, async () => {
      const s = await h.seed({ maxSessions: 1 });
      const results = await Promise.all(Array.from({ length: PARALLEL }, () => postForm(url, loginForm(s, { endOtherSessions: 'true' }))));
      assert.ok(
        results.every((r) => r.status === 200),
        JSON.stringify(results.filter((r) => r.status !== 200)),
      );
      assert.equal((await h.store.sessions.listActive(s.userId, h.clock.now())).length, 1);
    });
  });

  describe(`parallel logins, two server processes on one database [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let servers: ServerProcess[] = [];
    let s: { clientId: string; clientSecret: string; email: string; password: string; userId: string };
    before(async () => {
      db = await freshDatabase(kind);
      const store = await openStore({ databaseUrl: db.url, now: Date.now() });
      try {
        const services = servicesFor(store, systemClock);
        const user = await services.accounts.createUser({
          email: `race-${Date.now()}@example.com`,
          password: 'race-password-123',
          maxSessions: 1,
        });
        const client = await services.clients.createClient({ name: 'race', redirectUrls: ['https://race.example/cb'] });
        s = {
          clientId: client.client_id,
          clientSecret: client.client_secret,
          email: user.email,
          password: 'race-password-123',
          userId: user.id,
        };
      } finally {
        await store.close();
      }
      // As above: a budget of password checks above the number of parallel logins.
      servers = await Promise.all(
        [0, 1].map(() => startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'warn', LOGIN_MAX_FAILURES: '100' })),
      );
    });
    after(async () => {
      await Promise.all(servers.map((p) => p.stop()));
      await db.drop();
    });

    test(`${PARALLEL} parallel logins split between two processes: exactly one succeeds`, async () => {
      const results = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) => postForm(`${servers[i % 2]!.url}/oauth/token`, loginForm(s))),
      );
      const { ok, limited, other } = tally(results);
      assert.deepEqual(other, [], 'every response is 200 or concurrent_session_limit');
      assert.equal(ok.length, 1);
      assert.equal(limited.length, PARALLEL - 1);

      const store = await openStore({ databaseUrl: db.url, now: Date.now() });
      try {
        assert.equal((await store.sessions.listActive(s.userId, Date.now())).length, 1);
      } finally {
        await store.close();
      }
    });

    test('a session ended through one process is inactive at the other at once', async () => {
      const [a, b] = servers;
      const login = await postForm(`${a!.url}/oauth/token`, loginForm(s, { endOtherSessions: 'true' }));
      assert.equal(login.status, 200);
      const token = login.body.access_token as string;
      const creds = { client_id: s.clientId, client_secret: s.clientSecret };
      assert.equal((await postForm(`${b!.url}/oauth/introspect`, { ...creds, token })).body.active, true);
      assert.equal((await postForm(`${b!.url}/oauth/revoke`, { ...creds, token })).status, 200);
      assert.deepEqual((await postForm(`${a!.url}/oauth/introspect`, { ...creds, token })).body, { active: false });
    });
  });
}
