/**
 * Issue #6 §5: a bounded load test on a listening server (loopback, fixed count): a mix of good
 * logins, wrong passwords, garbage and introspections at a fixed concurrency. No 5xx, no
 * connection error, and no lost session: every token handed out is active afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, type Seeded, storeKinds } from '../support/harness.ts';
import { listen } from './support.ts';

const TOTAL = 400;
const CONCURRENCY = 16;

type Kind = 'good' | 'bad' | 'garbage' | 'introspect';

/**
 * A fixed mix: 15 % good logins, 10 % wrong passwords, 35 % garbage, 40 % introspections. (Each
 * password check is an argon2id verify of ~20–50 ms of CPU; the mix keeps the test a few seconds.)
 */
function kindOf(i: number): Kind {
  const slot = i % 20;
  if (slot < 3) return 'good';
  if (slot < 5) return 'bad';
  if (slot < 12) return 'garbage';
  return 'introspect';
}

const GARBAGE: ReadonlyArray<(s: Seeded) => { body: string; type: string }> = [
  () => ({ body: 'grant_type=client_credentials&grant_type=password', type: 'application/x-www-form-urlencoded' }),
  (s) => ({ body: JSON.stringify({ grant_type: 'client_credentials', client_id: s.clientId }), type: 'application/json' }),
  () => ({ body: `pad=${'x'.repeat(300 * 1024)}`, type: 'application/x-www-form-urlencoded' }),
  () => ({ body: 'grant_type=%zz&client_id=%E0%A4%A', type: 'application/x-www-form-urlencoded' }),
  (s) => ({
    body: `grant_type=refresh_token&client_id=${s.clientId}&client_secret=${s.clientSecret}&refresh_token=srt_${'A'.repeat(43)}`,
    type: 'application/x-www-form-urlencoded',
  }),
  (s) => ({
    body: `grant_type=authorization_code&client_id=${s.clientId}&client_secret=${s.clientSecret}&code=sac_forged`,
    type: 'application/x-www-form-urlencoded',
  }),
  (s) => ({
    body: `grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer&client_id=${s.clientId}&client_secret=${s.clientSecret}&assertion=PGZvbz4`,
    type: 'application/x-www-form-urlencoded',
  }),
  () => ({ body: '\u0000\u0001\u0002', type: 'text/plain' }),
];

for (const kind of storeKinds()) {
  describe(`bounded load on a listening server [${kind}]`, () => {
    let h: Harness;
    let origin: string;
    let alice: Seeded;
    let bob: Seeded;
    before(async () => {
      h = await createHarness({
        kind,
        // Good logins must not be throttled by the wrong passwords or the rate of the test itself.
        throttle: { accountMaxFailures: 100_000, ipMaxFailures: 100_000 },
        rateLimits: { perIp: 0, perClient: 0 },
      });
      alice = await h.seed({ email: `alice-load-${kind}@example.com` });
      bob = await h.seed({ email: `bob-load-${kind}@example.com` });
      origin = await listen(h);
    });
    after(async () => h?.close());

    test(`${TOTAL} mixed requests at concurrency ${CONCURRENCY}: no 5xx, no connection error, and every token issued is active afterwards`, async () => {
      const issued: string[] = [];
      const statuses = new Map<Kind, number[]>();
      const failures: string[] = [];
      let next = 0;
      const started = performance.now();

      const one = async (i: number): Promise<void> => {
        const k = kindOf(i);
        let body: string;
        let type = 'application/x-www-form-urlencoded';
        if (k === 'good' || k === 'bad') {
          const who = k === 'good' ? alice : bob;
          body = new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: who.clientId,
            client_secret: who.clientSecret,
            email: who.email,
            password: k === 'good' ? who.password : `wrong password ${i}`,
          }).toString();
        } else if (k === 'garbage') {
          ({ body, type } = GARBAGE[i % GARBAGE.length]!(alice));
        } else {
          const token = issued.length ? issued[i % issued.length]! : 'sat_not-issued-yet';
          body = new URLSearchParams({ client_id: alice.clientId, client_secret: alice.clientSecret, token }).toString();
        }
        const path = k === 'introspect' ? '/oauth/introspect' : '/oauth/token';
        try {
          const res = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
          const text = await res.text();
          statuses.set(k, [...(statuses.get(k) ?? []), res.status]);
          if (res.status >= 500) failures.push(`${k} #${i}: ${res.status} ${text}`);
          if (k === 'good' && res.status === 200) issued.push((JSON.parse(text) as { access_token: string }).access_token);
        } catch (error) {
          failures.push(`${k} #${i}: connection error ${String(error)}`);
        }
      };
      const worker = async () => {
        while (next < TOTAL) await one(next++);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const seconds = (performance.now() - started) / 1000;

      assert.deepEqual(failures, [], 'no 5xx and no connection errors');
      assert.equal([...statuses.values()].flat().length, TOTAL);
      assert.ok(
        statuses.get('good')!.every((st) => st === 200),
        `every good login succeeds: ${statuses.get('good')}`,
      );
      assert.ok(
        statuses.get('bad')!.every((st) => st === 400),
        'every wrong password is invalid_grant',
      );
      assert.ok(
        statuses.get('garbage')!.every((st) => st >= 400 && st < 500),
        'garbage is refused with a 4xx',
      );
      assert.ok(statuses.get('introspect')!.every((st) => st === 200));
      assert.ok(seconds < 45, `bounded time (${seconds.toFixed(1)} s)`);

      // No lost sessions: every token handed out is active, and each is its own session.
      assert.equal(issued.length, statuses.get('good')!.length);
      const sids = new Set<string>();
      for (const token of issued) {
        const res = await fetch(`${origin}/oauth/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: alice.clientId, client_secret: alice.clientSecret, token }).toString(),
        });
        const json = (await res.json()) as { active: boolean; sid: string; email: string };
        assert.equal(json.active, true, 'a token issued under load is active');
        assert.equal(json.email, alice.email);
        sids.add(json.sid);
      }
      assert.equal(sids.size, issued.length, 'one session per login');
      assert.equal(await h.store.sessions.countActive(alice.userId, Date.now()), issued.length, 'the store holds every session');
      assert.equal(await h.store.sessions.countActive(bob.userId, Date.now()), 0);
    });
  });
}
