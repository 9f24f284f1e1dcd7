/**
 * POST /oauth/token, every way a request can be refused: each error code with its HTTP status
 * (RFC 6749 §5.2), as JSON, with Cache-Control: no-store, never a 5xx, and never echoing what the
 * request sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createHarness, type Harness, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';
import { assertNoEcho, assertOAuthError, basicAuth } from './support.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

for (const kind of storeKinds()) {
  describe(`token endpoint errors [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    /** the seed's form, everything in the body */
    let login: Record<string, string>;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed({ password: 'a-secret-password-0451' });
      login = {
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email: s.email,
        password: s.password,
      };
    });
    after(() => h.close());

    const without = (name: string) => Object.fromEntries(Object.entries(login).filter(([k]) => k !== name));
    const secrets = () => [s.clientSecret, s.password, s.email];

    // ---- invalid_request: missing and empty parameters ----------------------------------------

    test('a missing grant_type is invalid_request', async () => {
      const res = await h.post('/oauth/token', without('grant_type'));
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /grant_type/);
      assertNoEcho(res, secrets());
    });

    test('an empty grant_type is treated as missing (RFC 6749 §3.1): invalid_request', async () => {
      const res = await h.post('/oauth/token', { ...login, grant_type: '' });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /grant_type/);
    });

    test('a missing email is invalid_request', async () => {
      const res = await h.post('/oauth/token', without('email'));
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, secrets());
    });

    test('a missing password is invalid_request', async () => {
      const res = await h.post('/oauth/token', without('password'));
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, secrets());
    });

    test('an empty password is treated as missing: invalid_request, not invalid_grant', async () => {
      const res = await h.post('/oauth/token', { ...login, password: '' });
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('an empty email is treated as missing: invalid_request', async () => {
      const res = await h.post('/oauth/token', { ...login, email: '' });
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('grant_type=password without username (email given instead) is invalid_request', async () => {
      const res = await h.post('/oauth/token', { ...login, grant_type: 'password' });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /username/);
    });

    test('an empty request (no body, no query) is invalid_request', async () => {
      const res = await h.app.inject({ method: 'POST', url: '/oauth/token' });
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('an empty parameter beside a filled one is not a repeat (empty = omitted)', async () => {
      const res = await h.post('/oauth/token', `${new URLSearchParams(login).toString()}&email=&endOtherSessions=`);
      assert.equal(res.statusCode, 200, res.body);
      const split = await h.post(
        '/oauth/token',
        { ...login, client_secret: '' },
        { query: new URLSearchParams({ client_secret: s.clientSecret }).toString() },
      );
      assert.equal(split.statusCode, 200, split.body);
    });

    // ---- invalid_request: repeated parameters -------------------------------------------------

    test('a parameter repeated in the query string with the same value is invalid_request', async () => {
      const q = new URLSearchParams(login);
      q.append('grant_type', 'client_credentials');
      const res = await h.post('/oauth/token', {}, { query: q.toString() });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /grant_type/);
      assertNoEcho(res, secrets());
    });

    test('a parameter repeated in the body with the same value is invalid_request', async () => {
      const form = new URLSearchParams(login);
      form.append('email', s.email);
      const res = await h.post('/oauth/token', form.toString());
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /email/);
      assertNoEcho(res, secrets());
    });

    test('a parameter repeated with another value is invalid_request', async () => {
      const form = new URLSearchParams(login);
      form.append('password', 'another-password-99');
      const res = await h.post('/oauth/token', form.toString());
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, [...secrets(), 'another-password-99']);
    });

    test('a parameter given in both the query string and the body, same value, is invalid_request', async () => {
      const res = await h.post('/oauth/token', login, { query: new URLSearchParams({ client_secret: s.clientSecret }).toString() });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /client_secret/);
      assertNoEcho(res, secrets());
    });

    test('a repeated parameter is refused even when the login would otherwise succeed (no session starts)', async () => {
      const form = new URLSearchParams(login);
      form.append('grant_type', 'client_credentials');
      const before = (await h.store.sessions.listActive(s.userId, h.clock.now())).length;
      assertOAuthError(await h.post('/oauth/token', form.toString()), 400, 'invalid_request');
      assert.equal((await h.store.sessions.listActive(s.userId, h.clock.now())).length, before);
    });

    test('a repeated unknown parameter name is refused without quoting the name', async () => {
      // A client that garbles its encoding can send a secret as a parameter name.
      const stray = 'sat_ThisLooksLikeALeakedAccessTokenValue0123456789';
      const res = await h.post('/oauth/token', `${new URLSearchParams(login).toString()}&${stray}=1&${stray}=1`);
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, [stray, ...secrets()]);
    });

    // ---- invalid_request: malformed encoding and bodies ---------------------------------------

    test('bad percent-encoding in the body is invalid_request', async () => {
      const res = await h.post('/oauth/token', `${new URLSearchParams(without('password')).toString()}&password=abc%ZZdef`);
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, ['abc%ZZdef', ...secrets()]);
    });

    test('bad percent-encoding in the query string is invalid_request', async () => {
      const res = await h.post('/oauth/token', without('email'), { query: 'email=broken%E0%A4%A' });
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('percent-encoding of invalid UTF-8 is invalid_request', async () => {
      const res = await h.post('/oauth/token', `${new URLSearchParams(without('password')).toString()}&password=%FF%FE`);
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('a NUL character in a parameter is invalid_request (percent-encoded or raw)', async () => {
      for (const payload of [
        `${new URLSearchParams(without('email')).toString()}&email=a%00b@example.com`,
        `${new URLSearchParams(without('email')).toString()}&email=a\u0000b@example.com`,
        `${new URLSearchParams(without('client_id')).toString()}&client_id=cl_%00`,
      ]) {
        assertOAuthError(await h.post('/oauth/token', payload), 400, 'invalid_request');
      }
    });

    test('a NUL character in HTTP Basic credentials is 401 invalid_client', async () => {
      const { client_id: _id, client_secret: _secret, ...rest } = login;
      for (const id of ['cl_%00x', 'cl_\u0000x']) {
        const authorization = `Basic ${Buffer.from(`${id}:${s.clientSecret}`).toString('base64')}`;
        assertOAuthError(await h.post('/oauth/token', rest, { headers: { authorization } }), 401, 'invalid_client');
      }
    });

    test('a JSON body is 400 invalid_request naming the form encoding, as node-oidc-provider and fosite answer', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(login),
      });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.equal(body.error_description, 'JSON bodies are not accepted; send application/x-www-form-urlencoded.');
      assertNoEcho(res, secrets());
    });

    test('a text/plain body is refused with 415', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'text/plain' },
        payload: new URLSearchParams(login).toString(),
      });
      assertOAuthError(res, 415, 'invalid_request');
    });

    test('a multipart body is refused with 415', async () => {
      const payload = '--xx\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--xx--\r\n';
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'multipart/form-data; boundary=xx' },
        payload,
      });
      assertOAuthError(res, 415, 'invalid_request');
    });

    test('a form body with a charset parameter is accepted', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
        payload: new URLSearchParams(login).toString(),
      });
      assert.equal(res.statusCode, 200, res.body);
    });

    test('a body over 256 KiB is refused with 413', async () => {
      const payload = `${new URLSearchParams(login).toString()}&pad=${'a'.repeat(256 * 1024)}`;
      const res = await h.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload });
      assertOAuthError(res, 413, 'invalid_request');
    });

    test('a body just under 256 KiB is read (an unknown parameter is ignored)', async () => {
      const base = `${new URLSearchParams(login).toString()}&pad=`;
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: FORM,
        payload: base + 'a'.repeat(256 * 1024 - base.length),
      });
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
    });

    // ---- invalid_request: endOtherSessions ----------------------------------------------------

    test('endOtherSessions=maybe is invalid_request', async () => {
      const res = await passwordLogin(h, s, { endOtherSessions: 'maybe' });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /endOtherSessions/);
      assert.equal(body.error_description.includes('maybe'), false);
    });

    test('endOtherSessions=TRUE (not the literal true) is invalid_request', async () => {
      assertOAuthError(await passwordLogin(h, s, { endOtherSessions: 'TRUE' }), 400, 'invalid_request');
      assertOAuthError(await passwordLogin(h, s, { endOtherSessions: '1' }), 400, 'invalid_request');
    });

    // ---- 405 and 404 --------------------------------------------------------------------------

    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'] as const) {
      test(`${method} /oauth/token is 405 with Allow: POST`, async () => {
        const res = await h.app.inject({ method, url: `/oauth/token?${new URLSearchParams(login).toString()}` });
        assertOAuthError(res, 405, 'invalid_request');
        assert.equal(res.headers.allow, 'POST');
        assertNoEcho(res, secrets());
      });
    }

    test('GET on the introspection and revocation endpoints is 405 with Allow: POST', async () => {
      for (const url of ['/oauth/introspect', '/oauth/revoke']) {
        const res = await h.app.inject({ method: 'GET', url });
        assertOAuthError(res, 405, 'invalid_request');
        assert.equal(res.headers.allow, 'POST');
      }
    });

    test('an unknown path is 404 not_found with Cache-Control: no-store', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/no/such/thing?password=hunter2hunter2' });
      assertOAuthError(res, 404, 'not_found');
      assertNoEcho(res, ['hunter2hunter2', '/no/such/thing']);
    });

    // ---- unsupported_grant_type ---------------------------------------------------------------

    test('an unknown grant_type is unsupported_grant_type', async () => {
      const res = await h.post('/oauth/token', { ...login, grant_type: 'urn:example:made-up-grant' });
      assertOAuthError(res, 400, 'unsupported_grant_type');
      assertNoEcho(res, ['urn:example:made-up-grant', ...secrets()]);
    });

    test('the implicit grant name is unsupported_grant_type', async () => {
      assertOAuthError(await h.post('/oauth/token', { ...login, grant_type: 'implicit' }), 400, 'unsupported_grant_type');
    });

    test('grant_type matching is case-sensitive', async () => {
      assertOAuthError(await h.post('/oauth/token', { ...login, grant_type: 'Client_Credentials' }), 400, 'unsupported_grant_type');
    });

    // ---- invalid_client -----------------------------------------------------------------------

    test('a wrong client_secret parameter is invalid_client with 400', async () => {
      const res = await h.post('/oauth/token', { ...login, client_secret: 'scs_wrongwrongwrongwrong' });
      assertOAuthError(res, 400, 'invalid_client');
      assert.equal(res.headers['www-authenticate'], undefined);
      assertNoEcho(res, ['scs_wrongwrongwrongwrong', ...secrets()]);
    });

    test('an unknown client_id is invalid_client with the same body as a wrong secret', async () => {
      const unknown = await h.post('/oauth/token', { ...login, client_id: 'cl_doesnotexist000000' });
      const wrong = await h.post('/oauth/token', { ...login, client_secret: 'scs_wrongwrongwrongwrong' });
      assertOAuthError(unknown, 400, 'invalid_client');
      assert.equal(unknown.body, wrong.body);
      assertNoEcho(unknown, ['cl_doesnotexist000000']);
    });

    test('a missing client_secret (and no Basic) is invalid_client', async () => {
      assertOAuthError(await h.post('/oauth/token', without('client_secret')), 400, 'invalid_client');
    });

    test('an empty client_secret is treated as missing: invalid_client', async () => {
      assertOAuthError(await h.post('/oauth/token', { ...login, client_secret: '' }), 400, 'invalid_client');
    });

    test('no client authentication at all is invalid_client', async () => {
      const { client_id: _id, client_secret: _secret, ...rest } = login;
      assertOAuthError(await h.post('/oauth/token', rest), 400, 'invalid_client');
    });

    test('a failed HTTP Basic authentication is 401 invalid_client with WWW-Authenticate', async () => {
      const { client_id: _id, client_secret: _secret, ...rest } = login;
      const res = await h.post('/oauth/token', rest, { headers: { authorization: basicAuth(s.clientId, 'scs_wrongwrongwrongwrong') } });
      assertOAuthError(res, 401, 'invalid_client');
      assert.match(String(res.headers['www-authenticate']), /^Basic realm=/);
    });

    test('HTTP Basic naming an unknown client is 401 invalid_client with WWW-Authenticate', async () => {
      const { client_id: _id, client_secret: _secret, ...rest } = login;
      const res = await h.post('/oauth/token', rest, { headers: { authorization: basicAuth('cl_unknown', s.clientSecret) } });
      assertOAuthError(res, 401, 'invalid_client');
      assert.match(String(res.headers['www-authenticate']), /^Basic /);
    });

    test('malformed HTTP Basic credentials are 401 invalid_client with WWW-Authenticate', async () => {
      const { client_id: _id, client_secret: _secret, ...rest } = login;
      for (const authorization of [
        'Basic !!!not-base64!!!',
        `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
        `Basic ${Buffer.from(`${s.clientId}:%ZZ`).toString('base64')}`,
      ]) {
        const res = await h.post('/oauth/token', rest, { headers: { authorization } });
        assertOAuthError(res, 401, 'invalid_client');
        assert.match(String(res.headers['www-authenticate']), /^Basic /);
      }
    });

    test('HTTP Basic without form-encoding of special characters still authenticates only the right secret', async () => {
      // A secret with a raw '%' that is not valid form encoding must not be accepted by accident.
      const { client_id: _id, client_secret: _secret, ...rest } = login;
      const res = await h.post('/oauth/token', rest, { headers: { authorization: basicAuth(s.clientId, `${s.clientSecret}%`, (x) => x) } });
      assertOAuthError(res, 401, 'invalid_client');
    });

    test('HTTP Basic AND client_secret in the request is invalid_request', async () => {
      const res = await h.post('/oauth/token', login, { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } });
      const body = assertOAuthError(res, 400, 'invalid_request');
      assert.match(body.error_description, /one client authentication method/i);
      assertNoEcho(res, secrets());
    });

    test('HTTP Basic with a different client_id parameter is invalid_request', async () => {
      const other = await h.seed();
      const res = await h.post('/oauth/token', without('client_secret'), {
        headers: { authorization: basicAuth(other.clientId, other.clientSecret) },
      });
      assertOAuthError(res, 400, 'invalid_request');
    });

    test('a disabled client is invalid_client', async () => {
      const other = await h.seed();
      await h.store.clients.update(other.clientId, { disabled: true });
      const res = await passwordLogin(h, other);
      assertOAuthError(res, 400, 'invalid_client');
      const viaBasic = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', email: other.email, password: other.password },
        { headers: { authorization: basicAuth(other.clientId, other.clientSecret) } },
      );
      assertOAuthError(viaBasic, 401, 'invalid_client');
    });

    test('a client that opted out of query secrets refuses client_secret in the query string', async () => {
      const other = await h.seed({ client: { querySecrets: false } });
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials', client_id: other.clientId, email: other.email, password: other.password },
        { query: new URLSearchParams({ client_secret: other.clientSecret }).toString() },
      );
      assertOAuthError(res, 400, 'invalid_request');
      assertNoEcho(res, [other.clientSecret]);
    });

    // ---- invalid_grant ------------------------------------------------------------------------

    test('a wrong password is invalid_grant', async () => {
      const res = await passwordLogin(h, s, { password: 'nope-nope-nope' });
      assert.deepEqual(assertOAuthError(res, 400, 'invalid_grant'), {
        error: 'invalid_grant',
        error_description: 'The email or password is incorrect.',
      });
      assertNoEcho(res, ['nope-nope-nope', ...secrets()]);
    });

    test('an unknown email gives the identical body to a wrong password', async () => {
      const fresh = await h.seed();
      const unknown = await passwordLogin(h, fresh, { email: 'nobody-at-all@example.com' });
      const wrong = await passwordLogin(h, fresh, { password: 'nope-nope-nope' });
      assertOAuthError(unknown, 400, 'invalid_grant');
      assert.equal(unknown.body, wrong.body);
      assert.equal(unknown.statusCode, wrong.statusCode);
      assertNoEcho(unknown, ['nobody-at-all@example.com']);
    });

    test('a disabled user gets invalid_grant with the identical body', async () => {
      const other = await h.seed();
      await h.services.accounts.setUserDisabled(other.email, true);
      const disabled = await passwordLogin(h, other);
      const wrong = await passwordLogin(h, await h.seed(), { password: 'nope-nope-nope' });
      assertOAuthError(disabled, 400, 'invalid_grant');
      assert.equal(disabled.body, wrong.body);
      assert.equal((await h.store.sessions.listActive(other.userId, h.clock.now())).length, 0);
    });

    test('a re-enabled user can log in again', async () => {
      const other = await h.seed();
      await h.services.accounts.setUserDisabled(other.email, true);
      await h.services.accounts.setUserDisabled(other.email, false);
      assert.equal((await passwordLogin(h, other)).statusCode, 200);
    });

    test('a user without a password (SSO only) gets invalid_grant', async () => {
      const user = await h.services.accounts.createUser({ email: `sso-only-${Date.now()}@example.com` });
      const res = await passwordLogin(h, { ...s, email: user.email, password: 'anything-at-all' });
      assertOAuthError(res, 400, 'invalid_grant');
    });

    test('failed logins are recorded as login_failed events with a reason', async () => {
      const fresh = await h.seed();
      await passwordLogin(h, fresh, { password: 'nope-nope-nope' });
      const events = await h.store.events.list({ userId: fresh.userId });
      assert.ok(events.some((e) => e.type === 'login_failed' && e.reason === 'bad_password'));
    });

    test('an over-long password is refused with a 400 without hashing it', async () => {
      const started = performance.now();
      const res = await passwordLogin(h, await h.seed(), { password: 'x'.repeat(5000) });
      assert.ok(['invalid_request', 'invalid_grant'].includes(res.json().error), res.body);
      assert.equal(res.statusCode, 400);
      assertNoEcho(res, ['x'.repeat(5000)]);
      assert.ok(performance.now() - started < 5000);
    });

    // ---- no-store and no 5xx ------------------------------------------------------------------

    test('Cache-Control: no-store is on every response, success and error alike', async () => {
      const responses = [
        await passwordLogin(h, s),
        await passwordLogin(h, s, { password: 'nope-nope-nope' }),
        await h.post('/oauth/token', {}),
        await h.app.inject({ method: 'GET', url: '/oauth/token' }),
        await h.app.inject({ method: 'GET', url: '/nowhere' }),
        await h.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' }),
        await h.app.inject({ method: 'GET', url: '/healthz' }),
        await h.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: '{}' }),
        await h.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: 'a'.repeat(300 * 1024) }),
        await h.post('/oauth/introspect', {}),
        await h.post('/oauth/revoke', {}),
      ];
      for (const res of responses) assert.equal(res.headers['cache-control'], 'no-store', `${res.statusCode} ${res.body.slice(0, 100)}`);
    });

    test('malformed requests of every kind get a 4xx, never a 5xx', async () => {
      const cases: InjectOptions[] = [
        { method: 'POST', url: '/oauth/token', headers: FORM, payload: '&&&===&&&' },
        { method: 'POST', url: '/oauth/token', headers: FORM, payload: '%' },
        { method: 'POST', url: '/oauth/token', headers: FORM, payload: '=%' },
        { method: 'POST', url: '/oauth/token', headers: FORM, payload: 'grant_type=client_credentials&email=%00&password=%00' },
        { method: 'POST', url: '/oauth/token?%', headers: FORM, payload: '' },
        { method: 'POST', url: '/oauth/token?a=1&a', headers: FORM, payload: '' },
        { method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: '{not json' },
        { method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: '' },
        { method: 'POST', url: '/oauth/token', headers: { 'content-type': 'garbage' }, payload: 'x=1' },
        { method: 'POST', url: '/oauth/token', headers: { 'content-type': '' }, payload: 'x=1' },
        { method: 'POST', url: '/oauth/token', payload: 'grant_type=client_credentials' },
        { method: 'POST', url: '/oauth/token', headers: { ...FORM, authorization: 'Basic' }, payload: 'grant_type=client_credentials' },
        { method: 'POST', url: '/oauth/token', headers: { ...FORM, authorization: 'Basic ' }, payload: 'grant_type=client_credentials' },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: { ...FORM, authorization: 'Bearer abc' },
          payload: 'grant_type=client_credentials',
        },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: { ...FORM, authorization: `Basic ${Buffer.from(':').toString('base64')}` },
          payload: 'grant_type=client_credentials',
        },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: FORM,
          payload: new URLSearchParams({ ...login, client_id: 'x'.repeat(10_000) }).toString(),
        },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: FORM,
          payload: new URLSearchParams({ ...login, email: `${'x'.repeat(5000)}@example.com` }).toString(),
        },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: FORM,
          payload: new URLSearchParams({ ...login, email: '\u0000\uffff\ud800' }).toString(),
        },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: FORM,
          payload: new URLSearchParams({ ...login, grant_type: 'refresh_token', refresh_token: 'srt_nope' }).toString(),
        },
        {
          method: 'POST',
          url: '/oauth/token',
          headers: FORM,
          payload: new URLSearchParams({ ...login, grant_type: 'x'.repeat(5000) }).toString(),
        },
        { method: 'OPTIONS', url: '/oauth/token' },
        { method: 'HEAD', url: '/oauth/token' },
        { method: 'POST', url: '/oauth/introspect', headers: FORM, payload: 'token=%' },
        { method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/json' }, payload: '{}' },
      ];
      for (const request of cases) {
        const res = await h.app.inject(request);
        const label = `${String(request.method)} ${String(request.url)} ${String(request.payload ?? '').slice(0, 60)}`;
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${label} → ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.equal(res.headers['cache-control'], 'no-store', label);
        if (request.method !== 'HEAD') {
          const body = res.json() as { error?: unknown };
          assert.equal(typeof body.error, 'string', label);
        }
      }
    });

    test('a malformed percent-encoded path is an OAuth error with no-store that does not echo the path', async () => {
      // Fastify answers a bad URL itself unless buildApp passes frameworkErrors to renderError.
      for (const url of ['/oauth/%ZZ', '/%', '/oauth/token%ZZ-secret-looking-path']) {
        const res = await h.app.inject({ method: 'GET', url });
        assertOAuthError(res, 400, 'invalid_request');
        assertNoEcho(res, ['secret-looking-path', '%ZZ']);
      }
    });

    test('random form bodies never produce a 5xx', async () => {
      const fc = await import('fast-check');
      const names = ['grant_type', 'client_id', 'client_secret', 'email', 'username', 'password', 'endOtherSessions', 'token', 'x'];
      const pair = fc.tuple(
        fc.constantFrom(...names),
        fc.oneof(fc.string(), fc.constantFrom('client_credentials', 'password', 'true', '%', '%E0', s.clientId)),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(pair, { maxLength: 6 }), fc.boolean(), async (pairs, inQuery) => {
          const text = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%25/g, v.startsWith('%') ? '%' : '%25')}`).join('&');
          const res = await h.app.inject({
            method: 'POST',
            url: inQuery ? `/oauth/token?${text}` : '/oauth/token',
            headers: FORM,
            payload: inQuery ? '' : text,
          });
          return res.statusCode >= 400 && res.statusCode < 500 && res.headers['cache-control'] === 'no-store';
        }),
        { numRuns: 100, seed: 20260101 },
      );
    });
  });
}
