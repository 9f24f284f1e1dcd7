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

  /** 0 when the request may go ahead, otherwise the milliseconds until it could. */
  take(key: string): number {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.rate) * 1000);
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
  /** requests per second per client IP on the OAuth endpoints; 0 turns the limit off */
  perIp: number;
  /** requests per second per client id on the OAuth endpoints; 0 turns the limit off */
  perClient: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perIp: 200, perClient: 1000 };

/** The two limits the OAuth endpoints apply: per client IP (before parsing) and per client id. */
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

  checkIp(ip: string): void {
    const wait = this.ip?.take(ip) ?? 0;
    if (wait > 0) throw RateLimits.refuse(wait);
  }

  checkClient(clientId: string): void {
    const wait = this.client?.take(clientId) ?? 0;
    if (wait > 0) throw RateLimits.refuse(wait);
  }
}
