/**
 * Issue #13 item 11: with the default rate limits, legitimate traffic is never throttled. A
 * resource server introspecting as fast as the server answers, from one IP, and a client
 * re-checking all its tokens after a restart, get no 429: authenticated requests spend only their
 * client's budget, and RATE_LIMIT_PER_CLIENT's default is far above what one instance can answer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { DEFAULT_RATE_LIMITS } from '../../src/http/rate-limiter.ts';
import { openStore } from '../../src/store/open-store.ts';
import { basicAuth } from '../core/support.ts';
import { freshDatabase, servicesFor, storeKinds } from '../support/harness.ts';
import { postForm, startServerProcess } from '../support/server-process.ts';

const PASSWORD = 'correct horse battery staple';
/** The rate-limit variables left unset: the server runs with its defaults. */
const DEFAULT_LIMITS = { RATE_LIMIT_PER_IP: '', RATE_LIMIT_PER_CLIENT: '' };
const REQUESTS = 3000;
const PARALLEL = 64;

/** `total` requests made by `parallel` workers, each starting its next request as soon as the last is answered. */
async function flood(total: number, parallel: number, send: (i: number) => Promise<number>): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        const status = await send(next++);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

test('the defaults: RATE_LIMIT_PER_CLIENT as in DEFAULT_RATE_LIMITS (the app and serve agree)', () => {
  assert.deepEqual(loadConfig({}).rateLimits, DEFAULT_RATE_LIMITS);
});

for (const kind of storeKinds()) {
  describe(`default rate limits and legitimate traffic [${kind}]`, () => {
    test(`one client introspecting from one IP as fast as it can (${REQUESTS} requests, ${PARALLEL} in parallel), also after a restart, never gets a 429`, async () => {
      const db = await freshDatabase(kind);
      try {
        const store = await openStore({ databaseUrl: db.url, now: Date.now() });
        const services = servicesFor(store);
        const email = `rs-${Date.now()}@example.com`;
        await services.accounts.createUser({ email, password: PASSWORD });
        const client = await services.clients.createClient({ name: 'Resource server', redirectUrls: ['https://app.example/cb'] });
        await store.close();

        let server = await startServerProcess({ DATABASE_URL: db.url, ...DEFAULT_LIMITS });
        const tokens: string[] = [];
        try {
          for (let i = 0; i < 4; i++) {
            const res = await postForm(`${server.url}/oauth/token`, {
              grant_type: 'client_credentials',
              client_id: client.client_id,
              client_secret: client.client_secret,
              email,
              password: PASSWORD,
            });
            assert.equal(res.status, 200, JSON.stringify(res.json));
            tokens.push(String(res.json.access_token));
          }
          // A client that restarts re-checks all its tokens at once.
          assert.equal(await server.stop(), 0);
          server = await startServerProcess({ DATABASE_URL: db.url, ...DEFAULT_LIMITS });

          const url = `${server.url}/oauth/introspect`;
          let inactive = 0;
          const statuses = await flood(REQUESTS, PARALLEL, async (i) => {
            // Every fifth request checks a token that is not (or no longer) valid: still a 200.
            const token = i % 5 === 4 ? `sat_unknown-${i}` : tokens[i % tokens.length]!;
            // Half send the credentials in the form, half with HTTP Basic, as resource servers do.
            const res =
              i % 2 === 0
                ? await fetch(url, {
                    method: 'POST',
                    headers: { 'content-type': 'application/x-www-form-urlencoded' },
                    body: new URLSearchParams({ token, client_id: client.client_id, client_secret: client.client_secret }).toString(),
                  })
                : await fetch(url, {
                    method: 'POST',
                    headers: {
                      'content-type': 'application/x-www-form-urlencoded',
                      authorization: basicAuth(client.client_id, client.client_secret),
                    },
                    body: new URLSearchParams({ token }).toString(),
                  });
            const body = (await res.json()) as { active?: boolean };
            if (res.status === 200 && body.active !== (i % 5 !== 4)) inactive++;
            return res.status;
          });
          assert.deepEqual(Object.fromEntries(statuses), { 200: REQUESTS }, 'every answer a 200, no 429');
          assert.equal(inactive, 0, 'valid tokens active, unknown ones inactive');
        } finally {
          assert.equal(await server.stop(), 0);
        }
      } finally {
        await db.drop();
      }
    });
  });
}
