/**
 * Issue #6 §3: the security event log. Each event type appears after the action that causes it,
 * with its reason and who/where fields; `sei-auth events` reads it; maintenance prunes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { IdpService } from '../../src/idps/idp-service.ts';
import { runMaintenance } from '../../src/maintenance/maintenance.ts';
import type { SecurityEvent } from '../../src/store/store.ts';
import { exchangeCode, obtainCode, pkcePair, refresh } from '../code-flow/flow.ts';
import { runBin } from '../core/support.ts';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { b64, DEFAULT_AUDIENCE, responseWithSignedAssertion, signedAssertion, testIdp } from '../support/test-idp.ts';
import { allEvents, login, postFrom } from './support.ts';

const SEED_SAML_GRANT = 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer';
const DAY = 86_400_000;

let ipCounter = 0;
const freshIp = () => `10.3.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;
let requestCounter = 0;
const requestId = () => `req-events-${++requestCounter}`;

/** The events caused by one request, by its request id. */
async function eventsOfRequest(h: Harness, id: string): Promise<SecurityEvent[]> {
  return (await allEvents(h)).filter((e) => e.requestId === id);
}

/** The introspected session id of an access token. */
async function sessionOf(h: Harness, s: Seeded, token: string): Promise<string> {
  const res = await h.post('/oauth/introspect', { client_id: s.clientId, client_secret: s.clientSecret, token });
  assert.equal(res.json().active, true);
  return res.json().sid as string;
}

