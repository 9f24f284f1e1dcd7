/**
 * Issue #6 §1: login throttling of every password check (the token endpoint's password login and
 * the login page), per account and per client IP, kept in the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PasswordVerifier } from '../../src/accounts/password-login.ts';
import { ManualClock } from '../../src/clock.ts';
import { verifyPassword } from '../../src/crypto/passwords.ts';
import { LoginThrottle } from '../../src/throttle/login-throttle.ts';
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

/**
 * Counts the argon2 verifications an app runs (the real verify, by password), and holds each
 * until `hold` of them have started (or 2 s have passed): the burst lands within one verify, as
 * it does on a busy server.
 */
class VerifyCounter {
  readonly passwords: string[] = [];
  private hold = 0;
  private held: Array<() => void> = [];

  readonly verify: PasswordVerifier = async (storedHash, password) => {
    this.passwords.push(password);
    if (this.passwords.length >= this.hold) for (const go of this.held.splice(0)) go();
    else await new Promise<void>((resolve) => this.held.push(resolve) && setTimeout(resolve, 2_000).unref());
    return verifyPassword(storedHash, password);
  };

  /** Starts a new count; returns the passwords verified from now on. */
  start(hold: number): string[] {
    this.passwords.length = 0;
    this.hold = hold;
    return this.passwords;
  }

