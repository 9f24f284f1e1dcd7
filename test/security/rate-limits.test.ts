/**
 * Issue #6 §2: rate limits per client IP and per client on /oauth/token, /oauth/introspect and
 * /oauth/revoke; 429 slow_down with Retry-After; 0 turns a limit off. Issue #13 items 5 and 11:
 * the per-client budget is spent only by requests whose client authenticated; the per-IP budget
 * only by requests that did not authenticate a client (failed authentications included).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/clock.ts';
import { composePlatform } from '../../src/composition-root.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import { basicAuth } from '../core/support.ts';
import { createHarness, freshDatabase, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { postFrom } from './support.ts';

const ENDPOINTS = ['/oauth/token', '/oauth/introspect', '/oauth/revoke'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

/** A cheap, well-formed request to each endpoint (no password hashing): a 400 or a 200. */
function cheapForm(endpoint: Endpoint, s: Seeded, secret = s.clientSecret): Record<string, string> {
  const client = { client_id: s.clientId, client_secret: secret };
  if (endpoint === '/oauth/token') return { grant_type: 'refresh_token', refresh_token: 'srt_not-a-real-token', ...client };
  return { token: 'sat_not-a-real-token', ...client };
}

/** The same request with a wrong client secret: a failed client authentication. */
const WRONG_SECRET = 'not-the-secret-0123456789';
const failedAuthForm = (endpoint: Endpoint, s: Seeded) => cheapForm(endpoint, s, WRONG_SECRET);

function assertInvalidClient(res: LightMyRequestResponse): void {
  assert.ok(res.statusCode === 400 || res.statusCode === 401, `invalid_client: ${res.statusCode} ${res.body}`);
  assert.equal(res.json().error, 'invalid_client');
}

function assertRateLimited(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 429, res.body);
  assert.deepEqual(res.json(), { error: 'slow_down', error_description: 'Too many requests. Slow down and retry later.' });
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(res.headers['cache-control'], 'no-store');
}

function assertServed(res: LightMyRequestResponse): void {
  assert.ok(res.statusCode === 200 || res.statusCode === 400, `served normally: ${res.statusCode} ${res.body}`);
}

