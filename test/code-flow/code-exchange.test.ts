import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, ManualClock, passwordLogin, type SeedOptions, storeKinds } from '../support/harness.ts';
import { CALLBACK, exchangeCode, isActive, obtainCode, pkcePair } from './flow.ts';

const INVALID_CODE = { error: 'invalid_grant', error_description: 'The authorization code is invalid, expired or already used.' };

for (const kind of storeKinds()) {
  describe(`grant_type=authorization_code [${kind}]`, () => {
    let h: Harness;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock();
      h = await createHarness({ kind, clock });
    });
    after(() => h.close());
    // Most tests here are about the code, its bindings and its session, not PKCE, and obtain codes
    // without a challenge: their client opts out of PKCE (the PKCE tests use the default client).
    const seedNoPkce = (options: SeedOptions = {}) => h.seed({ ...options, client: { allowNoPkce: true, ...options.client } });

    test('exchanges a code for the seed payload, with the redirect URI the authorize request used', async () => {
      const s = await seedNoPkce({ client: { redirectUrls: ['https://app.example/first', CALLBACK] } });
      const code = await obtainCode(h, s, { redirect_uri: CALLBACK });
      const res = await exchangeCode(h, s, code, { redirect_uri: CALLBACK });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'email', 'expires_in', 'redirect_url', 'token_type']);
      assert.equal(body.redirect_url, CALLBACK, 'the code redirect URI, not the first registered');
      assert.equal(body.email, s.email);
      assert.equal(body.token_type, 'BearerToken');
      assert.ok(await isActive(h, s, body.access_token));
      const session = (await h.store.sessions.listActive(s.userId, clock.now()))[0]!;
      assert.equal(session.grantType, 'authorization_code');
    });

    test('a client with refresh tokens also gets refresh_token and refresh_token_expires_in', async () => {
      const s = await seedNoPkce({ client: { refreshTokens: true } });
      const res = await exchangeCode(h, s, await obtainCode(h, s));
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.match(body.refresh_token, /^srt_/);
      assert.equal(body.refresh_token_expires_in, 2_592_000);
      assert.equal(body.redirect_url, CALLBACK);
    });

    test('rejects a reused authorization code and ends the session issued from it (RFC 6749 §4.1.2)', async () => {
      const s = await seedNoPkce({ client: { refreshTokens: true } });
      const code = await obtainCode(h, s);
      const first = await exchangeCode(h, s, code);
      assert.equal(first.statusCode, 200);
      const { access_token, refresh_token } = first.json();
      assert.ok(await isActive(h, s, access_token));

      const second = await exchangeCode(h, s, code);
      assert.equal(second.statusCode, 400);
      assert.deepEqual(second.json(), INVALID_CODE);
      assert.equal(await isActive(h, s, access_token), false, 'the access token from the code is revoked');
      assert.equal(await isActive(h, s, refresh_token), false, 'the refresh token from the code is revoked');
      const refreshed = await h.post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        refresh_token,
      });
      assert.equal(refreshed.statusCode, 400);
      const events = await h.store.events.list({ userId: s.userId });
      const reused = events.find((e) => e.type === 'code_reused');
      assert.ok(reused?.sessionId, 'a code_reused event naming the session');
      assert.ok(events.some((e) => e.type === 'session_ended' && e.reason === 'code_reuse' && e.sessionId === reused.sessionId));
      assert.equal((await h.store.sessions.find(reused.sessionId))?.endReason, 'code_reuse');
    });

    test('two simultaneous exchanges of one code: one wins, the other is refused and ends its session', async () => {
      const s = await seedNoPkce();
      const code = await obtainCode(h, s);
      const results = await Promise.all([exchangeCode(h, s, code), exchangeCode(h, s, code)]);
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
      const winner = results.find((r) => r.statusCode === 200)!.json();
      assert.equal(await isActive(h, s, winner.access_token), false);
      assert.equal((await h.store.sessions.listActive(s.userId, clock.now())).length, 0);
    });

    test('an unknown code is invalid_grant', async () => {
      const s = await h.seed();
      const res = await exchangeCode(h, s, 'sac_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.deepEqual(res.json(), INVALID_CODE);
    });

    test('a missing code is invalid_request', async () => {
      const s = await h.seed();
      const res = await h.post('/oauth/token', { grant_type: 'authorization_code', client_id: s.clientId, client_secret: s.clientSecret });
      assert.equal(res.json().error, 'invalid_request');
    });

    test('a code issued to another client is invalid_grant, and stays usable by its own client', async () => {
      const s = await seedNoPkce();
      const other = await seedNoPkce();
      const code = await obtainCode(h, s);
      const res = await exchangeCode(h, other, code);
      assert.deepEqual(res.json(), INVALID_CODE);
      assert.equal((await exchangeCode(h, s, code)).statusCode, 200);
    });

    test('expires after 60 seconds (invalid_grant), with an injected clock', async () => {
      const s = await seedNoPkce();
      const fresh = await obtainCode(h, s);
      const stale = await obtainCode(h, s);
      clock.advance(59_999);
      assert.equal((await exchangeCode(h, s, fresh)).statusCode, 200, 'still valid just before 60 s');
      clock.advance(1);
      const res = await exchangeCode(h, s, stale);
      assert.deepEqual(res.json(), INVALID_CODE);
    });

    test('redirect_uri is required at the exchange when the authorize request had it (RFC 6749 §4.1.3)', async () => {
      const s = await seedNoPkce();
      const code = await obtainCode(h, s, { redirect_uri: CALLBACK });
      const res = await exchangeCode(h, s, code);
      assert.equal(res.json().error, 'invalid_grant');
      assert.match(res.json().error_description, /redirect_uri is required/);
      assert.equal(
        (await exchangeCode(h, s, code, { redirect_uri: CALLBACK })).statusCode,
        200,
        'the failed attempt did not spend the code',
      );
    });

    test('a different redirect_uri at the exchange is invalid_grant', async () => {
      const s = await seedNoPkce({ client: { redirectUrls: [CALLBACK, 'https://app.example/other'] } });
      const code = await obtainCode(h, s, { redirect_uri: CALLBACK });
      const res = await exchangeCode(h, s, code, { redirect_uri: 'https://app.example/other' });
      assert.equal(res.json().error, 'invalid_grant');
      assert.match(res.json().error_description, /does not match/);
    });

    test('redirect_uri may be left out at the exchange when the authorize request left it out, and must match if sent', async () => {
      const s = await seedNoPkce();
      assert.equal((await exchangeCode(h, s, await obtainCode(h, s))).statusCode, 200);
      assert.equal((await exchangeCode(h, s, await obtainCode(h, s), { redirect_uri: CALLBACK })).statusCode, 200);
      const res = await exchangeCode(h, s, await obtainCode(h, s), { redirect_uri: 'https://app.example/elsewhere' });
      assert.equal(res.json().error, 'invalid_grant');
    });

    test('PKCE: the right verifier is accepted', async () => {
      const s = await h.seed();
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal((await exchangeCode(h, s, code, { code_verifier: verifier })).statusCode, 200);
    });

    test('PKCE: a wrong verifier is invalid_grant (RFC 7636 §4.6)', async () => {
      const s = await h.seed();
      const { challenge } = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      const res = await exchangeCode(h, s, code, { code_verifier: pkcePair().verifier });
      assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: 'PKCE verification failed.' });
    });

    test('PKCE: a missing verifier for a code with a challenge is invalid_grant', async () => {
      const s = await h.seed();
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      assert.deepEqual((await exchangeCode(h, s, code)).json(), { error: 'invalid_grant', error_description: 'PKCE verification failed.' });
      assert.equal(
        (await exchangeCode(h, s, code, { code_verifier: verifier })).statusCode,
        200,
        'the failed attempt did not spend the code',
      );
    });

    test('PKCE: a malformed verifier (bad characters, too short) is invalid_grant', async () => {
      const s = await h.seed();
      const { verifier, challenge } = pkcePair();
      const code = await obtainCode(h, s, { code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal((await exchangeCode(h, s, code, { code_verifier: `${verifier.slice(0, 42)}!` })).json().error, 'invalid_grant');
      assert.equal((await exchangeCode(h, s, code, { code_verifier: 'abc' })).json().error, 'invalid_grant');
    });

    test('PKCE downgrade: a code_verifier sent for a code issued without a challenge is refused (RFC 9700 §4.8.2)', async () => {
      const s = await seedNoPkce();
      const code = await obtainCode(h, s);
      const res = await exchangeCode(h, s, code, { code_verifier: pkcePair().verifier });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_grant');
      assert.match(res.json().error_description, /no code_challenge/);
    });

    test('the session limit applies at the exchange; the refused code stays usable with endOtherSessions=true', async () => {
      const s = await seedNoPkce({ maxSessions: 1 });
      const earlier = await passwordLogin(h, s);
      assert.equal(earlier.statusCode, 200);
      const code = await obtainCode(h, s);
      const limited = await exchangeCode(h, s, code);
      assert.equal(limited.statusCode, 400);
      assert.equal(limited.json().error, 'concurrent_session_limit');
      assert.ok(await isActive(h, s, earlier.json().access_token), 'nothing ended');

      const retried = await exchangeCode(h, s, code, { endOtherSessions: 'true' });
      assert.equal(retried.statusCode, 200, retried.body);
      assert.equal(await isActive(h, s, earlier.json().access_token), false, 'the other session ended');
      assert.ok(await isActive(h, s, retried.json().access_token));
      const sessions = await h.store.sessions.listActive(s.userId, clock.now());
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]!.grantType, 'authorization_code');
    });

    test("endOtherSessions=true at the exchange ends the user's other sessions even without a limit", async () => {
      const s = await seedNoPkce();
      const earlier = await passwordLogin(h, s);
      const res = await exchangeCode(h, s, await obtainCode(h, s), { endOtherSessions: 'true' });
      assert.equal(res.statusCode, 200);
      assert.equal(await isActive(h, s, earlier.json().access_token), false);
    });

    test('a user disabled between login and exchange gets invalid_grant', async () => {
      const s = await seedNoPkce();
      const code = await obtainCode(h, s);
      await h.services.accounts.setUserDisabled(s.email, true);
      assert.deepEqual((await exchangeCode(h, s, code)).json(), INVALID_CODE);
    });
  });
}
