import { isIPv6 } from 'node:net';
import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { hashSecret } from '../crypto/secrets.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import { emailKey, type Store, type StoreOps, type ThrottleState } from '../store/store.ts';

/**
 * Brute-force protection for every password check (the token endpoint's password login and the
 * login page). Counters live in the store, so a limit holds across instances and restarts.
 *
 * - An attempt is charged to its account and its client IP *before* its password is verified:
 *   one store transaction locks both rows (account first, then IP, on every instance), refuses
 *   while either is locked, and otherwise counts the attempt as a failure — starting the lock
 *   when that uses up the budget. So however many guesses arrive at once, at most
 *   `accountMaxFailures` of them (and `ipMaxFailures` per IP) reach the argon2 verify; the rest
 *   are refused with 429 without it.
 * - Only failures count in the end. A right password gives its attempt back: to the IP at once;
 *   to the account when no other attempt on it is still being verified, and then, if none of
 *   those attempts failed, the account's counter and the lock they started are cleared — as after
 *   any lone successful login. A right password among wrong ones that overlap it (a burst)
 *   keeps its place in the budget and leaves their lock running: the burst gets the same answers
 *   as one without it, save the 200 of the right password itself.
 * - Reaching the limit locks for `baseLockMs`, doubling with each further lock up to `maxLockMs`;
 *   a quiet `windowMs` after the last failure or lock forgets the history.
 * - While locked, attempts are refused with 429 without checking the password and without a
 *   write, and the answer is the same whether or not the email exists.
 * - An attempt whose process dies mid-verify is counted as a failure once it is `claimTimeoutMs`
 *   old, so it cannot keep an account's budget in use for longer.
 * - Account keys are a hash of the normalized email, so what someone typed into the email field
 *   (sometimes a password) is never stored in the throttle table.
 */
export interface ThrottlePolicy {
  accountMaxFailures: number;
  ipMaxFailures: number;
  windowMs: number;
  baseLockMs: number;
  maxLockMs: number;
  /** an attempt not settled this long after it was let in is written off as a failure */
  claimTimeoutMs: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  accountMaxFailures: 5,
  ipMaxFailures: 50,
  windowMs: 15 * 60_000,
  baseLockMs: 60_000,
  maxLockMs: 15 * 60_000,
  claimTimeoutMs: 60_000,
};

export interface ThrottleObserver {
  /** called once per lock that starts and per refused attempt (for metrics) */
  onLock?(kind: 'account' | 'ip'): void;
  onRefused?(): void;
}

/** What letting one attempt in did to one counter (the account's or the IP's). */
interface CounterClaim {
  key: string;
  /** the lock in force before, restored if this attempt's lock is lifted */
  lockedBefore: number;
  /** this attempt started a lock that stands whatever it turns out to be: its settle reports it */
  reportLock: boolean;
}

/** An attempt let in by {@link LoginThrottle.begin}, to be settled once its password is checked. */
export interface ThrottleTicket {
  claimedAt: number;
  account: CounterClaim;
  ip: CounterClaim;
}

/** How one kind of counter treats a right password. */
interface CounterRules {
  max: number;
  /**
   * Accounts hold a success's attempt until no attempt on them is in flight (so a right password
   * inside a burst frees nothing the burst could use); IPs give it back at once (a busy office's
   * successful logins must never add up to a lock).
   */
  holdsSuccesses: boolean;
}

type Outcome = 'failed' | 'succeeded' | 'cancelled';

/**
 * The address a per-IP limit counts: an IPv4 address as is (also when written IPv4-mapped,
 * `::ffff:a.b.c.d`), an IPv6 address by its /64 — one subscriber usually holds a whole /64, so
 * counting single IPv6 addresses would let one machine walk past any per-IP limit.
 */
