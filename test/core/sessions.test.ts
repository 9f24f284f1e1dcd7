/**
 * Contract §4 and issue #2 item 7: a login starts a session; a user's limit (or its
 * organization's) caps how many it may hold; beyond it the login is refused with
 * concurrent_session_limit and starts nothing, unless endOtherSessions=true ends the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { createHarness, type Harness, introspect, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertOAuthError } from './support.ts';

for (const kind of storeKinds()) {
  describe(`sessions and the concurrent-session limit [${kind}]`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ kind });
    });
    after(() => h.close());

    const active = async (s: Seeded) => (await h.store.sessions.listActive(s.userId, h.clock.now())).length;
    const isActive = async (s: Seeded, token: string) => (await introspect(h, s, token)).json().active as boolean;

    test('a user limited to 1: the second login is 400 concurrent_session_limit and starts nothing', async () => {
      const s = await h.seed({ maxSessions: 1 });
      const first = await passwordLogin(h, s);
      assert.equal(first.statusCode, 200);
      const eventsBefore = (await h.store.events.list({ userId: s.userId })).filter((e) => e.type === 'session_started').length;

      const second = await passwordLogin(h, s);
      const body = assertOAuthError(second, 400, 'concurrent_session_limit');
      assert.match(body.error_description, /endOtherSessions=true/);
      assert.equal(await active(s), 1);
      assert.equal(await isActive(s, first.json().access_token), true, 'the first session is untouched');
      const events = await h.store.events.list({ userId: s.userId });
      assert.equal(events.filter((e) => e.type === 'session_started').length, eventsBefore);
      assert.ok(events.some((e) => e.type === 'login_failed' && e.reason === 'session_limit'));
    });

    test('endOtherSessions=false behaves as the default: still refused at the limit', async () => {
      const s = await h.seed({ maxSessions: 1 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s, { endOtherSessions: 'false' }), 400, 'concurrent_session_limit');
      assert.equal(await active(s), 1);
    });

    test('the session limit is checked only after the password: a wrong password at the limit is invalid_grant', async () => {
      const s = await h.seed({ maxSessions: 1 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s, { password: 'wrong-password-1' }), 400, 'invalid_grant');
    });

    test('with endOtherSessions=true the login succeeds and the older token introspects inactive', async () => {
      const s = await h.seed({ maxSessions: 1 });
      const first = await passwordLogin(h, s);
      assert.equal(first.statusCode, 200);
      const second = await passwordLogin(h, s, { endOtherSessions: 'true' });
      assert.equal(second.statusCode, 200, second.body);
      assert.deepEqual((await introspect(h, s, first.json().access_token)).json(), { active: false });
      assert.equal(await isActive(s, second.json().access_token), true);
      const sessions = await h.store.sessions.listActive(s.userId, h.clock.now());
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]!.id, (await introspect(h, s, second.json().access_token)).json().sid);
      const ended = (await h.store.events.list({ userId: s.userId })).filter((e) => e.type === 'session_ended');
      assert.equal(ended.length, 1);
      assert.equal(ended[0]!.reason, 'end_other_sessions');
    });

    test('endOtherSessions=true in the query string works the same', async () => {
      const s = await h.seed({ maxSessions: 1 });
      const first = await passwordLogin(h, s);
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, email: s.email, password: s.password },
        { query: 'endOtherSessions=true' },
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(await isActive(s, first.json().access_token), false);
    });

    test('endOtherSessions=true for an unlimited user ends all the other sessions too', async () => {
      const s = await h.seed();
      const tokens = [];
      for (let i = 0; i < 3; i++) tokens.push((await passwordLogin(h, s)).json().access_token as string);
      assert.equal(await active(s), 3);
      const last = await passwordLogin(h, s, { endOtherSessions: 'true' });
      assert.equal(last.statusCode, 200);
      for (const token of tokens) assert.equal(await isActive(s, token), false);
      assert.equal(await active(s), 1);
    });

    test("endOtherSessions=true ends the user's sessions at every client, not only this one", async () => {
      const s = await h.seed();
      const other = await h.services.clients.createClient({ name: 'Other app', redirectUrls: ['https://other.example/cb'] });
      const atOther = await passwordLogin(h, { ...s, clientId: other.client_id, clientSecret: other.client_secret });
      assert.equal(atOther.statusCode, 200);
      assert.equal((await passwordLogin(h, s, { endOtherSessions: 'true' })).statusCode, 200);
      assert.equal(await isActive(s, atOther.json().access_token), false);
    });

    test('a refused login with endOtherSessions=true ends nothing', async () => {
      const s = await h.seed();
      const token = (await passwordLogin(h, s)).json().access_token as string;
      assertOAuthError(await passwordLogin(h, s, { endOtherSessions: 'true', password: 'wrong-password-1' }), 400, 'invalid_grant');
      assertOAuthError(
        await passwordLogin(h, s, { endOtherSessions: 'true', client_secret: 'scs_wrong-client-secret' }),
        400,
        'invalid_client',
      );
      assert.equal(await isActive(s, token), true);
      assert.equal(await active(s), 1);
    });

    test("endOtherSessions=true does not touch other users' sessions", async () => {
      const a = await h.seed();
      const b = await h.seed();
      const bToken = (await passwordLogin(h, b)).json().access_token as string;
      assert.equal((await passwordLogin(h, a, { endOtherSessions: 'true' })).statusCode, 200);
      assert.equal(await isActive(b, bToken), true);
    });

    test("a user without its own limit gets its organization's limit", async () => {
      const org = await h.services.accounts.createOrg({ name: 'Limited org', maxSessions: 1 });
      const s = await h.seed({ orgId: org.id });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      assert.equal(await active(s), 1);
    });

    test("a user's own limit overrides a stricter organization limit", async () => {
      const org = await h.services.accounts.createOrg({ name: 'Strict org', maxSessions: 1 });
      const s = await h.seed({ orgId: org.id, maxSessions: 2 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      assert.equal(await active(s), 2);
    });

    test("a user's own limit overrides a looser organization limit", async () => {
      const org = await h.services.accounts.createOrg({ name: 'Loose org', maxSessions: 5 });
      const s = await h.seed({ orgId: org.id, maxSessions: 1 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
    });

    test('a limit set after the sessions started applies to the next login', async () => {
      const s = await h.seed();
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      await h.services.accounts.setUserMaxSessions(s.email, 2);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      await h.services.accounts.setUserMaxSessions(s.email, null);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });

    test('an organization limit changed by the admin applies at once', async () => {
      const org = await h.services.accounts.createOrg({ name: 'Changing org' });
      const s = await h.seed({ orgId: org.id });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      await h.services.accounts.setOrgMaxSessions(org.id, 1);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
    });

    test('an unlimited user may hold many sessions', async () => {
      const s = await h.seed();
      for (let i = 0; i < 4; i++) assert.equal((await passwordLogin(h, s)).statusCode, 200);
      assert.equal(await active(s), 4);
    });

    test('revoking the token frees the session slot', async () => {
      const s = await h.seed({ maxSessions: 1 });
      const first = await passwordLogin(h, s);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      const revoke = await h.post('/oauth/revoke', {
        client_id: s.clientId,
        client_secret: s.clientSecret,
        token: first.json().access_token,
      });
      assert.equal(revoke.statusCode, 200);
      assert.equal(await active(s), 0);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });

    test('an admin ending the session frees the slot', async () => {
      const s = await h.seed({ maxSessions: 1 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      const [session] = await h.services.sessions.listActive(s.userId);
      await h.services.sessions.end(session!.id);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });

    test('a refused login (wrong password) starts no session', async () => {
      const s = await h.seed();
      assertOAuthError(await passwordLogin(h, s, { password: 'wrong-password-1' }), 400, 'invalid_grant');
      assert.equal(await active(s), 0);
    });
  });

  describe(`sessions and time [${kind}]`, () => {
    let h: Harness;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock();
      h = await createHarness({ kind, clock });
    });
    after(() => h.close());

    test('an expired session does not count against the limit', async () => {
      const s = await h.seed({ maxSessions: 1 });
      const first = await passwordLogin(h, s);
      assert.equal(first.statusCode, 200);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
      clock.advance(3600 * 1000 + 1000);
      assert.equal((await h.store.sessions.listActive(s.userId, clock.now())).length, 0);
      const second = await passwordLogin(h, s);
      assert.equal(second.statusCode, 200, second.body);
      assert.deepEqual((await introspect(h, s, first.json().access_token)).json(), { active: false });
    });

    test('a session one second before expiry still counts', async () => {
      const s = await h.seed({ maxSessions: 1 });
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
      clock.advance(3599 * 1000);
      assertOAuthError(await passwordLogin(h, s), 400, 'concurrent_session_limit');
    });

    test("a client's shorter access TTL makes its sessions expire sooner", async () => {
      const s = await h.seed({ maxSessions: 1, client: { accessTtl: 60 } });
      assert.equal((await passwordLogin(h, s)).json().expires_in, 60);
      clock.advance(61 * 1000);
      assert.equal((await passwordLogin(h, s)).statusCode, 200);
    });
  });
}
