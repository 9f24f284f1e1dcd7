/**
 * Issue #2 item 10: one structured log line per request (route, status, grant type, client id,
 * outcome), and never a password, secret, token or the query string of /oauth/token — in the
 * logs or in the security event table. Every secret is sent in the query string and in the body,
 * through HTTP Basic too, in successful and failing requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { systemClock } from '../../src/clock.ts';
import { newSecret, storedKey } from '../../src/crypto/secrets.ts';
import { openStore } from '../../src/store/open-store.ts';
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
import { basicAuth, postForm, startServerProcess } from './support.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The strings that must never be written anywhere: each value, and its encodings. */
function forms(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    Buffer.from(secret).toString('base64'),
  ];
}

function assertNoSecrets(where: string, text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    for (const form of forms(secret)) assert.equal(text.includes(form), false, `${where} contains a secret: ${form}`);
  }
}

for (const kind of storeKinds()) {
  describe(`log redaction [${kind}]`, () => {
    let h: Harness;
    let s: Seeded;
    let limited: Seeded;
    const secrets: string[] = [];
    let requests = 0;
    before(async () => {
      h = await createHarness({ kind });
      s = await h.seed({ password: 'Pw-InTheLogsWouldBeBad-1', client: { refreshTokens: true } });
      limited = await h.seed({ password: 'Pw-LimitedUserSecret-2', maxSessions: 1 });
      secrets.push(
        s.password,
        s.clientSecret,
        limited.password,
        limited.clientSecret,
        'Pw-WrongButStillSecret-3',
        'scs_WrongClientSecretValue4',
      );
    });
    after(() => h.close());

    const send = async (request: InjectOptions) => {
      requests++;
      return h.app.inject(request);
    };
    const post = async (...args: Parameters<Harness['post']>) => {
      requests++;
      return h.post(...args);
    };

    test('no password, client secret or token appears in any log line or security event', async () => {
      const seedForm = {
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email: s.email,
        password: s.password,
      };
      const q = (o: Record<string, string>) => new URLSearchParams(o).toString();

      // Successful logins: body, query, mixed, Basic.
      const tokens: string[] = [];
      for (const res of [
        await post('/oauth/token', seedForm),
        await post('/oauth/token', {}, { query: q(seedForm) }),
        await post(
          '/oauth/token',
          { email: s.email, password: s.password },
          { query: q({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret }) },
        ),
        await post(
          '/oauth/token',
          { grant_type: 'password', username: s.email, password: s.password },
          { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } },
        ),
        await post(
          '/oauth/token',
          {},
          {
            query: q({ grant_type: 'password', username: s.email, password: s.password }),
            headers: { authorization: basicAuth(s.clientId, s.clientSecret) },
          },
        ),
      ]) {
        assert.equal(res.statusCode, 200, res.body);
        tokens.push(res.json().access_token as string);
      }
      secrets.push(...tokens);

      // Failures carrying secrets: wrong password (query and body), wrong client secret, failed Basic,
      // Basic plus client_secret, repeated parameters, bad encoding, JSON, too large, wrong method,
      // unknown grant, unknown path, the session limit.
      const failures = [
        await post('/oauth/token', { ...seedForm, password: 'Pw-WrongButStillSecret-3' }),
        await post('/oauth/token', {}, { query: q({ ...seedForm, password: 'Pw-WrongButStillSecret-3' }) }),
        await post('/oauth/token', { ...seedForm, client_secret: 'scs_WrongClientSecretValue4' }),
        await post('/oauth/token', {}, { query: q({ ...seedForm, client_secret: 'scs_WrongClientSecretValue4' }) }),
        await post(
          '/oauth/token',
          { grant_type: 'client_credentials', email: s.email, password: s.password },
          { headers: { authorization: basicAuth(s.clientId, 'scs_WrongClientSecretValue4') } },
        ),
        await post('/oauth/token', seedForm, { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } }),
        await post('/oauth/token', `${q(seedForm)}&password=${encodeURIComponent(s.password)}`),
        await post('/oauth/token', { password: s.password }, { query: q(seedForm) }),
        await post('/oauth/token', `${q(seedForm)}&x=%ZZ`),
        await post('/oauth/token', {}, { query: `${q(seedForm)}&x=%ZZ` }),
        await send({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(seedForm),
        }),
        await send({ method: 'POST', url: '/oauth/token', headers: FORM, payload: `${q(seedForm)}&pad=${'p'.repeat(300 * 1024)}` }),
        await send({ method: 'GET', url: `/oauth/token?${q(seedForm)}` }),
        await post('/oauth/token', { ...seedForm, grant_type: 'urn:example:unknown' }),
        await send({ method: 'GET', url: `/nowhere?${q(seedForm)}` }),
        await post('/oauth/token', { ...seedForm, endOtherSessions: 'maybe' }),
      ];
      for (const res of failures) assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} ${res.body}`);
      const limitedForm = {
        grant_type: 'client_credentials',
        client_id: limited.clientId,
        client_secret: limited.clientSecret,
        email: limited.email,
        password: limited.password,
      };
      assert.equal((await post('/oauth/token', limitedForm)).statusCode, 200);
      assert.equal((await post('/oauth/token', {}, { query: q(limitedForm) })).statusCode, 400);

      // Introspection and revocation with tokens in the query string and in the body, via Basic too.
      const creds = { client_id: s.clientId, client_secret: s.clientSecret };
      assert.equal((await post('/oauth/introspect', { ...creds, token: tokens[0]! })).json().active, true);
      assert.equal((await post('/oauth/introspect', {}, { query: q({ ...creds, token: tokens[1]! }) })).json().active, true);
      assert.equal(
        (
          await post('/oauth/introspect', { token: tokens[2]! }, { headers: { authorization: basicAuth(s.clientId, s.clientSecret) } })
        ).json().active,
        true,
      );
      assert.equal(
        (
          await post(
            '/oauth/introspect',
            { token: tokens[2]! },
            { headers: { authorization: basicAuth(s.clientId, 'scs_WrongClientSecretValue4') } },
          )
        ).statusCode,
        401,
      );
      assert.equal((await post('/oauth/revoke', {}, { query: q({ ...creds, token: tokens[3]! }) })).statusCode, 200);
      assert.equal((await post('/oauth/revoke', { ...creds, token: tokens[4]! })).statusCode, 200);
      const stranger = await h.seed();
      secrets.push(stranger.clientSecret);
      assert.equal(
        (await post('/oauth/revoke', { client_id: stranger.clientId, client_secret: stranger.clientSecret, token: tokens[0]! })).statusCode,
        400,
      );

      // The refresh grant, with the refresh token in the body and then (rotated) in the query.
      const sid = (await introspect(h, s, tokens[0]!)).json().sid as string;
      requests++;
      const refresh = newSecret('refresh_token');
      secrets.push(refresh);
      await h.store.tokens.createRefresh({
        hash: storedKey(refresh),
        sessionId: sid,
        expiresAt: h.clock.now() + 3_600_000,
        createdAt: h.clock.now(),
      });
      const refreshed = await post('/oauth/token', { grant_type: 'refresh_token', ...creds, refresh_token: refresh });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      secrets.push(refreshed.json().access_token, refreshed.json().refresh_token);
      assert.equal(
        (await post('/oauth/token', {}, { query: q({ grant_type: 'refresh_token', ...creds, refresh_token: refresh }) })).statusCode,
        400,
      );

      const logText = h.logs.join('\n');
      assert.ok(h.logs.length >= requests, 'the requests were logged');
      assertNoSecrets('the log', logText, secrets);
      const events = JSON.stringify(await h.store.events.list({ limit: 10_000 }));
      assert.ok(events.includes('login_succeeded') && events.includes('login_failed'), 'events were written');
      assertNoSecrets('the security events', events, secrets);
      // The query string of /oauth/token is never logged: not even its harmless parts.
      assert.equal(logText.includes('grant_type=client_credentials'), false);
      assert.equal(logText.includes('%ZZ'), false);
      assert.equal(logText.includes(s.email), false, 'request lines do not carry the login email');
    });

    test('exactly one "request" line per request, with route, status, grant type, client id and outcome', async () => {
      const before = h.logs.length;
      const ok = await passwordLogin(h, s);
      const bad = await passwordLogin(h, s, { password: 'Pw-WrongButStillSecret-3' });
      const noClient = await h.post('/oauth/token', { grant_type: 'client_credentials', email: s.email, password: s.password });
      const introspected = await introspect(h, s, ok.json().access_token);
      const notFound = await h.app.inject({ method: 'GET', url: '/nowhere' });
      const lines = h.logs
        .slice(before)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'request');
      assert.equal(lines.length, 5);
      const [l1, l2, l3, l4, l5] = lines;
      assert.deepEqual(
        {
          route: l1!.route,
          status: l1!.status,
          grant_type: l1!.grant_type,
          client_id: l1!.client_id,
          outcome: l1!.outcome,
          method: l1!.method,
        },
        {
          route: '/oauth/token',
          status: ok.statusCode,
          grant_type: 'client_credentials',
          client_id: s.clientId,
          outcome: 'ok',
          method: 'POST',
        },
      );
      assert.deepEqual(
        { route: l2!.route, status: l2!.status, grant_type: l2!.grant_type, client_id: l2!.client_id, outcome: l2!.outcome },
        {
          route: '/oauth/token',
          status: bad.statusCode,
          grant_type: 'client_credentials',
          client_id: s.clientId,
          outcome: 'invalid_grant',
        },
      );
      assert.deepEqual(
        { route: l3!.route, status: l3!.status, outcome: l3!.outcome, client_id: l3!.client_id },
        { route: '/oauth/token', status: noClient.statusCode, outcome: 'invalid_client', client_id: undefined },
      );
      assert.deepEqual(
        { route: l4!.route, status: l4!.status, client_id: l4!.client_id, outcome: l4!.outcome },
        { route: '/oauth/introspect', status: introspected.statusCode, client_id: s.clientId, outcome: 'ok' },
      );
      assert.equal(l5!.status, notFound.statusCode);
      assert.equal(l5!.outcome, 'not_found');
      assert.equal(JSON.stringify(l5).includes('/nowhere'), false, 'an unmatched path is not logged (it is request input)');
      for (const line of lines) {
        assert.equal(typeof line.reqId, 'string');
        assert.equal(typeof line.ms, 'number');
        assert.equal('url' in line || 'req' in line || 'headers' in line, false);
      }
    });

    test('a request whose URL cannot be routed still gets one request line, without its path or query', async () => {
      const before = h.logs.length;
      const res = await h.app.inject({ method: 'GET', url: '/oauth/%ZZ-Pw-PathSecret-8?password=Pw-QuerySecret-9' });
      assert.equal(res.statusCode, 400);
      const lines = h.logs.slice(before);
      const requestLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
      assert.equal(requestLines.length, 1);
      assert.equal(requestLines[0]!.status, 400);
      assert.equal(requestLines[0]!.outcome, 'invalid_request');
      assertNoSecrets('the log', lines.join('\n'), ['Pw-PathSecret-8', 'Pw-QuerySecret-9']);
    });

    test('an unsupported grant_type value is not logged (it is request input)', async () => {
      const before = h.logs.length;
      await passwordLogin(h, s, { grant_type: 'Pw-GrantTypeCarryingASecret-5' });
      const text = h.logs.slice(before).join('\n');
      assert.ok(text.includes('"msg":"request"'));
      assert.equal(text.includes('Pw-GrantTypeCarryingASecret-5'), false);
    });
  });

  describe(`log redaction, a real server process at LOG_LEVEL=trace [${kind}]`, () => {
    test('the server process writes no secret to stdout or stderr', async () => {
      const db = await freshDatabase(kind);
      const store = await openStore({ databaseUrl: db.url, now: Date.now() });
      const services = servicesFor(store, systemClock);
      const password = 'Pw-ProcessLogSecret-6';
      const user = await services.accounts.createUser({ email: `proc-${Date.now()}@example.com`, password });
      const client = await services.clients.createClient({ name: 'proc', redirectUrls: ['https://proc.example/cb'] });
      await store.close();
      const server = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'trace' });
      try {
        const form = {
          grant_type: 'client_credentials',
          client_id: client.client_id,
          client_secret: client.client_secret,
          email: user.email,
          password,
        };
        const { client_secret: _inQuery, ...bodyForm } = form;
        const login = await postForm(
          `${server.url}/oauth/token?${new URLSearchParams({ client_secret: client.client_secret }).toString()}`,
          bodyForm,
        );
        assert.equal(login.status, 200, JSON.stringify(login.body));
        const token = login.body.access_token as string;
        await postForm(`${server.url}/oauth/token`, { ...form, password: 'Pw-WrongProcessSecret-7' });
        await postForm(`${server.url}/oauth/introspect?token=${token}`, {
          client_id: client.client_id,
          client_secret: client.client_secret,
        });
        await postForm(`${server.url}/oauth/revoke`, { token }, { authorization: basicAuth(client.client_id, client.client_secret) });
        await new Promise((r) => setTimeout(r, 200));
        const output = server.output();
        assert.ok(output.includes('"msg":"request"'), 'the server logged its requests');
        assertNoSecrets('the server output', output, [password, 'Pw-WrongProcessSecret-7', client.client_secret, token]);
      } finally {
        await server.stop();
        await db.drop();
      }
    });
  });
}