  /** Resolves once `password` is being verified. */
  async started(password: string): Promise<void> {
    while (!this.passwords.includes(password)) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

for (const kind of storeKinds()) {
  describe(`login throttling [${kind}]`, () => {
    // One app per policy, shared by the tests: each test has its own accounts and its own client
    // IP, and moving the clock forward only ever ends other tests' locks early.
    const clock = new ManualClock();
    let h: Harness;
    let small: Harness;
    /** an app whose argon2 verifications are counted */
    let counted: Harness;
    const verifications = new VerifyCounter();
    before(async () => {
      h = await createHarness({ kind, clock, rateLimits: { perIp: 0, perClient: 0 } });
      small = await createHarness({ kind, clock, throttle: { ipMaxFailures: 3 }, rateLimits: { perIp: 0, perClient: 0 } });
      counted = await createHarness({ kind, clock, rateLimits: { perIp: 0, perClient: 0 }, verifyPassword: verifications.verify });
    });
    after(async () => {
      await h?.close();
      await small?.close();
      await counted?.close();
    });
    /** The events of one type that concern this test's user or IP. */
    const eventsFor = async (harness: Harness, type: string, who: { userId?: string; ip?: string }) =>
      (await eventsOf(harness, type)).filter(
        (e) => (who.userId !== undefined && e.userId === who.userId) || (who.ip !== undefined && e.ip === who.ip),
      );

    test('after 5 wrong passwords the 6th attempt, even with the right password, is 429 slow_down with Retry-After and is not checked', async () => {
      // The app whose argon2 verifications are counted: "not checked" is counted, not timed.
      const s = await counted.seed();
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(counted, s, { password: `${WRONG} ${i}` }, ip));
      assert.equal((await eventsFor(counted, 'login_failed', { ip })).length, 5);
      const eventsBefore = (await allEvents(counted)).length;

      const verified = verifications.start(0);
      const refused = await login(counted, s, { password: s.password }, ip);
      assert.equal(assertThrottled(refused), 60, 'the first lock lasts LOGIN_LOCK_SECONDS');
      assert.deepEqual(Object.keys(refused.json()).sort(), ['error', 'error_description']);
      // Not checked: no event of any kind for it, no session, and no argon2 verify.
      assert.equal((await allEvents(counted)).length, eventsBefore);
      assert.equal(await counted.store.sessions.countActive(s.userId, clock.now()), 0);
      for (let i = 0; i < 4; i++) assertThrottled(await login(counted, s, { password: s.password }, ip));
      assert.deepEqual(verified, [], 'no password was verified while the account was locked');

      const locked = await eventsFor(counted, 'account_locked', { userId: s.userId });
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

    test('30 parallel wrong guesses on a listening server: at most 5 are checked; a right password being checked when they arrive is accepted and does not lift their lock', async () => {
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
      // was let in, until the burst has been answered.
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
        // The right password took one of the five places: four wrong guesses were checked.
        const honest = statuses.filter((st) => st === 400).length;
        assert.equal(honest, 4, 'the budget of LOGIN_MAX_FAILURES attempts, the right password included');
        assert.equal((await eventsFor(h, 'login_failed', { userId: s.userId })).length, 4, 'only those were checked');
        for (const r of burst.filter((b) => b.status === 429)) {
          assert.equal(r.json.error, 'slow_down');
          assert.match(String(r.headers.get('retry-after')), /^\d+$/);
        }
        // It was let in within the budget, so it is answered as checked; the lock stops what came after.
        assert.equal(raced.status, 200, raced.text);
        assert.ok(raced.json.access_token);
        assert.equal((await eventsFor(h, 'login_succeeded', { userId: s.userId })).length, 1);
        // The wrong guesses that overlapped it keep their lock: the right password is refused now.
        const after = await fetchForm(`${origin}/oauth/token`, form(s.email, s.password));
        assert.equal(after.status, 429);
        assert.equal(after.headers.get('retry-after'), '60');
        assert.equal((await eventsFor(h, 'account_locked', { userId: s.userId })).length, 1);
      } finally {
        if (original) Object.defineProperty(store, 'findByEmail', original);
        else delete (store as { findByEmail?: unknown }).findByEmail;
      }
    });

    /**
     * Every answer of a burst against one account: a password that was verified gets its honest
     * answer (`right` the success, any other the failure); every other request is refused with
     * 429 before any verify.
     */
    function assertBurst<R>(
      passwords: string[],
      answers: R[],
      verified: string[],
      expect: { status: (r: R) => number; refused: (r: R) => void; failed: (r: R) => void; succeeded: (r: R) => void; right?: string },
    ): void {
      assert.ok(verified.length >= 1 && verified.length <= 5, `at most LOGIN_MAX_FAILURES argon2 verifications, got ${verified.length}`);
      assert.equal(new Set(verified).size, verified.length, 'each password verified once');
      answers.forEach((answer, i) => {
        const password = passwords[i]!;
        if (!verified.includes(password)) expect.refused(answer);
        else if (password === expect.right) expect.succeeded(answer);
        else expect.failed(answer);
      });
    }

    type Fetched = Awaited<ReturnType<typeof fetchForm>>;
    const tokenExpect = {
      status: (r: Fetched) => r.status,
      refused: (r: Fetched) => {
        assert.equal(r.status, 429, r.text);
        assert.equal(r.json.error, 'slow_down');
        assert.match(String(r.headers.get('retry-after')), /^\d+$/);
      },
      failed: (r: Fetched) => {
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.error, 'invalid_grant');
      },
      succeeded: (r: Fetched) => {
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.access_token);
      },
    };

    test('100 parallel wrong guesses plus the right password at the token endpoint: at most 5 argon2 verifications, every other request 429 slow_down, and no answer but the 200 differs from a burst without it', async () => {
      const origin = await listen(counted);
      const s = await counted.seed();
      const control = await counted.seed();
      const ghost = `nobody-${Date.now()}@example.com`;
      const token = (email: string, password: string) =>
        fetchForm(`${origin}/oauth/token`, {
          grant_type: 'client_credentials',
          client_id: s.clientId,
          client_secret: s.clientSecret,
          email,
          password,
        });
      const wrong = (tag: string) => Array.from({ length: 100 }, (_, i) => `${WRONG} ${tag} #${i}`);

      /** `first` is sent and being verified when the other 100 arrive, all at once. */
      const burst = async (email: string, first: string, rest: string[]) => {
        const verified = verifications.start(5);
        const head = token(email, first);
        await verifications.started(first);
        const answers = await Promise.all([head, ...rest.map((p) => token(email, p))]);
        return { passwords: [first, ...rest], answers, verified: [...verified] };
      };

      // The right password first; then the same burst shape with a wrong password first, against
      // another account and against an email that does not exist.
      const withRight = await burst(s.email, s.password, wrong('a'));
      assertBurst(withRight.passwords, withRight.answers, withRight.verified, { ...tokenExpect, right: s.password });
      assert.ok(withRight.verified.includes(s.password), 'the right password was let in (it arrived first)');
      assert.equal(withRight.answers[0]!.status, 200, 'and accepted: the lock only stops further verifications');
      const without = await burst(control.email, `${WRONG} b first`, wrong('b'));
      assertBurst(without.passwords, without.answers, without.verified, tokenExpect);
      const unknown = await burst(ghost, `${WRONG} c first`, wrong('c'));
      assertBurst(unknown.passwords, unknown.answers, unknown.verified, tokenExpect);

      // The same answers, but for the right password's 200 (which a wrong one gets as 400).
      const shape = (b: { answers: Fetched[] }) =>
        b.answers
          .map((r) => (r.status === 200 ? 400 : r.status))
          .sort((x, y) => x - y)
          .join(',');
      assert.equal(shape(withRight), shape(without));
      assert.equal(shape(unknown), shape(without));
      // And the same state after it: the right password did not lift the lock the burst started.
      const next = await Promise.all([token(s.email, s.password), token(control.email, control.password), token(ghost, WRONG)]);
      for (const r of next) {
        assert.equal(r.status, 429, r.text);
        assert.equal(r.headers.get('retry-after'), '60');
      }
      // One security event per verified password (an honest count of the checks), one lock each.
      const byUser = async (type: string, userId: string) => (await eventsOf(counted, type)).filter((e) => e.userId === userId).length;
      assert.equal(await byUser('login_failed', s.userId), withRight.verified.length - 1);
      assert.equal(await byUser('login_succeeded', s.userId), 1);
      assert.equal(await byUser('login_failed', control.userId), without.verified.length);
      assert.equal(await byUser('account_locked', s.userId), 1);
      assert.equal(await byUser('account_locked', control.userId), 1);

      // The right password sent with the burst rather than ahead of it: the same bound either way.
      const late = await counted.seed();
      const verified = verifications.start(5);
      const passwords = [...wrong('d'), late.password];
      const answers = await Promise.all(passwords.map((p) => token(late.email, p)));
      assertBurst(passwords, answers, [...verified], { ...tokenExpect, right: late.password });
    });

    test('100 parallel wrong guesses plus the right password on the login form: at most 5 argon2 verifications, every other request the 429 page', async () => {
      const s = await counted.seed({ client: { allowNoPkce: true } });
      const ip = freshIp();
      const page = await openLoginPage(counted, authorizeQuery(s));
      const submit = (password: string) => submitLoginFrom(counted, page, { email: s.email, password }, ip);
      const verified = verifications.start(5);
      const head = submit(s.password);
      await verifications.started(s.password);
      const rest = Array.from({ length: 100 }, (_, i) => `${WRONG} form #${i}`);
      const answers = await Promise.all([head, ...rest.map(submit)]);
      type Injected = (typeof answers)[number];
      assertBurst([s.password, ...rest], answers, [...verified], {
        status: (r: Injected) => r.statusCode,
        refused: (r: Injected) => {
          assert.equal(r.statusCode, 429, r.body);
          assert.match(String(r.headers['retry-after']), /^\d+$/);
          assert.match(r.body, /Too many failed sign-in attempts/);
          assert.equal(r.headers.location, undefined);
        },
        failed: (r: Injected) => {
          assert.equal(r.statusCode, 400, r.body);
          assert.match(r.body, /The email or password is incorrect\./);
        },
        succeeded: (r: Injected) => {
          assert.equal(r.statusCode, 303, r.body);
          assert.match(String(r.headers.location), /[?&]code=/);
        },
        right: s.password,
      });
      assert.equal(answers[0]!.statusCode, 303, 'the right password, let in first, gets its code');
      assert.equal((await submit(s.password)).statusCode, 429, 'the lock started by the burst stands');
    });

    test('10 parallel logins with the right password: at most 5 are checked, the rest 429; once they have succeeded the account is open again, and nothing was locked', async () => {
      const s = await counted.seed();
      const ip = freshIp();
      const verified = verifications.start(5);
      const answers = await Promise.all(Array.from({ length: 10 }, () => login(counted, s, {}, ip)));
      assert.ok(verified.length <= 5, `at most 5 verifications, got ${verified.length}`);
      const ok = answers.filter((r) => r.statusCode === 200).length;
      assert.equal(ok, verified.length, 'every checked login succeeded');
      for (const r of answers.filter((a) => a.statusCode !== 200)) assertThrottled(r);
      // Successes never lock anything: the lock their attempts started while in flight is gone.
      const res = await login(counted, s, {}, ip);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await eventsOf(counted, 'account_locked')).filter((e) => e.userId === s.userId).length, 0);
      for (let i = 0; i < 4; i++) assertWrongPassword(await login(counted, s, { password: WRONG }, ip));
    });

