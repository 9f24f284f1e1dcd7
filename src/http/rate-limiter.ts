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

/**
 * Which clients authenticated from which address lately. While an address is over its budget of
 * unauthenticated requests, these clients are still let in to authenticate: a resource server
 * keeps working when someone else behind the same NAT fails over and over.
 */
class KnownClients {
  private readonly byAddress = new Map<string, Map<string, number>>();
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private static readonly MAX_ADDRESSES = 100_000;
  private static readonly MAX_CLIENTS_PER_ADDRESS = 1_000;

  constructor(ttlMs: number, clock: Clock) {
    this.ttlMs = ttlMs;
    this.clock = clock;
  }

  record(address: string, clientId: string): void {
    const now = this.clock.now();
    let clients = this.byAddress.get(address);
    if (!clients) {
      if (this.byAddress.size >= KnownClients.MAX_ADDRESSES) this.sweep(now);
      clients = new Map();
      this.byAddress.set(address, clients);
    } else if (clients.size >= KnownClients.MAX_CLIENTS_PER_ADDRESS && !clients.has(clientId)) {
      clients.delete(clients.keys().next().value!);
    }
    clients.set(clientId, now);
  }

  has(address: string, clientId: string): boolean {
    const seen = this.byAddress.get(address)?.get(clientId);
    return seen !== undefined && this.clock.now() - seen < this.ttlMs;
  }

  any(address: string): boolean {
    const clients = this.byAddress.get(address);
    if (!clients) return false;
    const now = this.clock.now();
    for (const seen of clients.values()) if (now - seen < this.ttlMs) return true;
    return false;
  }

  private sweep(now: number): void {
    for (const [address, clients] of this.byAddress) {
      for (const [clientId, seen] of clients) if (now - seen >= this.ttlMs) clients.delete(clientId);
      if (clients.size === 0) this.byAddress.delete(address);
    }
    if (this.byAddress.size >= KnownClients.MAX_ADDRESSES) {
      let excess = this.byAddress.size - Math.floor(KnownClients.MAX_ADDRESSES * 0.9);
      for (const address of this.byAddress.keys()) {
        if (excess-- <= 0) break;
        this.byAddress.delete(address);
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
/** How long a client that authenticated from an address still gets in while that address is over budget. */
export const KNOWN_CLIENT_MS = 3_600_000;

/**
 * The limits of the OAuth endpoints. Per address: a budget of requests that did not authenticate
 * a client, checked when a request arrives (before its body is read) and charged once it is
 * known that no client authenticated. Per client: charged only once the client authenticated,
 * so a request that merely claims a client id never spends that client's budget.
 */
export class RateLimits {
  private readonly ip: RateLimiter | undefined;
  private readonly client: RateLimiter | undefined;
  private readonly known: KnownClients | undefined;

  constructor(settings: RateLimitSettings, clock: Clock) {
    this.ip = settings.perIp > 0 ? new RateLimiter({ rate: settings.perIp, clock }) : undefined;
    this.client = settings.perClient > 0 ? new RateLimiter({ rate: settings.perClient, clock }) : undefined;
    this.known = this.ip ? new KnownClients(KNOWN_CLIENT_MS, clock) : undefined;
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
   * On arrival. True: the address is within its budget. False: it is over, but clients have
   * authenticated from it lately; {@link admitKnownClient} decides once the client id is read.
   * Throws 429 when it is over and no client has.
   */
  admitAddress(address: string): boolean {
    const wait = this.ip?.wait(address) ?? 0;
    if (wait === 0) return true;
    if (this.known?.any(address)) return false;
    throw RateLimits.refuse(wait);
  }

  /** For an address over its budget: only a client that authenticated from it lately gets in. */
  admitKnownClient(address: string, clientId: string | undefined): void {
    if (clientId !== undefined && this.known?.has(address, clientId)) return;
    const wait = this.ip?.wait(address) ?? 0;
    if (wait > 0) throw RateLimits.refuse(wait);
  }

  /** A request on the OAuth endpoints ended without an authenticated client. */
  chargeAddress(address: string): void {
    this.ip?.charge(address, MAX_ADDRESS_DEBT_SECONDS);
  }

  /** A client authenticated: its own budget is charged (429 when spent), its address's is not. */
  clientAuthenticated(address: () => string, clientId: string): void {
    this.known?.record(address(), clientId);
    const wait = this.client?.take(clientId) ?? 0;
    if (wait > 0) throw RateLimits.refuse(wait);
  }
}
