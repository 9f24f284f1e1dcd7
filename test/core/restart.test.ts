/**
 * Issue #2: "restart persistence (tokens issued before a restart still work after it)". The
 * server is closed and a new one opened on the same database: tokens, sessions, ended sessions
 * and session limits all survive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, freshDatabase, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertOAuthError } from './support.ts';

for (const kind of storeKinds()) {
  describe(`restart persistence [${kind}]`, () => {
    let db: { url: string; drop: () => Promise<void> };
    let h: Harness | undefined;
    before(async () => {
      db = await freshDatabase(kind);
    });
    after(async () => {
      await h?.close({ drop: false });
      await db.drop();
    });

    test('a token issued before a restart still introspects active after it, and revocations persist', async () => {
      const first = await createHarness({ kind, databaseUrl: db.url });
      const s: Seeded = await first.seed({ maxSessions: 2 });
      const kept = (await passwordLogin(first, s)).json().access_token as string;
      const revoked = (await passwordLogin(first, s)).json().access_token as string;
      assert.equal(
        (await first.post('/oauth/revoke', { client_id: s.clientId, client_secret: s.clientSecret, token: revoked })).statusCode,
        200,
      );
      await first.close({ drop: false });

      h = await createHarness({ kind, databaseUrl: db.url });
      const info = (await introspect(h, s, kept)).json();
      assert.equal(info.active, true);
      assert.equal(info.email, s.email);
      assert.deepEqual((await introspect(h, s, revoked)).json(), { active: false });

      // The client secret, the password and the session limit survived too.
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      assert.equal((await h.store.sessions.listActive(s.userId, h.clock.now())).length, 2);
    });
  });
}