    test('attempts never settled (their process died mid-verify) hold their place only until the claim timeout: the account is not wedged', async () => {
      const s = await h.seed();
      const ip = freshIp();
      // Four attempts let in whose verify never ends, as when a process dies in the middle.
      const throttle = new LoginThrottle({ store: h.store, clock });
      for (let i = 0; i < 4; i++) await throttle.begin(s.email, ip);
      // While they may still be failures, the right password takes the fifth place and is accepted,
      // but cannot clear them: the budget is used up until they are written off.
      assert.equal((await login(h, s, {}, ip)).statusCode, 200);
      assert.equal(assertThrottled(await login(h, s, {}, ip)), 60);
      // A minute later (the claim timeout) they count as the failures they may have been, and the
      // lock has passed: the right password is let in and clears the account.
      clock.advance(MINUTE + 1);
      assert.equal((await login(h, s, {}, ip)).statusCode, 200);
      assert.equal((await login(h, s, {}, ip)).statusCode, 200);
      for (let i = 0; i < 4; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
    });

    test('a password check cut short by a store error is given back: it holds no place in the budget', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const users = h.store.users as unknown as { findByEmail: (email: string) => Promise<unknown> };
      const original = Object.getOwnPropertyDescriptor(users, 'findByEmail');
      users.findByEmail = async () => {
        throw new Error('connection reset');
      };
      try {
        const failed = await login(h, s, { password: WRONG }, ip);
        assert.ok(failed.statusCode >= 500, `the store failed: ${failed.statusCode}`);
      } finally {
        if (original) Object.defineProperty(users, 'findByEmail', original);
        else delete (users as { findByEmail?: unknown }).findByEmail;
      }
      // Still five honest answers before the lock, not four.
      for (let i = 0; i < 5; i++) assertWrongPassword(await login(h, s, { password: WRONG }, ip));
      assertThrottled(await login(h, s, {}, ip));
    });

    test('500 wrong passwords against one account leave it throttled, only 5 plus one per lock checked, and the right password refused until the lock passes', async () => {
      const s = await h.seed();
      const ip = freshIp();
      const started = performance.now();
      const statuses: number[] = [];
      // 100 waves of 5 parallel guesses, 5 s apart: 500 guesses over 500 s. Each time a lock passes,
      // one guess of the next wave is let in, which locks again at once, for twice as long.
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
      // Locks at t=0 (60 s), 60 (120 s), 180 (240 s), 420 (480 s): the first wave is checked, then one
      // guess per lock; the rest of each wave is refused before the check, not raced past it.
      assert.equal(verified, 8, 'five, then one guess each time a lock passes');
      assert.equal(statuses.filter((st) => st === 400).length, 8, 'every checked guess gets an honest answer');
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