for (const kind of storeKinds()) {
  describe(`security events [${kind}]`, () => {
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    let h: Harness;
    before(async () => {
      // The issuer the test IdP's documents are addressed to (audience, recipient).
      h = await createHarness({ kind, clock, issuer: DEFAULT_AUDIENCE, rateLimits: { perIp: 0, perClient: 0 } });
    });
    after(async () => h?.close());

    test('a password login records login_succeeded and session_started with user, email, client, IP, session and request id', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const id = requestId();
      const res = await postFrom(
        h,
        ip,
        '/oauth/token',
        { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, email: s.email, password: s.password },
        { 'x-request-id': id },
      );
      assert.equal(res.statusCode, 200, res.body);
      const sid = await sessionOf(h, s, res.json().access_token);
      const events = await eventsOfRequest(h, id);
      assert.deepEqual(events.map((e) => e.type).sort(), ['login_succeeded', 'session_started']);
      for (const e of events) {
        assert.deepEqual(
          { reason: e.reason, userId: e.userId, email: e.email, clientId: e.clientId, ip: e.ip, sessionId: e.sessionId, at: e.at },
          { reason: 'password', userId: s.userId, email: s.email, clientId: s.clientId, ip, sessionId: sid, at: clock.now() },
        );
      }
    });

    test('failed password logins record login_failed with the reason: bad_password, unknown_user, user_disabled, too_long', async () => {
      const s = await h.seed();
      const disabled = await h.seed();
      await h.services.accounts.setUserDisabled(disabled.email, true);
      const cases = [
        { reason: 'bad_password', email: s.email, password: 'wrong password 1', userId: s.userId, recorded: s.email },
        { reason: 'unknown_user', email: `ghost-${Date.now()}@example.com`, password: 'wrong password 2', userId: null, recorded: null },
        { reason: 'user_disabled', email: disabled.email, password: disabled.password, userId: disabled.userId, recorded: disabled.email },
        { reason: 'too_long', email: s.email, password: 'x'.repeat(2000), userId: null, recorded: null },
      ];
      for (const c of cases) {
        const id = requestId();
        const ip = freshIp();
        const res = await postFrom(
          h,
          ip,
          '/oauth/token',
          { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, email: c.email, password: c.password },
          { 'x-request-id': id },
        );
        assert.equal(res.json().error, 'invalid_grant');
        const events = await eventsOfRequest(h, id);
        assert.equal(events.length, 1, c.reason);
        assert.deepEqual(
          {
            type: events[0]!.type,
            reason: events[0]!.reason,
            userId: events[0]!.userId,
            email: events[0]!.email,
            clientId: events[0]!.clientId,
            ip: events[0]!.ip,
            sessionId: events[0]!.sessionId,
          },
          { type: 'login_failed', reason: c.reason, userId: c.userId, email: c.recorded, clientId: s.clientId, ip, sessionId: null },
        );
      }
    });

    test('a login beyond the session limit records login_failed with reason session_limit', async () => {
      const s = await h.seed({ maxSessions: 1 });
      assert.equal((await login(h, s, {}, freshIp())).statusCode, 200);
      const id = requestId();
      const res = await postFrom(
        h,
        freshIp(),
        '/oauth/token',
        { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, email: s.email, password: s.password },
        { 'x-request-id': id },
      );
      assert.equal(res.json().error, 'concurrent_session_limit');
      const [event] = await eventsOfRequest(h, id);
      assert.equal(event?.type, 'login_failed');
      assert.equal(event?.reason, 'session_limit');
      assert.equal(event?.userId, s.userId);
    });

    test('session_ended records why a session ended: logout, end_other_sessions, admin, user_disabled', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const first = (await login(h, s, {}, ip)).json().access_token as string;
      const firstSid = await sessionOf(h, s, first);

      // logout: RFC 7009 revocation
      const logoutId = requestId();
      const revoked = await postFrom(
        h,
        ip,
        '/oauth/revoke',
        { client_id: s.clientId, client_secret: s.clientSecret, token: first },
        { 'x-request-id': logoutId },
      );
      assert.equal(revoked.statusCode, 200);
      const [logout] = await eventsOfRequest(h, logoutId);
      assert.deepEqual(
        {
          type: logout?.type,
          reason: logout?.reason,
          sessionId: logout?.sessionId,
          userId: logout?.userId,
          email: logout?.email,
          clientId: logout?.clientId,
          ip: logout?.ip,
        },
        { type: 'session_ended', reason: 'logout', sessionId: firstSid, userId: s.userId, email: s.email, clientId: s.clientId, ip },
      );

      // end_other_sessions: the seed's endOtherSessions=true
      const second = (await login(h, s, {}, ip)).json().access_token as string;
      const secondSid = await sessionOf(h, s, second);
      const endId = requestId();
      const third = await postFrom(
        h,
        ip,
        '/oauth/token',
        {
          grant_type: 'client_credentials',
          client_id: s.clientId,
          client_secret: s.clientSecret,
          email: s.email,
          password: s.password,
          endOtherSessions: 'true',
        },
        { 'x-request-id': endId },
      );
      assert.equal(third.statusCode, 200);
      const ended = (await eventsOfRequest(h, endId)).filter((e) => e.type === 'session_ended');
      assert.deepEqual(
        ended.map((e) => [e.reason, e.sessionId, e.userId, e.ip]),
        [['end_other_sessions', secondSid, s.userId, ip]],
      );

      // admin: `sei-auth user end-session`
      const thirdSid = await sessionOf(h, s, third.json().access_token);
      await h.services.sessions.end(thirdSid);
      const byAdmin = (await allEvents(h)).filter((e) => e.type === 'session_ended' && e.sessionId === thirdSid);
      assert.deepEqual(
        byAdmin.map((e) => [e.reason, e.userId, e.clientId]),
        [['admin', s.userId, s.clientId]],
      );

      // user_disabled: `sei-auth user disable` ends every session
      const fourth = (await login(h, s, {}, ip)).json().access_token as string;
      const fourthSid = await sessionOf(h, s, fourth);
      await h.services.accounts.setUserDisabled(s.email, true);
      const byDisable = (await allEvents(h)).filter((e) => e.type === 'session_ended' && e.sessionId === fourthSid);
      assert.deepEqual(
        byDisable.map((e) => [e.reason, e.userId, e.email]),
        [['user_disabled', s.userId, s.email]],
      );
    });

    test('a reused refresh token records refresh_token_reused and session_ended with reason refresh_token_reuse', async () => {
      const s = await h.seed({ client: { refreshTokens: true } });
      const { verifier, challenge } = pkcePair();
      const pkceCode = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      const issued = (await exchangeCode(h, s, pkceCode, { code_verifier: verifier })).json();
      const sid = await sessionOf(h, s, issued.access_token);
      assert.equal((await refresh(h, s, issued.refresh_token)).statusCode, 200);
      const id = requestId();
      const reused = await h.post(
        '/oauth/token',
        { grant_type: 'refresh_token', client_id: s.clientId, client_secret: s.clientSecret, refresh_token: issued.refresh_token },
        { headers: { 'x-request-id': id } },
      );
      assert.equal(reused.json().error, 'invalid_grant');
      const events = await eventsOfRequest(h, id);
      // Contract §11: the browser session that signed the session in ends with it.
      const browserSessionId = (await h.store.sessions.find(sid))?.browserSessionId;
      assert.ok(browserSessionId);
      assert.deepEqual(
        events.map((e) => [e.type, e.reason, e.sessionId, e.userId, e.email, e.clientId, e.ip]).sort(),
        [
          ['refresh_token_reused', 'rotated_token_presented', sid, s.userId, s.email, s.clientId, '127.0.0.1'],
          ['session_ended', 'refresh_token_reuse', sid, s.userId, s.email, s.clientId, '127.0.0.1'],
          ['browser_session_ended', 'refresh_token_reuse', browserSessionId, s.userId, s.email, s.clientId, '127.0.0.1'],
        ].sort(),
      );
    });

    test('a reused authorization code records code_reused and session_ended with reason code_reuse', async () => {
      const s = await h.seed();
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      const issued = await exchangeCode(h, s, code, { code_verifier: verifier });
      assert.equal(issued.statusCode, 200);
      const sid = await sessionOf(h, s, issued.json().access_token);
      const id = requestId();
      const again = await h.post(
        '/oauth/token',
        { grant_type: 'authorization_code', client_id: s.clientId, client_secret: s.clientSecret, code },
        { headers: { 'x-request-id': id } },
      );
      assert.equal(again.json().error, 'invalid_grant');
      const events = await eventsOfRequest(h, id);
      // Contract §11: the session was signed in through a browser session, which ends with it.
      const browserSessionId = (await h.store.sessions.find(sid))?.browserSessionId;
      assert.ok(browserSessionId);
      assert.deepEqual(
        events.map((e) => [e.type, e.reason, e.sessionId, e.userId, e.clientId, e.ip]).sort(),
        [
          ['code_reused', 'used_code_presented', sid, s.userId, s.clientId, '127.0.0.1'],
          ['session_ended', 'code_reuse', sid, s.userId, s.clientId, '127.0.0.1'],
          ['browser_session_ended', 'code_reuse', browserSessionId, s.userId, s.clientId, '127.0.0.1'],
        ].sort(),
      );
    });

    test('SAML: an accepted assertion starts a session; rejected ones record saml_rejected with the precise reason', async () => {
      await new IdpService({ store: h.store, clock }).create({ entityId: testIdp().entityId, certPem: testIdp().certPem });
      const s = await h.seed({ email: 'alice@example.com' });
      const saml = (xml: string, id: string) =>
        h.post(
          '/oauth/token',
          { grant_type: SEED_SAML_GRANT, client_id: s.clientId, client_secret: s.clientSecret, SAMLResponse: b64(xml) },
          { headers: { 'x-request-id': id } },
        );

      const okId = requestId();
      const accepted = await saml(responseWithSignedAssertion({ now: clock.now() }), okId);
      assert.equal(accepted.statusCode, 200, accepted.body);
      const started = (await eventsOfRequest(h, okId)).find((e) => e.type === 'session_started');
      assert.equal(started?.reason, 'saml2-bearer');
      assert.equal(started?.userId, s.userId);

      const cases: Array<{ xml: string; reason: string; email: string | null }> = [
        {
          xml: responseWithSignedAssertion({ now: clock.now(), audience: 'https://elsewhere.example' }),
          reason: 'audience_mismatch',
          email: null,
        },
        { xml: responseWithSignedAssertion({ now: clock.now() - 10 * 60_000 }), reason: 'expired', email: null },
        { xml: responseWithSignedAssertion({ now: clock.now(), idp: testIdp('attacker') }), reason: 'unknown_issuer', email: null },
        {
          xml: responseWithSignedAssertion({ now: clock.now(), email: 'stranger@example.com' }),
          reason: 'unknown_user',
          email: 'stranger@example.com',
        },
      ];
      for (const c of cases) {
        const id = requestId();
        const res = await saml(c.xml, id);
        assert.equal(res.json().error, 'invalid_grant', c.reason);
        const events = await eventsOfRequest(h, id);
        assert.deepEqual(
          events.map((e) => [e.type, e.reason, e.clientId, e.ip, e.email]),
          [['saml_rejected', c.reason, s.clientId, '127.0.0.1', c.email]],
        );
      }
      // A replay of the accepted document: refused, and on record.
      const replayId = requestId();
      const xml = signedAssertion({ now: clock.now() });
      const form = { grant_type: SEED_SAML_GRANT, client_id: s.clientId, client_secret: s.clientSecret, SAMLAssertion: b64(xml) };
      assert.equal((await h.post('/oauth/token', form)).statusCode, 200);
      assert.equal((await h.post('/oauth/token', form, { headers: { 'x-request-id': replayId } })).json().error, 'invalid_grant');
      assert.deepEqual(
        (await eventsOfRequest(h, replayId)).map((e) => [e.type, e.reason, e.userId]),
        [['saml_rejected', 'replayed', s.userId]],
      );
    });

    test('rotating a client secret records client_secret_rotated', async () => {
      const s = await h.seed();
      await h.services.clients.rotateClientSecret(s.clientId);
      const events = (await allEvents(h)).filter((e) => e.type === 'client_secret_rotated' && e.clientId === s.clientId);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.at, clock.now());
    });

    test('a lock records account_locked (too_many_failures) and an operator unlock records account_unlocked (admin)', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) await login(h, s, { password: `wrong ${i}` }, ip);
      const locked = (await allEvents(h)).filter((e) => e.type === 'account_locked' && e.userId === s.userId);
      assert.deepEqual(
        locked.map((e) => [e.reason, e.email, e.clientId, e.ip]),
        [['too_many_failures', s.email, s.clientId, ip]],
      );
      const { LoginThrottle } = await import('../../src/throttle/login-throttle.ts');
      assert.equal(await new LoginThrottle({ store: h.store, clock }).unlockAccount(s.email), true);
      const unlocked = (await allEvents(h)).filter((e) => e.type === 'account_unlocked' && e.userId === s.userId);
      assert.deepEqual(
        unlocked.map((e) => [e.reason, e.email]),
        [['admin', s.email]],
      );
    });

    test("sei-auth events --user E --since T --json returns that user's events since T, and no others", async () => {
      const s = await h.seed();
      const other = await h.seed();
      assert.equal((await login(h, s, { password: 'an old wrong password' }, freshIp())).statusCode, 400);
      clock.advance(60_000);
      const since = clock.now();
      assert.equal((await login(h, s, {}, freshIp())).statusCode, 200);
      assert.equal((await login(h, other, {}, freshIp())).statusCode, 200);

      const result = await runBin(['events', '--user', s.email, '--since', new Date(since).toISOString(), '--json'], {
        env: { DATABASE_URL: h.databaseUrl },
      });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 1, 'one JSON object');
      const { events } = JSON.parse(lines[0]!) as { events: Array<Record<string, unknown>> };
      assert.deepEqual(events.map((e) => e.type).sort(), ['login_succeeded', 'session_started']);
      for (const e of events) {
        assert.equal(e.user_id, s.userId);
        assert.equal(e.email, s.email);
        assert.equal(e.client_id, s.clientId);
        assert.equal(e.at, new Date(since).toISOString());
        assert.ok(typeof e.ip === 'string' && typeof e.session_id === 'string' && typeof e.request_id === 'string');
      }
    });

    test('sei-auth events --limit N lists the newest N events, newest first', async () => {
      const s = await h.seed();
      // Six failed logins a minute apart: six login_failed events of this user, at known times.
      const times: number[] = [];
      for (let i = 0; i < 6; i++) {
        clock.advance(60_000);
        times.push(clock.now());
        assert.equal((await login(h, s, { password: `wrong password ${i}` }, freshIp())).statusCode, 400);
      }
      const all = await h.store.events.list({ userId: s.userId, limit: 10_000 });
      assert.ok(all.length >= 6, `${all.length} events`);
      const result = await runBin(['events', '--user', s.email, '--limit', '3', '--json'], { env: { DATABASE_URL: h.databaseUrl } });
      assert.equal(result.code, 0, result.stderr);
      const { events } = JSON.parse(result.stdout) as { events: Array<{ id: string; at: string }> };
      assert.deepEqual(
        events.map((e) => e.id),
        all
          .slice(-3)
          .map((e) => e.id)
          .reverse(),
        'the last three, newest first',
      );
      assert.equal(events[0]?.at, new Date(times.at(-1)!).toISOString());
      assert.ok(events.at(-1)!.at >= new Date(times[3]!).toISOString(), 'nothing older than the fourth login');
    });

    test('maintenance prunes security events older than EVENT_RETENTION_DAYS and keeps the newer ones', async () => {
      const s = await h.seed();
      const ip = freshIp();
      await login(h, s, { password: 'wrong, to be forgotten' }, ip);
      const old = (await allEvents(h)).filter((e) => e.ip === ip);
      assert.equal(old.length, 1);
      clock.advance(30 * DAY);
      await login(h, s, { password: 'wrong, to be kept' }, ip);
      clock.advance(60 * DAY + 1);
      const pruned = await runMaintenance(h.store, clock, { eventRetentionDays: 90, throttleWindowMs: 15 * 60_000 });
      assert.ok(pruned.events! >= 1);
      const left = (await allEvents(h)).filter((e) => e.ip === ip);
      assert.equal(left.length, 1, 'the event 60 days old is kept, the one 90 days old is gone');
      assert.notEqual(left[0]!.id, old[0]!.id);
      assert.ok(
        (await allEvents(h)).every((e) => e.at >= clock.now() - 90 * DAY),
        'nothing older than the retention is left',
      );
    });

    test('maintenance forgets login counters quiet for a whole window but keeps a running lock', async () => {
      const quiet = await h.seed();
      const lockedUser = await h.seed();
      const ip = freshIp();
      await login(h, quiet, { password: 'one wrong' }, ip);
      clock.advance(16 * 60_000);
      for (let i = 0; i < 5; i++) await login(h, lockedUser, { password: `wrong ${i}` }, freshIp());
      await runMaintenance(h.store, clock, { eventRetentionDays: 90, throttleWindowMs: 15 * 60_000 });
      // The running lock survived the pruning; the quiet counter is gone (four more failures do not lock).
      assert.equal((await login(h, lockedUser, {}, freshIp())).statusCode, 429);
      for (let i = 0; i < 4; i++) assert.equal((await login(h, quiet, { password: `again ${i}` }, freshIp())).statusCode, 400);
      assert.equal((await login(h, quiet, {}, freshIp())).statusCode, 200);
    });
  });
}