let ipCounter = 0;
const freshIp = () => `10.2.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

for (const kind of storeKinds()) {
  describe(`rate limits [${kind}]`, () => {
    const clock = new ManualClock();
    let perIp: Harness;
    let perClient: Harness;
    let both: Harness;
    let off: Harness;
    before(async () => {
      // rate 1/s, burst 2: the third request in the same instant is refused.
      perIp = await createHarness({ kind, clock, rateLimits: { perIp: 1, perClient: 0 } });
      perClient = await createHarness({ kind, clock, rateLimits: { perIp: 0, perClient: 1 } });
      // rate 10/s per client (burst 20); a per-IP budget too, as by default.
      both = await createHarness({ kind, clock, rateLimits: { perIp: 1, perClient: 10 } });
      off = await createHarness({ kind, clock, rateLimits: { perIp: 0, perClient: 0 } });
    });
    after(async () => {
      for (const h of [perIp, perClient, both, off]) await h?.close();
    });

    for (const endpoint of ENDPOINTS) {
      test(`${endpoint}: failed client authentications over the per-IP budget get 429 slow_down with Retry-After; another IP is unaffected`, async () => {
        const s = await perIp.seed();
        const ip = freshIp();
        assertInvalidClient(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, s)));
        assertInvalidClient(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, s)));
        assertRateLimited(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, s)));
        // Contract §7: the right secret from that address is served (the per-IP limit never applies to an authenticated client).
        assertServed(await postFrom(perIp, ip, endpoint, cheapForm(endpoint, s)));
        assertInvalidClient(await postFrom(perIp, freshIp(), endpoint, failedAuthForm(endpoint, s)));
        // The budget refills at the configured rate.
        clock.advance(1_000);
        assertInvalidClient(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, s)));
        assertRateLimited(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, s)));
      });

      test(`${endpoint}: authenticated requests never spend the per-IP budget: 40 from one IP at a per-IP limit of 1/s are all served`, async () => {
        const s = await perIp.seed();
        const ip = freshIp();
        const answers = await Promise.all(Array.from({ length: 40 }, () => postFrom(perIp, ip, endpoint, cheapForm(endpoint, s))));
        for (const res of answers) assertServed(res);
        // The address's budget is untouched: failures (for another client id) still get the full burst.
        const other = await perIp.seed();
        assertInvalidClient(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, other)));
        assertInvalidClient(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, other)));
        assertRateLimited(await postFrom(perIp, ip, endpoint, failedAuthForm(endpoint, other)));
      });

      test(`${endpoint}: a flood of 2× the per-client limit with client X's id and a wrong secret does not spend X's budget`, async () => {
        const x = await both.seed();
        // From many addresses, so that no per-IP budget stops the flood: every attempt is checked.
        const flood = await Promise.all(Array.from({ length: 40 }, () => postFrom(both, freshIp(), endpoint, failedAuthForm(endpoint, x))));
        for (const res of flood) assertInvalidClient(res);
        // HTTP Basic with X's id and a wrong secret: the same.
        for (let i = 0; i < 5; i++) {
          const res = await postFrom(both, freshIp(), endpoint, cheapForm(endpoint, x, ''), {
            authorization: basicAuth(x.clientId, WRONG_SECRET),
          });
          assertInvalidClient(res);
        }
        // X's own requests get X's whole burst (20 at 10/s), then 429: only they count.
        const ip = freshIp();
        const mine = await Promise.all(Array.from({ length: 20 }, () => postFrom(both, ip, endpoint, cheapForm(endpoint, x))));
        for (const res of mine) assertServed(res);
        assertRateLimited(await postFrom(both, ip, endpoint, cheapForm(endpoint, x)));
      });

      test(`${endpoint}: over the per-client limit is 429 slow_down with Retry-After; another client is unaffected`, async () => {
        const s = await perClient.seed();
        const other = await perClient.seed();
        // Different IPs: only the client's own bucket counts here.
        assertServed(await postFrom(perClient, freshIp(), endpoint, cheapForm(endpoint, s)));
        assertServed(await postFrom(perClient, freshIp(), endpoint, cheapForm(endpoint, s)));
        assertRateLimited(await postFrom(perClient, freshIp(), endpoint, cheapForm(endpoint, s)));
        assertServed(await postFrom(perClient, freshIp(), endpoint, cheapForm(endpoint, other)));
      });
    }

    test('IPv6 clients share a per-IP bucket per /64; another /64 has its own', async () => {
      const s = await perIp.seed();
      const prefix = `2001:db8:${(++ipCounter).toString(16)}:7`;
      assertInvalidClient(await postFrom(perIp, `${prefix}::1`, '/oauth/revoke', failedAuthForm('/oauth/revoke', s)));
      assertInvalidClient(await postFrom(perIp, `${prefix}::2`, '/oauth/revoke', failedAuthForm('/oauth/revoke', s)));
      assertRateLimited(await postFrom(perIp, `${prefix}:abcd::3`, '/oauth/revoke', failedAuthForm('/oauth/revoke', s)));
      assertInvalidClient(
        await postFrom(perIp, `2001:db8:${ipCounter.toString(16)}:8::1`, '/oauth/revoke', failedAuthForm('/oauth/revoke', s)),
      );
    });

    test('failures let in together still count: after 20 parallel wrong secrets at 1/s the address waits them off', async () => {
      const s = await perIp.seed();
      const ip = freshIp();
      // All 20 arrive before the first answer, so all are checked; the 18 over the burst are a debt.
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', s))),
      );
      for (const res of burst) assertInvalidClient(res);
      const refused = await postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', s));
      assert.equal(refused.statusCode, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 18, `Retry-After ${refused.headers['retry-after']}`);
      clock.advance(10_000);
      assert.equal((await postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', s))).statusCode, 429);
      clock.advance(10_000);
      assertInvalidClient(await postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', s)));
    });

    test('contract §7: an address over its budget still serves every client that authenticates; anything else is 429', async () => {
      const known = await perIp.seed();
      const newcomer = await perIp.seed();
      const stranger = await perIp.seed();
      const ip = freshIp();
      // A resource server behind a NAT authenticates; then someone behind the same NAT fails.
      assertServed(await postFrom(perIp, ip, '/oauth/introspect', cheapForm('/oauth/introspect', known)));
      for (let i = 0; i < 2; i++)
        assertInvalidClient(await postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', stranger)));
      assertRateLimited(await postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', stranger)));
      // The clients that authenticate keep working, with their id in the form or in HTTP Basic — one seen
      // here before and one that never was.
      for (let i = 0; i < 5; i++) assertServed(await postFrom(perIp, ip, '/oauth/introspect', cheapForm('/oauth/introspect', known)));
      assertServed(
        await postFrom(perIp, ip, '/oauth/introspect', { token: 'x' }, { authorization: basicAuth(known.clientId, known.clientSecret) }),
      );
      assertServed(await postFrom(perIp, ip, '/oauth/introspect', cheapForm('/oauth/introspect', newcomer)));
      // Every failed or missing client authentication from it is 429, whatever the failure.
      assertRateLimited(await postFrom(perIp, ip, '/oauth/introspect', failedAuthForm('/oauth/introspect', stranger)));
      assertRateLimited(await postFrom(perIp, ip, '/oauth/introspect', { token: 'x' }));
      assertRateLimited(
        await postFrom(
          perIp,
          ip,
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(stranger.clientId, 'wrong') },
        ),
      );
    });

    test('an authenticated client is counted once however it sends its credentials: form, HTTP Basic, or percent-encoded Basic', async () => {
      const s = await perClient.seed();
      const refresh = { grant_type: 'refresh_token', refresh_token: 'srt_not-a-real-token' };
      assertServed(
        await postFrom(perClient, freshIp(), '/oauth/token', { ...refresh, client_id: s.clientId, client_secret: s.clientSecret }),
      );
      assertServed(await postFrom(perClient, freshIp(), '/oauth/token', refresh, { authorization: basicAuth(s.clientId, s.clientSecret) }));
      // Every character percent-encoded (RFC 6749 Appendix B allows it): still the same client.
      const encodeAll = (v: string) => [...Buffer.from(v)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      assertRateLimited(
        await postFrom(perClient, freshIp(), '/oauth/token', refresh, { authorization: basicAuth(s.clientId, s.clientSecret, encodeAll) }),
      );
      assertRateLimited(
        await postFrom(perClient, freshIp(), '/oauth/introspect', { token: 'x', client_id: s.clientId, client_secret: s.clientSecret }),
      );
    });

    test('the metadata endpoint is outside the OAuth endpoint limits', async () => {
      const ip = freshIp();
      for (let i = 0; i < 5; i++) {
        const res = await perIp.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', remoteAddress: ip });
        assert.equal(res.statusCode, 200);
      }
    });

    test('limits set to 0 are off: 50 requests from one IP for one client are all served', async () => {
      const s = await off.seed();
      const ip = freshIp();
      for (const endpoint of ENDPOINTS) {
        const answers = await Promise.all(Array.from({ length: 50 }, () => postFrom(off, ip, endpoint, cheapForm(endpoint, s))));
        for (const res of answers) assertServed(res);
      }
    });
  });
}

describe('client IPs behind a proxy', () => {
  /** The app as `serve` builds it, with a given TRUST_PROXY setting and a per-IP limit of 1/s. */
  async function appWith(trustProxy: boolean | string) {
    const db = await freshDatabase('sqlite');
    const store = await openStore({ databaseUrl: db.url, now: Date.now() });
    const platform = composePlatform({
      store,
      clock: new ManualClock(),
      metrics: createMetrics(),
      settings: { issuer: 'http://localhost:8080', lifetimes: { accessTokenTtl: 3600, refreshTokenTtl: 86_400 } },
    });
    const app = buildApp({ platform, logger: createLogger('silent'), rateLimits: { perIp: 1, perClient: 0 }, trustProxy });
    await app.ready();
    const close = async () => {
      await app.close();
      await store.close();
      await db.drop();
    };
    const send = (remoteAddress: string, forwardedFor: string) =>
      app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        payload: 'token=x',
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      });
    return { send, close };
  }

  test('X-Forwarded-For is ignored unless TRUST_PROXY names the proxy: a client cannot pick its own IP to escape per-IP limits', async () => {
    const direct = await appWith(false);
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await direct.send('198.51.100.1', `203.0.113.${i + 1}`)).statusCode);
      assert.deepEqual(
        answers.map((st) => st === 429),
        [false, false, true],
        'counted by the socket address',
      );
    } finally {
      await direct.close();
    }

    const proxied = await appWith('10.0.0.1');
    try {
      // Behind the trusted proxy, each forwarded client has its own bucket.
      for (let i = 0; i < 3; i++) assert.notEqual((await proxied.send('10.0.0.1', `203.0.113.${i + 1}`)).statusCode, 429);
      // From anywhere else the header is not believed.
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await proxied.send('198.51.100.2', `203.0.113.${i + 10}`)).statusCode);
      assert.equal(statuses[2], 429);
    } finally {
      await proxied.close();
    }
  });
});
