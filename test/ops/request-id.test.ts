/**
 * Request IDs (issue #7): X-Request-Id is accepted (or one is made), returned, and put on every
 * log line and every security event of that request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, passwordLogin, type Seeded, storeKinds } from '../support/harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function login(h: Harness, s: Seeded, headers: Record<string, string>) {
  const form = {
    grant_type: 'client_credentials',
    client_id: s.clientId,
    client_secret: s.clientSecret,
    email: s.email,
    password: s.password,
  };
  return h.post('/oauth/token', form, { headers });
}

/** The log lines written while `fn` ran (requests are injected one at a time). */
async function logsOf<T>(h: Harness, fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const start = h.logs.length;
  const result = await fn();
  return { result, lines: h.logs.slice(start).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

for (const kind of storeKinds()) {
  describe(`request ids (${kind})`, () => {
    let h: Harness;
    let s: Seeded;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed();
    });
    after(() => h.close());

    test('a given X-Request-Id is returned and is on every log line and security event of the request', async () => {
      const id = `ops-login-${Date.now()}`;
      const tagged = await logsOf(h, () => login(h, s, { 'x-request-id': id }));
      assert.equal(tagged.result.statusCode, 200);
      assert.equal(tagged.result.headers['x-request-id'], id);
      assert.ok(tagged.lines.length > 0, 'the request was logged');
      for (const line of tagged.lines) assert.equal(line.reqId, id, `log line without the request id: ${JSON.stringify(line)}`);

      const events = (await h.store.events.list({})).filter((e) => e.requestId === id);
      assert.deepEqual(events.map((e) => e.type).sort(), ['login_succeeded', 'session_started']);
    });

    test('a failed login and a logout carry the request id into their events', async () => {
      const failedId = `ops-failed-${Date.now()}`;
      const failed = await logsOf(h, () => login(h, { ...s, password: 'not the password' }, { 'x-request-id': failedId }));
      assert.equal(failed.result.statusCode, 400);
      assert.equal(failed.result.headers['x-request-id'], failedId);
      for (const line of failed.lines) assert.equal(line.reqId, failedId);

      const session = await passwordLogin(h, s);
      const logoutId = `ops-logout-${Date.now()}`;
      const logout = await h.post(
        '/oauth/revoke',
        { client_id: s.clientId, client_secret: s.clientSecret, token: session.json().access_token },
        { headers: { 'x-request-id': logoutId } },
      );
      assert.equal(logout.statusCode, 200);

      const events = await h.store.events.list({});
      assert.deepEqual(
        events.filter((e) => e.requestId === failedId).map((e) => e.type),
        ['login_failed'],
      );
      assert.deepEqual(
        events.filter((e) => e.requestId === logoutId).map((e) => [e.type, e.reason]),
        [['session_ended', 'logout']],
      );
    });

    test('without X-Request-Id, or with a malformed one, the server makes one and uses it throughout', async () => {
      for (const headers of [
        {} as Record<string, string>,
        { 'x-request-id': 'has spaces and "quotes"' },
        { 'x-request-id': 'x'.repeat(129) },
      ]) {
        const { result: res, lines } = await logsOf(h, () => login(h, s, headers));
        assert.equal(res.statusCode, 200);
        const made = String(res.headers['x-request-id']);
        assert.match(made, UUID);
        assert.ok(lines.length > 0);
        for (const line of lines) assert.equal(line.reqId, made);
        assert.equal((await h.store.events.list({})).filter((e) => e.requestId === made).length, 2);
      }
    });

    test('error responses return the request id too', async () => {
      const id = 'ops-error-1';
      const res = await h.app.inject({ method: 'GET', url: '/no-such-endpoint', headers: { 'x-request-id': id } });
      assert.equal(res.statusCode, 404);
      assert.equal(res.headers['x-request-id'], id);
    });
  });
}
