/**
 * Issue #6 §1: login throttling of every password check (the token endpoint's password login and
 * the login page), per account and per client IP, kept in the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { authorizeQuery, type LoginPage, openLoginPage } from '../code-flow/flow.ts';
import { runBin } from '../core/support.ts';
import { createHarness, freshDatabase, type Harness, storeKinds } from '../support/harness.ts';
import { allEvents, assertThrottled, assertWrongPassword, comparableHeaders, eventsOf, fetchForm, listen, login } from './support.ts';

const WRONG = 'not the password at all';
const MINUTE = 60_000;

let ipCounter = 0;
/** A client IP of its own for each test: the per-IP counters of one test never touch another's. */
const freshIp = () => `10.6.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

/** The login page's form, submitted from a given IP (the code-flow helper always uses 127.0.0.1). */
function submitLoginFrom(h: Harness, page: LoginPage, credentials: { email: string; password: string }, ip: string) {
  const form = new URLSearchParams({ ...page.fields, ...credentials });
  return h.app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    payload: form.toString(),
    remoteAddress: ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie },
  });
}

for (const kind of storeKinds()) {
  describe(`login throttling [${kind}]`, () => {
    // One app per policy, shared by the tests: each test has its own accounts and its own client
    // IP, and moving the clock forward only ever ends other tests' locks early.
    const clock = new ManualClock();
    let h: Harness;
    let small: Harness;
    before(async () => {
      h = await createHarness({ kind, clock, rateLimits: { perIp: 0, perClient: 0 } });
      small = await createHarness({ kind, clock, throttle: { ipMaxFailures: 3 }, rateLimits: { perIp: 0, perClient: 0 } });
    });
    after(async () => {
      await h?.close();
      await small?.close();
    });
    /** The events of one type that concern this test's user or IP. */
    const eventsFor = async (harness: Harness, type: string, who: { userId?: string; ip?: string }) =>
      (await eventsOf(harness, type)).filter(
        (e) => (who.userId !== undefined && e.userId === who.userId) || (who.ip !== undefined && e.ip === who.ip),
      );

    test('after 5 wrong passwords the 6th attempt, even with the right password, is 429 slow_down with Retry-After and is not checked', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const timed = async (password: string) => {
        const started = performance.now();
        const res = await login(h, s, { password }, ip);
        return { res, ms: performance.now() - started };
      };
      const honest: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { res, ms } = await timed(`${WRONG} ${i}`);
        assertWrongPassword(res);
        honest.push(ms);
      }
      assert.equal((await eventsFor(h, 'login_failed', { ip })).length, 5);
      const eventsBefore = (await allEvents(h)).length;

      const { res: refused, ms } = await timed(s.password);
      assert.equal(assertThrottled(refused), 60, 'the first lock lasts LOGIN_LOCK_SECONDS');
      assert.deepEqual(Object.keys(refused.json()).sort(), ['error', 'error_description']);
      // Not checked: no event of any kind for it, no session, and no argon2 verify (it is fast).
      assert.equal((await allEvents(h)).length, eventsBefore);
      assert.equal(await h.store.sessions.countActive(s.userId, clock.now()), 0);
      const refusedTimes = [ms];
      for (let i = 0; i < 4; i++) refusedTimes.push((await timed(s.password)).ms);
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      assert.ok(
        median(refusedTimes) < median(honest) / 2,
        `refused without hashing: ${median(refusedTimes).toFixed(1)} ms vs ${median(honest).toFixed(1)} ms for a checked password`,
      );

      const locked = await eventsFor(h, 'account_locked', { userId: s.userId });
      assert.equal(locked.length, 1);
      assert.equal(locked[0]!.reason, 'too_many_failures');
      assert.equal(locked[0]!.email, s.email);
      assert.equal(locked[0]!.clientId, s.clientId);
      assert.equal(locked[0]!.ip, ip);
      assert.ok(locked[0]!.requestId);
    });

    test('attempts refused by a lock write no security event, so an attacker cannot flood the log', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      const before = (await allEvents(h)).length;
      for (let i = 0; i < 20; i++) assertThrottled(await login(h, s, { password: `${WRONG} ${i}` }, ip));
      assert.equal((await allEvents(h)).length, before);
    });

    test('the lock passes after LOGIN_LOCK_SECONDS and the right password then works', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      clock.advance(59_000);
      assert.equal(assertThrottled(await login(h, s, {}, ip)), 1);
      clock.advance(1_000);
      const res = await login(h, s, {}, ip);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.json().access_token);
    });

    test('each further lock doubles the backoff, up to LOGIN_MAX_LOCK_SECONDS', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      const waits = [assertThrottled(await login(h, s, {}, ip))];
      for (let lock = 0; lock < 6; lock++) {
        clock.advance(waits.at(-1)! * 1000);
        // The lock has passed; one more wrong password is answered honestly and locks again, longer.
        assertWrongPassword(await login(h, s, { password: WRONG }, ip));
        waits.push(assertThrottled(await login(h, s, {}, ip)));
      }
      assert.deepEqual(waits, [60, 120, 240, 480, 900, 900, 900]);
      assert.equal((await eventsFor(h, 'account_locked', { userId: s.userId })).length, 7);
    });

    test('a quiet LOGIN_FAILURE_WINDOW after a lock forgets the history: five fresh attempts, a short lock', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assert.equal(assertThrottled(await login(h, s, {}, ip)), 60);
      clock.advance(MINUTE + 15 * MINUTE + 1);
      for (let i = 0; i < 4; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assert.equal(assertThrottled(await login(h, s, {}, ip)), 60, 'the backoff starts over');
    });

    test('a successful login resets the account counter', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 4; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assert.equal((await login(h, s, {}, ip)).statusCode, 200);
      // A fresh count: four more failures still leave the account open.
      for (let i = 0; i < 4; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assert.equal((await login(h, s, {}, ip)).statusCode, 200);
      assert.equal((await eventsFor(h, 'account_locked', { userId: s.userId })).length, 0);
    });

    test('an unknown email is throttled exactly like a known one: same statuses, bodies and headers', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const unknown = `nobody-${Date.now()}@example.com`;
      for (let i = 0; i < 7; i++) {
        const known = await login(h, s, { password: WRONG }, ip);
        const ghost = await login(h, s, { email: unknown, password: WRONG }, ip);
        assert.equal(ghost.statusCode, known.statusCode, `attempt ${i + 1}`);
        assert.equal(ghost.body, known.body, `attempt ${i + 1}`);
        assert.deepEqual(comparableHeaders(ghost), comparableHeaders(known), `attempt ${i + 1}`);
        assert.equal(known.statusCode, i < 5 ? 400 : 429);
      }
      const locks = await eventsFor(h, 'account_locked', { ip });
      assert.equal(locks.length, 2, 'the unknown email got a lock of its own');
      assert.equal(locks.filter((e) => e.userId === null && e.email === null).length, 1, 'and the typed email is not recorded');
    });

    test('failures spread over many accounts from one IP lock that IP; another IP is unaffected', async () => {
      const s = await small.seed();
      const attacker = freshIp();
      // LOGIN_IP_MAX_FAILURES=3 here; each account stays below its own limit of 5.
      for (let i = 0; i < 3; i++)
        assertWrongPassword(await login(small, s, { email: `victim${i}-${attacker}@example.com`, password: WRONG }, attacker));
      assert.equal(assertThrottled(await login(small, s, {}, attacker)), 60);
      assertThrottled(await login(small, s, { email: `victim99-${attacker}@example.com` }, attacker));
      const other = await login(small, s, {}, freshIp());
      assert.equal(other.statusCode, 200, other.body);

      const ipLock = (await eventsFor(small, 'account_locked', { ip: attacker })).filter((e) => e.reason === 'ip_too_many_failures');
      assert.equal(ipLock.length, 1);
      assert.equal(ipLock[0]!.userId, null);
    });

    test('IPv6 clients are counted by their /64: failures from many addresses of one /64 lock all of it; another /64 is unaffected', async () => {
      const s = await small.seed();
      const prefix = `2001:db8:${(++ipCounter).toString(16)}:1`;
      for (let i = 0; i < 3; i++) {
        assertWrongPassword(
          await login(small, s, { email: `v6-${i}-${prefix}@example.com`, password: WRONG }, `${prefix}::${(i + 1).toString(16)}`),
        );
      }
      assertThrottled(await login(small, s, {}, `${prefix}:ffff:ffff:ffff:ffff`));
      const other = await login(small, s, {}, `2001:db8:${ipCounter.toString(16)}:2::1`);
      assert.equal(other.statusCode, 200, other.body);
    });

    test('an IPv4-mapped IPv6 address counts as its IPv4 address', async () => {
      const s = await small.seed();
      const ip = freshIp();
      for (let i = 0; i < 3; i++)
        assertWrongPassword(await login(small, s, { email: `mapped-${i}-${ip}@example.com`, password: WRONG }, `::ffff:${ip}`));
      assertThrottled(await login(small, s, {}, ip));
    });

    test('the lock holds across a restart on the same database', async () => {
      const db = await freshDatabase(kind);
      const ip = freshIp();
      try {
        const first = await createHarness({ kind, clock, databaseUrl: db.url });
        const s = await first.seed();
        for (let i = 0; i < 5; i++) assertWrongPassword(await login(first, s, { password: WRONG }, ip));
        await first.close({ drop: false });

        const second = await createHarness({ kind, clock, databaseUrl: db.url });
        try {
          assert.equal(assertThrottled(await login(second, s, {}, ip)), 60);
          clock.advance(MINUTE);
          assert.equal((await login(second, s, {}, ip)).statusCode, 200);
        } finally {
          await second.close({ drop: false });
        }
      } finally {
        await db.drop();
      }
    });

    test('failed logins on the login page count toward the same lock, and the page says so with 429', async () => {
      const s = await h.seed({ client: { allowNoPkce: true } });
      const ip = freshIp();
      const page = await openLoginPage(h, authorizeQuery(s));
      for (let i = 0; i < 3; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      for (let i = 0; i < 2; i++) {
        const res = await submitLoginFrom(h, page, { email: s.email, password: WRONG }, ip);
        assert.equal(res.statusCode, 400);
        assert.match(res.body, /The email or password is incorrect\./);
      }
      const refused = await submitLoginFrom(h, page, { email: s.email, password: s.password }, ip);
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.headers['retry-after'], '60');
      assert.match(String(refused.headers['content-type']), /^text\/html/);
      assert.match(refused.body, /Too many failed sign-in attempts/);
      assert.equal(refused.headers.location, undefined, 'no redirect, no code');
      assertThrottled(await login(h, s, {}, ip));
      assert.equal((await eventsFor(h, 'login_failed', { userId: s.userId })).length, 5);
    });

    test('five failures on the login page lock the token endpoint too', async () => {
      const s = await h.seed({ client: { allowNoPkce: true } });
      const ip = freshIp();
      const page = await openLoginPage(h, authorizeQuery(s));
      for (let i = 0; i < 5; i++) assert.equal((await submitLoginFrom(h, page, { email: s.email, password: WRONG }, ip)).statusCode, 400);
      assertThrottled(await login(h, s, {}, ip));
      assertThrottled(await login(h, s, {}, freshIp()));
    });

    test('sei-auth user unlock --email clears the lock and records account_unlocked', async () => {
      const s = await h.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assertThrottled(await login(h, s, {}, ip));

      const typed = s.email.toUpperCase();
      const result = await runBin(['user', 'unlock', '--email', typed, '--json'], { env: { DATABASE_URL: h.databaseUrl } });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { unlocked: typed, was_throttled: true });
      const res = await login(h, s, {}, ip);
      assert.equal(res.statusCode, 200, res.body);

      const unlocked = await eventsFor(h, 'account_unlocked', { userId: s.userId });
      assert.equal(unlocked.length, 1);
      assert.equal(unlocked[0]!.reason, 'admin');
      assert.equal(unlocked[0]!.email, s.email, 'the account as the store spells it');
    });

    test('sei-auth user unlock --ip clears an IP lock and records account_unlocked for the IP', async () => {
      const s = await small.seed();
      const ip = freshIp();
      for (let i = 0; i < 3; i++) assertWrongPassword(await login(small, s, { email: `spray${i}-${ip}@example.com`, password: WRONG }, ip));
      assertThrottled(await login(small, s, {}, ip));

      const result = await runBin(['user', 'unlock', '--ip', ip, '--json'], { env: { DATABASE_URL: small.databaseUrl } });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { unlocked: ip, was_throttled: true });
      assert.equal((await login(small, s, {}, ip)).statusCode, 200);
      const unlocked = await eventsFor(small, 'account_unlocked', { ip });
      assert.equal(unlocked.length, 1);
      assert.equal(unlocked[0]!.reason, 'admin');
    });

    test('30 parallel wrong guesses on a listening server get at most 5 honest answers; a right password racing them is refused once the lock exists', async () => {
      const s = await h.seed();
      const origin = await listen(h);
      const form = (email: string, password: string) => ({
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        email,
        password,
      });

      // The right password, spelled with another case (the same account), is held just after it
      // passed the first lock check, until the burst has locked the account.
      const racingEmail = s.email.toUpperCase();
      let entered!: () => void;
      const inFlight = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const store = h.store.users as unknown as { findByEmail: (email: string) => Promise<unknown> };
      const original = Object.getOwnPropertyDescriptor(store, 'findByEmail');
      const find = store.findByEmail.bind(h.store.users);
      store.findByEmail = async (email: string) => {
        if (email === racingEmail) {
          entered();
          await released;
        }
        return find(email);
      };
      try {
        const racing = fetchForm(`${origin}/oauth/token`, form(racingEmail, s.password));
        await inFlight;
        const burst = await Promise.all(
          Array.from({ length: 30 }, (_, i) => fetchForm(`${origin}/oauth/token`, form(s.email, `${WRONG} #${i}`))),
        );
        release();
        const raced = await racing;

        const statuses = burst.map((r) => r.status);
        assert.ok(
          statuses.every((st) => st === 400 || st === 429),
          `only 400 and 429: ${statuses.join(',')}`,
        );
        const honest = statuses.filter((st) => st === 400).length;
        assert.ok(honest <= 5, `at most LOGIN_MAX_FAILURES honest answers, got ${honest}`);
        for (const r of burst.filter((b) => b.status === 429)) {
          assert.equal(r.json.error, 'slow_down');
          assert.match(String(r.headers.get('retry-after')), /^\d+$/);
        }
        assert.equal(raced.status, 429, `the racing right password is refused: ${raced.text}`);
        assert.equal(raced.json.error, 'slow_down');
        assert.equal((await eventsFor(h, 'login_succeeded', { userId: s.userId })).length, 0);
        assert.equal((await fetchForm(`${origin}/oauth/token`, form(s.email, s.password))).status, 429);
        // The correct password refused during a lock is on record (a guess that may have found it).
        const refusedRight = (await eventsFor(h, 'login_failed', { userId: s.userId })).filter((e) => e.reason === 'throttled');
        assert.equal(refusedRight.length, 1);
      } finally {
        if (original) Object.defineProperty(store, 'findByEmail', original);
        else delete (store as { findByEmail?: unknown }).findByEmail;
      }
    });

    test('500 wrong passwords against one account leave it throttled, most refused unchecked, and the right password refused until the lock passes', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const started = performance.now();
      const statuses: number[] = [];
      // 100 waves of 5 parallel guesses, 5 s apart: 500 guesses over 500 s. Each time a lock passes,
      // one wave reaches the password check; the first failure of it locks again, for twice as long.
      for (let wave = 0; wave < 100; wave++) {
        const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => login(h, s, { password: `${WRONG} ${wave}-${i}` }, ip)));
        statuses.push(...answers.map((r) => r.statusCode));
        clock.advance(5_000);
      }
      const elapsed = performance.now() - started;
      assert.equal(statuses.length, 500);
      assert.ok(
        statuses.every((st) => st === 400 || st === 429),
        'no 5xx, no token',
      );
      const verified = (await eventsFor(h, 'login_failed', { userId: s.userId })).length;
      // Locks at t=0 (60 s), 60 (120 s), 180 (240 s), 420 (480 s): four waves of five are checked.
      assert.equal(verified, 20, 'only the waves that found the account open reach the password check');
      assert.equal(statuses.filter((st) => st === 400).length, 8, 'five honest answers, then one per lock');
      assert.ok(elapsed < 20_000, `bounded time: ${Math.round(elapsed)} ms`);

      const retry = assertThrottled(await login(h, s, {}, ip));
      assert.equal(retry, 400, 'the fourth lock (480 s from t=420 s) still has 400 s to run');
      clock.advance((retry - 1) * 1000);
      assertThrottled(await login(h, s, {}, ip));
      clock.advance(1000);
      const res = await login(h, s, {}, ip);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await eventsFor(h, 'login_succeeded', { userId: s.userId })).length, 1);
    });
  });
}
