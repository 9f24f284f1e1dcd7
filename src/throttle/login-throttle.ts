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
 * - Per account and per client IP, only failures count (a busy office's or a batch job's
 *   successful logins never lock anything). A success clears the account's counter.
 * - Reaching the limit locks for `baseLockMs`, doubling with each further lock up to `maxLockMs`;
 *   a quiet `windowMs` after the last failure or lock forgets the history.
 * - While locked, attempts are refused with 429 without checking the password, and the answer
 *   is the same whether or not the email exists.
 * - Guesses fired in parallel all pass the first check before any of them fails, so the lock is
 *   checked again after the verify, under the counter's row lock: a wrong guess that raced past
 *   the lock is answered 429 like the refused ones (so a burst gets at most `accountMaxFailures`
 *   honest answers, not one per request) and is not counted again; a right password found by
 *   such a guess is refused all the same, and the attacker learns nothing from either.
 * - Account keys are a hash of the normalized email, so what someone typed into the email field
 *   (sometimes a password) is never stored in the throttle table.
 */
export interface ThrottlePolicy {
  accountMaxFailures: number;
  ipMaxFailures: number;
  windowMs: number;
  baseLockMs: number;
  maxLockMs: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  accountMaxFailures: 5,
  ipMaxFailures: 50,
  windowMs: 15 * 60_000,
  baseLockMs: 60_000,
  maxLockMs: 15 * 60_000,
};

export interface ThrottleObserver {
  /** called once per lock that starts and per refused attempt (for metrics) */
  onLock?(kind: 'account' | 'ip'): void;
  onRefused?(): void;
}

export interface ThrottleTicket {
  accountKey: string;
  ip: string;
}

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

  /** One more failure on a counter, at `now`; true when this failure starts a lock. */
  private charge(state: ThrottleState, max: number, now: number): boolean {
    const quietSince = Math.max(state.lastFailureAt, state.lockedUntil);
    if (now - quietSince > this.policy.windowMs) {
      state.failures = 0;
      state.locks = 0;
    }
    state.failures += 1;
    state.lastFailureAt = now;
    if (state.failures < max) return false;
    const lockMs = Math.min(this.policy.maxLockMs, this.policy.baseLockMs * 2 ** Math.min(state.locks, 30));
    state.lockedUntil = now + lockMs;
    state.locks += 1;
    return true;
  }

  private refusal(until: number, now: number): OAuthError {
    this.observer.onRefused?.();
    const seconds = Math.max(1, Math.ceil((until - now) / 1000));
    return new OAuthError('slow_down', 'Too many failed logins. Try again later.', { headers: { 'Retry-After': String(seconds) } });
  }

  /** The later lock of an account and an IP, 0 when neither is locked at `now`. */
  private async lockedUntil(accountKey: string, ip: string, now: number): Promise<number> {
    const [account, address] = await Promise.all([this.store.throttle.find(accountKey), this.store.throttle.find(ipKeyOf(ip))]);
    const until = Math.max(account?.lockedUntil ?? 0, address?.lockedUntil ?? 0);
    return until > now ? until : 0;
  }

  /**
   * Before a password check: refuses while the account or the IP is locked.
   * @throws OAuthError slow_down (429, Retry-After)
   */
  async begin(email: string, ip: string): Promise<ThrottleTicket> {
    const now = this.clock.now();
    const accountKey = accountKeyOf(email);
    const until = await this.lockedUntil(accountKey, ip, now);
    if (until) throw this.refusal(until, now);
    return { accountKey, ip };
  }

  /**
   * The password was right. If the account or IP got locked while this attempt was being
   * verified, it is refused all the same; otherwise the account's history is forgotten.
   * @throws OAuthError slow_down (429, Retry-After)
   */
  async succeeded(ticket: ThrottleTicket): Promise<void> {
    const now = this.clock.now();
    const until = await this.lockedUntil(ticket.accountKey, ticket.ip, now);
    if (until) throw this.refusal(until, now);
    await this.store.throttle.delete(ticket.accountKey);
  }

  /**
   * The password was wrong (or the user unknown or disabled): one failure for the account and the
   * IP — unless either got locked while this attempt was being verified (a parallel burst): then
   * the attempt is refused like those the lock stopped at the door, and not counted.
   * @throws OAuthError slow_down (429, Retry-After) when the attempt raced past a lock
   */
  async failed(ticket: ThrottleTicket, context: EventContext, user: { id: string; email: string } | null): Promise<void> {
    const now = this.clock.now();
    const userId = user?.id ?? null;
    const email = user?.email ?? null;
    const outcome = await this.store.transaction(async (tx: StoreOps) => {
      // Always the account row first, then the IP row: one lock order, no deadlock between instances.
      const account = await tx.throttle.lock(ticket.accountKey);
      const address = await tx.throttle.lock(ipKeyOf(ticket.ip));
      const lockedUntil = Math.max(account.lockedUntil, address.lockedUntil);
      if (lockedUntil > now) return { refusedUntil: lockedUntil, accountLocked: false, ipLocked: false };
      const accountLocked = this.charge(account, this.policy.accountMaxFailures, now);
      await tx.throttle.save(account);
      const ipLocked = this.charge(address, this.policy.ipMaxFailures, now);
      await tx.throttle.save(address);
      if (accountLocked)
        await tx.events.create(securityEvent('account_locked', now, { ...context, userId, email, reason: 'too_many_failures' }));
      if (ipLocked)
        await tx.events.create(securityEvent('account_locked', now, { ...context, userId: null, reason: 'ip_too_many_failures' }));
      return { refusedUntil: 0, accountLocked, ipLocked };
    });
    if (outcome.accountLocked) this.observer.onLock?.('account');
    if (outcome.ipLocked) this.observer.onLock?.('ip');
    if (outcome.refusedUntil) throw this.refusal(outcome.refusedUntil, now);
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