export function addressBucket(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return ip;
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const [head = '', tail] = address.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

const accountKeyOf = (email: string) => `account:${hashSecret(emailKey(email))}`;
const ipKeyOf = (ip: string) => `ip:${addressBucket(ip)}`;

export class LoginThrottle {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly policy: ThrottlePolicy;
  private readonly observer: ThrottleObserver;

  constructor(deps: { store: Store; clock: Clock; policy?: Partial<ThrottlePolicy>; observer?: ThrottleObserver }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.policy = { ...DEFAULT_THROTTLE_POLICY, ...deps.policy };
    this.observer = deps.observer ?? {};
  }

  private get accountRules(): CounterRules {
    return { max: this.policy.accountMaxFailures, holdsSuccesses: true };
  }

  private get ipRules(): CounterRules {
    return { max: this.policy.ipMaxFailures, holdsSuccesses: false };
  }

  /** Forgets what has expired, at `now`: in-flight attempts past the claim timeout, then a quiet window's history. */
  private refresh(state: ThrottleState, rules: CounterRules, now: number): void {
    if (state.inFlight > 0 && now - state.claimedAt > this.policy.claimTimeoutMs) {
      // Never settled (their process died mid-verify): they stay charged, as failures.
      state.lastFailureAt = Math.max(state.lastFailureAt, state.claimedAt);
      state.inFlight = 0;
      state.runFailed = false;
    }
    // An account's run in progress may hold successes' attempts, which a reset must not drop.
    const running = rules.holdsSuccesses && state.inFlight > 0 ? state.claimedAt : 0;
    if (now - Math.max(state.lastFailureAt, state.lockedUntil, running) > this.policy.windowMs) {
      state.failures = state.inFlight;
      state.locks = 0;
    }
  }

  /** Lets one attempt in, charged as a failure; starts the lock when that uses up the budget. */
  private claim(state: ThrottleState, rules: CounterRules, now: number): CounterClaim {
    const claim = { key: state.key, lockedBefore: state.lockedUntil, reportLock: false };
    state.failures += 1;
    state.inFlight += 1;
    state.claimedAt = now;
    if (state.failures < rules.max) return claim;
    state.lockedUntil = now + Math.min(this.policy.maxLockMs, this.policy.baseLockMs * 2 ** Math.min(state.locks, 30));
    state.locks += 1;
    // A failure already settled in this run, so the lock stands whatever this attempt turns out to be.
    claim.reportLock = state.runFailed;
    return claim;
  }

  /**
   * Settles one attempt on one counter. Returns whether a lock is to be reported now, and
   * whether the counter is to be cleared (an account whose run of attempts all succeeded).
   */
  private settle(
    state: ThrottleState,
    claim: CounterClaim,
    claimedAt: number,
    rules: CounterRules,
    outcome: Outcome,
    now: number,
  ): { report: boolean; clear: boolean } {
    // Written off by the claim timeout, or cleared by an operator meanwhile: nothing left to settle.
    if (state.inFlight === 0) return { report: false, clear: false };
    state.inFlight -= 1;
    // A lock started by this run's attempts (none was running when this one was let in) that no
    // failure has confirmed yet.
    const unconfirmedLock = !state.runFailed && state.lockedUntil > claimedAt;
    let report = outcome !== 'cancelled' && claim.reportLock;
    if (outcome === 'failed') {
      report ||= unconfirmedLock;
      state.runFailed = true;
      state.lastFailureAt = now;
    } else if (outcome === 'succeeded' && rules.holdsSuccesses) {
      if (state.inFlight === 0 && !state.runFailed) return { report, clear: true };
    } else {
      state.failures = Math.max(0, state.failures - 1);
      if (unconfirmedLock && state.failures < rules.max) {
        state.lockedUntil = claim.lockedBefore;
        state.locks = Math.max(0, state.locks - 1);
      }
    }
    if (state.inFlight === 0) state.runFailed = false;
    return { report, clear: false };
  }

  private refusal(until: number, now: number): OAuthError {
    this.observer.onRefused?.();
    const seconds = Math.max(1, Math.ceil((until - now) / 1000));
    return new OAuthError('slow_down', 'Too many failed logins. Try again later.', { headers: { 'Retry-After': String(seconds) } });
  }

  /**
   * Before a password check: lets the attempt in, charged to the account and the IP, or refuses
   * it while either is locked (including by the attempt that just used up the budget).
   * @throws OAuthError slow_down (429, Retry-After)
   */
  async begin(email: string, ip: string): Promise<ThrottleTicket> {
    const now = this.clock.now();
    const accountKey = accountKeyOf(email);
    const ipKey = ipKeyOf(ip);
    // Refused without a write while a lock is visible: a flood of refused guesses costs two reads each.
    const [seenAccount, seenIp] = await Promise.all([this.store.throttle.find(accountKey), this.store.throttle.find(ipKey)]);
    const seen = Math.max(seenAccount?.lockedUntil ?? 0, seenIp?.lockedUntil ?? 0);
    if (seen > now) throw this.refusal(seen, now);

    const outcome = await this.store.transaction(async (tx: StoreOps) => {
      // Always the account row first, then the IP row: one lock order, no deadlock between instances.
      const account = await tx.throttle.lock(accountKey);
      const address = await tx.throttle.lock(ipKey);
      this.refresh(account, this.accountRules, now);
      this.refresh(address, this.ipRules, now);
      const lockedUntil = Math.max(account.lockedUntil, address.lockedUntil);
      if (lockedUntil > now) return { refusedUntil: lockedUntil };
      const ticket: ThrottleTicket = {
        claimedAt: now,
        account: this.claim(account, this.accountRules, now),
        ip: this.claim(address, this.ipRules, now),
      };
      await tx.throttle.save(account);
      await tx.throttle.save(address);
      return { ticket };
    });
    if (!outcome.ticket) throw this.refusal(outcome.refusedUntil, now);
    return outcome.ticket;
  }

  /** Settles an attempt on both counters in one transaction, and records the locks it confirms. */
  private async finish(
    ticket: ThrottleTicket,
    outcome: Outcome,
    context: EventContext,
    user: { id: string; email: string } | null,
  ): Promise<void> {
    const now = this.clock.now();
    // Past the claim timeout the attempt has been (or is about to be) written off as a failure.
    if (now - ticket.claimedAt > this.policy.claimTimeoutMs) return;
    const reports = await this.store.transaction(async (tx: StoreOps) => {
      const account = await tx.throttle.lock(ticket.account.key);
      const address = await tx.throttle.lock(ticket.ip.key);
      const a = this.settle(account, ticket.account, ticket.claimedAt, this.accountRules, outcome, now);
      const i = this.settle(address, ticket.ip, ticket.claimedAt, this.ipRules, outcome, now);
      if (a.clear) await tx.throttle.delete(account.key);
      else await tx.throttle.save(account);
      await tx.throttle.save(address);
      if (a.report) {
        const who = { userId: user?.id ?? null, email: user?.email ?? null };
        await tx.events.create(securityEvent('account_locked', now, { ...context, ...who, reason: 'too_many_failures' }));
      }
      if (i.report)
        await tx.events.create(securityEvent('account_locked', now, { ...context, userId: null, reason: 'ip_too_many_failures' }));
      return { account: a.report, ip: i.report };
    });
    if (reports.account) this.observer.onLock?.('account');
    if (reports.ip) this.observer.onLock?.('ip');
  }

  /**
   * The password was right: the attempt is given back (see the class comment for when, and when
   * the account's counter is cleared). Never refuses: the attempt was within the budget.
   */
  succeeded(ticket: ThrottleTicket, context: EventContext, user: { id: string; email: string }): Promise<void> {
    return this.finish(ticket, 'succeeded', context, user);
  }

  /**
   * The password was wrong (or the user unknown or disabled): the attempt was charged when it
   * was let in, so this only settles it, and records the lock it confirms (`account_locked`).
   */
  failed(ticket: ThrottleTicket, context: EventContext, user: { id: string; email: string } | null): Promise<void> {
    return this.finish(ticket, 'failed', context, user);
  }

  /** The check could not be carried out (the store failed): the attempt is given back, as if never let in. */
  cancelled(ticket: ThrottleTicket): Promise<void> {
    return this.finish(ticket, 'cancelled', {}, null);
  }

  /**
   * Operator action (`sei-auth user unlock --email`): clears the account's lock and counter. The
   * event names the account as the store spells it when it exists (`userId` is looked up when not
   * given), the normalized email otherwise.
   */
  async unlockAccount(email: string, userId?: string | null): Promise<boolean> {
    const now = this.clock.now();
    const user = await this.store.users.findByEmail(email);
    return this.store.transaction(async (tx) => {
      const existed = await tx.throttle.delete(accountKeyOf(email));
      if (existed) {
        await tx.events.create(
          securityEvent('account_unlocked', now, {
            userId: user?.id ?? userId ?? null,
            email: user?.email ?? emailKey(email),
            reason: 'admin',
          }),
        );
      }
      return existed;
    });
  }

  /** Operator action (`sei-auth user unlock --ip`): clears a client IP's lock and counter. */
  async unlockIp(ip: string): Promise<boolean> {
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      const existed = await tx.throttle.delete(ipKeyOf(ip));
      if (existed) await tx.events.create(securityEvent('account_unlocked', now, { ip, reason: 'admin' }));
      return existed;
    });
  }
}
