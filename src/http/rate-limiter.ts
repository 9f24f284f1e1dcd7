import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';

/**
 * Token buckets in process memory: `rate` requests per second on average, bursts up to `burst`.
 * Deliberately per instance and off the database — a rate limit must cost nearly nothing on the
 * hot path (one Map lookup and some arithmetic); with N instances the effective limit is N times
 * the setting. (Login throttling, which must hold across instances, lives in the store.)
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly clock: Clock;

  constructor(options: { rate: number; burst?: number; maxKeys?: number; clock: Clock }) {
    this.rate = options.rate;
    this.burst = options.burst ?? Math.max(1, options.rate * 2);
    this.maxKeys = options.maxKeys ?? 100_000;
    this.clock = options.clock;
  }

  /** The key's bucket, refilled up to now (a fresh, full one for a new key). */
  private refilled(key: string, now: number): { tokens: number; at: number } {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
      bucket.at = now;
    }
    return bucket;
  }

  private waitFor(tokens: number): number {
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.rate) * 1000);
  }

  /** 0 when the request may go ahead (one token taken), otherwise the milliseconds until it could. */
  take(key: string): number {
    const bucket = this.refilled(key, this.clock.now());
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return this.waitFor(bucket.tokens);
  }

  /** 0 when the bucket holds a whole token, otherwise the milliseconds until it will; takes nothing. */
  wait(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    return this.waitFor(Math.min(this.burst, bucket.tokens + ((this.clock.now() - bucket.at) / 1000) * this.rate));
  }

  /**
   * Takes one token after the fact, even from an empty bucket: requests let in before the bucket
   * ran dry (in parallel) still count, as a debt that refills at `rate`. The debt is capped at
   * `maxDebtSeconds` of refill, so a key is never refused for longer than that after its last charge.
   */
  charge(key: string, maxDebtSeconds: number): void {
    const bucket = this.refilled(key, this.clock.now());
    bucket.tokens = Math.max(-this.rate * maxDebtSeconds, bucket.tokens - 1);
  }

  /** Forgets buckets that have refilled (they equal a fresh one); keeps memory bounded. */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(key);
    }
    // Still full of busy keys: drop the oldest entries rather than grow without bound.
    if (this.buckets.size >= this.maxKeys) {
      let excess = this.buckets.size - Math.floor(this.maxKeys * 0.9);
      for (const key of this.buckets.keys()) {
        if (excess-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}

export interface RateLimitSettings {
  /**
   * requests per second per client IP that did not authenticate a client (a failed or missing
   * client authentication, or refused before it) on the OAuth endpoints, and login form submits;
   * 0 turns the limit off
   */
  perIp: number;
  /** requests per second per authenticated client on the OAuth endpoints; 0 turns the limit off */
  perClient: number;
}

/**
 * The defaults of RATE_LIMIT_PER_IP and RATE_LIMIT_PER_CLIENT (config.ts has the same values).
 * The per-client one is set from a measurement, several times what one client can get from one
 * instance (docs/security.md, item 5), so legitimate traffic never meets it.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perIp: 200, perClient: 100_000 };

/** An address over its budget is refused for at most this long after its last unauthenticated request. */
export const MAX_ADDRESS_DEBT_SECONDS = 60;

/**
 * The limits of the OAuth endpoints. Per address: a budget of requests that did not authenticate
 * a client, checked when a request arrives (before its body is read) and charged once it is
 * known that no client authenticated. Per client: charged only once the client authenticated,
 * so a request that merely claims a client id never spends that client's budget.
 */
export class RateLimits {
  private readonly ip: RateLimiter | undefined;
  private readonly client: RateLimiter | undefined;

  constructor(settings: RateLimitSettings, clock: Clock) {
    this.ip = settings.perIp > 0 ? new RateLimiter({ rate: settings.perIp, clock }) : undefined;
    this.client = settings.perClient > 0 ? new RateLimiter({ rate: settings.perClient, clock }) : undefined;
  }

  get perIpEnabled(): boolean {
    return this.ip !== undefined;
  }

  get perClientEnabled(): boolean {
    return this.client !== undefined;
  }

  private static refuse(waitMs: number): OAuthError {
    return new OAuthError('slow_down', 'Too many requests. Slow down and retry later.', {
      status: 429,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) },
    });
  }

  /** A request with no client to authenticate (the login form): one token from the address, now. */
  takeAddress(address: string): void {
    const wait = this.ip?.take(address) ?? 0;
    if (wait > 0) throw RateLimits.refuse(wait);
  }

  /**
   * On arrival: how long the address must wait (0: within its budget). An address over it is not
   * refused yet — contract §7: the per-IP limit never applies to a request whose client
   * authenticates — but {@link refuseAddress} answers any of its requests that fails to.
   */
  addressWait(address: string): number {
    return this.ip?.wait(address) ?? 0;
  }

  /** The 429 for a request from an address over its budget that did not authenticate a client. */
  refuseAddress(waitMs: number): OAuthError {
    return RateLimits.refuse(waitMs);
  }

  /** A request on the OAuth endpoints ended without an authenticated client. */
  chargeAddress(address: string): void {
    this.ip?.charge(address, MAX_ADDRESS_DEBT_SECONDS);
  }

  /** A client authenticated: its own budget is charged (429 when spent), its address's is not. */
  clientAuthenticated(clientId: string): void {
    const wait = this.client?.take(clientId) ?? 0;
    if (wait > 0) throw RateLimits.refuse(wait);
  }
}
