/**
 * GET /metrics (issue #7): Prometheus text with token requests by grant type and outcome,
 * latency per route pattern, active sessions, sessions ended by reason, SAML rejections, refresh
 * reuse, store latency, login throttling and event-loop lag; behind METRICS_TOKEN (closed without
 * it: test/ops/metrics-access.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { newId, newSecret, storedKey } from '../../src/crypto/secrets.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { queryOperation } from '../../src/store/timed-driver.ts';
import { storeKinds } from '../support/harness.ts';
import { createOpsApp, OPS_SCRAPE_HEADERS, type OpsApp, parseMetrics, sampleValue } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const METRICS_TOKEN = 'mt_0123456789abcdefghij';

async function seed(o: OpsApp, client: { refreshTokens?: boolean } = {}) {
  const email = `ops-${newId('')}@example.com`;
  const user = await o.services.accounts.createUser({ email, password: PASSWORD });
  const created = await o.services.clients.createClient({ name: 'ops', redirectUrls: ['https://app.example/callback'], ...client });
  return { email, userId: user.id, clientId: created.client_id, clientSecret: created.client_secret };
}

function post(o: OpsApp, url: string, form: Record<string, string>) {
  return o.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
}

async function scrape(o: OpsApp, headers: Record<string, string> = OPS_SCRAPE_HEADERS) {
  const res = await o.app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(res.statusCode, 200, res.body);
  return { text: res.body, samples: parseMetrics(res.body), contentType: String(res.headers['content-type']) };
}

for (const kind of storeKinds()) {
  describe(`metrics (${kind})`, () => {
    let o: OpsApp;
    before(async () => {
      o = await createOpsApp(kind);
    });
    after(() => o.close());

    test('counts token requests by grant type and outcome, and times them per route pattern', async () => {
      const s = await seed(o);
      const login = { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, email: s.email };
      assert.equal((await post(o, '/oauth/token', { ...login, password: PASSWORD })).statusCode, 200);
      assert.equal((await post(o, '/oauth/token', { ...login, password: 'wrong password!' })).statusCode, 400);
      assert.equal((await post(o, '/oauth/token', { grant_type: 'made_up', client_id: s.clientId })).statusCode, 400);
      // The query string never becomes a label: only the route pattern does.
      await post(o, '/oauth/token?marker=query-marker-value', { ...login, password: PASSWORD });
      await o.app.inject({ method: 'GET', url: '/no/such/path-marker-value' });

      const { samples, text, contentType } = await scrape(o);
      assert.match(contentType, /^text\/plain; version=0\.0\.4/);
      assert.equal(sampleValue(samples, 'sei_auth_token_requests_total', { grant_type: 'client_credentials', outcome: 'ok' }), 2);
      assert.equal(
        sampleValue(samples, 'sei_auth_token_requests_total', { grant_type: 'client_credentials', outcome: 'invalid_grant' }),
        1,
      );
      assert.equal(sampleValue(samples, 'sei_auth_token_requests_total', { grant_type: 'none', outcome: 'unsupported_grant_type' }), 1);
      const okCount = sampleValue(samples, 'sei_auth_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/oauth/token',
        status_code: '200',
      });
      assert.equal(okCount, 2);
      const sum = sampleValue(samples, 'sei_auth_http_request_duration_seconds_sum', {
        method: 'POST',
        route: '/oauth/token',
        status_code: '200',
      });
      assert.ok(sum !== undefined && sum > 0, 'latency is measured');
      assert.equal(
        sampleValue(samples, 'sei_auth_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' }),
        1,
      );
      assert.ok(!text.includes('marker-value'), 'no raw URL reaches a label');
      assert.ok(!text.includes(s.clientSecret) && !text.includes(PASSWORD), 'no secret reaches the metrics');
    });

    test('reports active sessions from the store and sessions ended by reason', async () => {
      const s = await seed(o);
      const login = {
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email: s.email,
        password: PASSWORD,
      };
      const first = await post(o, '/oauth/token', login);
      const second = await post(o, '/oauth/token', { ...login, endOtherSessions: 'true' });
      assert.equal(first.statusCode, 200);
      assert.equal(second.statusCode, 200);
      const before = (await scrape(o)).samples;
      const revoked = await post(o, '/oauth/revoke', {
        client_id: s.clientId,
        client_secret: s.clientSecret,
        token: second.json().access_token,
      });
      assert.equal(revoked.statusCode, 200);

      const { samples } = await scrape(o);
      assert.equal(sampleValue(samples, 'sei_auth_sessions_ended_total', { reason: 'end_other_sessions' }), 1);
      assert.equal(sampleValue(samples, 'sei_auth_sessions_ended_total', { reason: 'logout' }), 1);
      // The gauge is the store's own count, read at scrape time.
      const active = await o.store.sessions.countAllActive(Date.now());
      assert.equal(sampleValue(samples, 'sei_auth_active_sessions'), active);
      assert.equal(sampleValue(samples, 'sei_auth_active_sessions'), sampleValue(before, 'sei_auth_active_sessions')! - 1);
    });

    test('counts a refresh-token reuse detection and the session it ends', async () => {
      const s = await seed(o, { refreshTokens: true });
      // A session with a refresh token, as the code flow leaves it (the flow itself is tested in test/code-flow).
      const now = Date.now();
      const sessionId = newId('ses_');
      await o.store.sessions.create({
        id: sessionId,
        userId: s.userId,
        clientId: s.clientId,
        grantType: 'authorization_code',
        redirectUrl: 'https://app.example/callback',
        startedAt: now,
        expiresAt: now + 86_400_000,
        endedAt: null,
        endReason: null,
        scope: '',
        audience: null,
      });
      const refreshToken = newSecret('refresh_token');
      await o.store.tokens.createRefresh({ hash: storedKey(refreshToken), sessionId, expiresAt: now + 86_400_000, createdAt: now });
      const refresh = { grant_type: 'refresh_token', client_id: s.clientId, client_secret: s.clientSecret, refresh_token: refreshToken };
      assert.equal((await post(o, '/oauth/token', refresh)).statusCode, 200);
      const before = sampleValue((await scrape(o)).samples, 'sei_auth_refresh_token_reuse_detections_total');
      assert.equal(before, 0, 'a rotation is not a reuse');
      const replay = await post(o, '/oauth/token', refresh);
      assert.equal(replay.json().error, 'invalid_grant');

      const { samples } = await scrape(o);
      assert.equal(sampleValue(samples, 'sei_auth_refresh_token_reuse_detections_total'), 1);
      assert.equal(sampleValue(samples, 'sei_auth_sessions_ended_total', { reason: 'refresh_token_reuse' }), 1);
      assert.equal(sampleValue(samples, 'sei_auth_token_requests_total', { grant_type: 'refresh_token', outcome: 'ok' }), 1);
      assert.equal(sampleValue(samples, 'sei_auth_token_requests_total', { grant_type: 'refresh_token', outcome: 'invalid_grant' }), 1);
    });

    test('counts SAML rejections by the reason the security event records', async () => {
      const s = await seed(o);
      const res = await post(o, '/oauth/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        assertion: Buffer.from('<not-a-signed-assertion/>').toString('base64url'),
      });
      assert.equal(res.json().error, 'invalid_grant');
      const events = (await o.store.events.list({})).filter((e) => e.type === 'saml_rejected' && e.clientId === s.clientId);
      assert.equal(events.length, 1);
      const { samples } = await scrape(o);
      assert.equal(sampleValue(samples, 'sei_auth_saml_rejections_total', { reason: events[0]!.reason! }), 1);
    });

    test('times store queries per statement kind and whole transactions', async () => {
      const { samples } = await scrape(o);
      for (const operation of ['select', 'insert', 'update', 'transaction']) {
        const count = sampleValue(samples, 'sei_auth_store_query_duration_seconds_count', { operation, outcome: 'ok' });
        assert.ok(count !== undefined && count > 0, `${operation} statements are timed`);
      }
    });

    test('exposes login throttling (incremented by its owner), event-loop lag and the build', async () => {
      o.metrics.loginThrottling.increment('account_locked');
      o.metrics.loginThrottling.increment('account_locked');
      const { samples } = await scrape(o);
      assert.equal(sampleValue(samples, 'sei_auth_login_throttle_events_total', { reason: 'account_locked' }), 2);
      assert.ok(
        samples.some((x) => x.name === 'nodejs_eventloop_lag_seconds'),
        'event-loop lag',
      );
      assert.ok(
        samples.some((x) => x.name === 'nodejs_eventloop_lag_p99_seconds'),
        'event-loop lag percentiles',
      );
      assert.equal(sampleValue(samples, 'sei_auth_build_info', { version: 'test' }), 1);
    });
  });
}

describe('metrics: isolation and protection', () => {
  test('each app counts on its own registry, never the global one', async () => {
    const a = await createOpsApp('sqlite');
    const b = await createOpsApp('sqlite');
    try {
      await a.app.inject({ method: 'GET', url: '/healthz' });
      await a.app.inject({ method: 'GET', url: '/healthz' });
      const healthz = { method: 'GET', route: '/healthz', status_code: '200' };
      assert.equal(sampleValue((await scrape(a)).samples, 'sei_auth_http_request_duration_seconds_count', healthz), 2);
      assert.equal(sampleValue((await scrape(b)).samples, 'sei_auth_http_request_duration_seconds_count', healthz), undefined);
      const { register } = await import('prom-client');
      assert.equal(register.getSingleMetric('sei_auth_http_request_duration_seconds'), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('with METRICS_TOKEN, a scrape needs the bearer token (401 otherwise)', async () => {
    const o = await createOpsApp('sqlite', { metricsToken: METRICS_TOKEN });
    try {
      const none = await o.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="metrics"');
      assert.ok(!none.body.includes('sei_auth_'), 'no metrics without the token');
      for (const authorization of [
        `Bearer ${METRICS_TOKEN}x`,
        `Basic ${METRICS_TOKEN}`,
        'Bearer',
        `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      ]) {
        const wrong = await o.app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
        assert.equal(wrong.statusCode, 401, authorization);
        assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
      }
      const { samples } = await scrape(o, { authorization: `bearer ${METRICS_TOKEN}` });
      assert.ok(samples.some((x) => x.name === 'sei_auth_token_requests_total' || x.name === 'sei_auth_active_sessions'));
    } finally {
      await o.close();
    }
  });

  test('METRICS_TOKEN and SHUTDOWN_TIMEOUT are parsed at start-up; a bad value names its variable', () => {
    assert.equal(loadConfig({}).metricsToken, undefined);
    assert.equal(loadConfig({ METRICS_TOKEN: METRICS_TOKEN }).metricsToken, METRICS_TOKEN);
    assert.equal(loadConfig({}).shutdownTimeout, 10);
    assert.equal(loadConfig({ SHUTDOWN_TIMEOUT: '3' }).shutdownTimeout, 3);
    for (const [variable, value] of [
      ['METRICS_TOKEN', 'short'],
      ['METRICS_TOKEN', 'has spaces in it, not a token'],
      ['SHUTDOWN_TIMEOUT', '-1'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        // The token is a secret: its message never quotes it.
        (e: unknown) => e instanceof ConfigError && e.variable === variable && (variable !== 'METRICS_TOKEN' || !e.message.includes(value)),
      );
    }
  });

  test('the active-sessions gauge reads NaN, not a failed scrape, when the store does not answer', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.countActiveSessionsWith(() => Promise.reject(new Error('down')));
    const samples = parseMetrics(await metrics.render());
    assert.ok(Number.isNaN(sampleValue(samples, 'sei_auth_active_sessions')!));
    assert.ok(!samples.some((x) => x.name.startsWith('nodejs_')), 'process metrics left out when asked');
  });

  test('a store statement label is its verb, from a closed set', () => {
    assert.equal(queryOperation('SELECT * FROM users'), 'select');
    assert.equal(queryOperation('  insert INTO x VALUES (?)'), 'insert');
    assert.equal(queryOperation('UPDATE sessions SET'), 'update');
    assert.equal(queryOperation('DELETE FROM saml_replay'), 'delete');
    assert.equal(queryOperation("SELECT pg_advisory_xact_lock(hashtext('x'))"), 'select');
    assert.equal(queryOperation('CREATE TABLE t (id TEXT)'), 'other');
    assert.equal(queryOperation('PRAGMA journal_mode'), 'other');
  });
});
