import {
  createRemoteJWKSet,
  customFetch,
  type ExportedJWKSCache,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  jwksCache,
} from 'jose';
import type { ResolvedOptions } from './options.js';

/** Header texts remembered per JWKS: a few per published key in practice. */
const MAX_RESOLVED = 64;

type ResolvedKey = Awaited<ReturnType<ReturnType<typeof createRemoteJWKSet>>>;

/** Thrown by JwksSource.getKey when the JWKS could not be had: the verifier answers 503, never 401. */
export class KeySourceUnavailable extends Error {
  override readonly name = 'KeySourceUnavailable';
}

/**
 * The issuer's JWKS through jose's remote key set, which caches it for `cacheMaxAgeMs`, refetches
 * it on an unknown `kid` at most once per `cooldownMs`, and coalesces concurrent fetches. On top
 * of it: the set of kids last published, so that the verified-token cache can drop the tokens of
 * a key that left the JWKS (see sync()).
 */
export class JwksSource {
  readonly #remote: ReturnType<typeof createRemoteJWKSet>;
  /**
   * jose writes every JWKS it fetches here (`uat`: when). Read instead of remote.jwks(), which
   * returns a structuredClone on every call — far too slow for every verification.
   */
  readonly #fetched: Partial<ExportedJWKSCache> = {};
  #seenAt: number | undefined;
  #kids: ReadonlySet<string> = new Set();
  readonly #onChange: (kids: ReadonlySet<string>) => void;
  readonly #backgroundEveryMs: number;
  #lastBackground = Number.NEGATIVE_INFINITY;
  readonly #maxAgeMs: number;
  /** keys jose resolved from the current JWKS, by the protected header's text (so by alg and kid): skips jose's per-call key selection; emptied with every new JWKS */
  readonly #resolved = new Map<string, ResolvedKey>();

  constructor(o: ResolvedOptions, onChange: (kids: ReadonlySet<string>) => void) {
    this.#onChange = onChange;
    this.#maxAgeMs = o.jwks.cacheMaxAgeMs;
    // At most one background fetch per cooldown: an unreachable JWKS must not be asked on every hit.
    this.#backgroundEveryMs = Math.max(1000, o.jwks.cooldownMs);
    this.#remote = createRemoteJWKSet(o.jwksUri, {
      cooldownDuration: o.jwks.cooldownMs,
      cacheMaxAge: o.jwks.cacheMaxAgeMs,
      timeoutDuration: o.jwks.timeoutMs,
      [customFetch]: (url, init) => o.fetch(url, init),
      [jwksCache]: this.#fetched as Record<string, never>,
    });
  }

  /**
   * The key of a token already met (same alg and kid) while the JWKS is fresh, found from its
   * header alone: handing jose the key itself rather than getKey spares its per-call key selection
   * and function-key path (about 10 µs a verification). undefined: ask getKey.
   */
  knownKey(token: string): ResolvedKey | undefined {
    const uat = this.#fetched.uat;
    if (uat === undefined || Date.now() >= uat + this.#maxAgeMs || this.#resolved.size === 0) return undefined;
    // The protected header's exact text: same text, same alg and kid, same key.
    return this.#resolved.get(token.slice(0, token.indexOf('.')));
  }

  /**
   * jose's key lookup (which refetches a stale JWKS, or one without the kid, within its cooldown),
   * remembering what it resolves. Any failure to obtain the JWKS (network, timeout, non-200, bad
   * JSON) becomes KeySourceUnavailable.
   */
  readonly getKey = (header: JWSHeaderParameters, input: FlattenedJWSInput) => this.#resolve(header, input);

  async #resolve(header: JWSHeaderParameters, input: FlattenedJWSInput) {
    try {
      const key = await this.#remote(header, input);
      this.sync();
      // Bounded: header texts are the caller's to vary (an extra member, say), keys are not.
      if (header.kid !== undefined && input.protected !== undefined && this.#resolved.size < MAX_RESOLVED)
        this.#resolved.set(input.protected, key);
      return key;
    } catch (error) {
      this.sync();
      // A JWKS that was fetched but holds no (or more than one) matching key: the token's fault.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeySourceUnavailable('the JWKS could not be fetched', { cause: error });
    }
  }

  /** Whether `kid` was in the JWKS last fetched. */
  has(kid: string): boolean {
    return this.#kids.has(kid);
  }

  /** Notices a newly fetched JWKS and reports its kids; cheap enough for every verification (one comparison). */
  sync(): void {
    const { uat, jwks } = this.#fetched;
    if (uat === this.#seenAt || jwks === undefined) return;
    this.#seenAt = uat;
    this.#resolved.clear();
    this.#kids = new Set(jwks.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));
    this.#onChange(this.#kids);
  }

  /**
   * Tokens served from the verified-token cache never reach jose, which only refetches when asked
   * for a key: so a hit on a stale JWKS starts a fetch in the background (one at a time), and the
   * kids it brings prune the cache. A failed fetch changes nothing (and is retried on a later hit).
   */
  refreshIfStale(): void {
    // jose's clock, not the verifier's: the JWKS timestamps are jose's.
    const now = Date.now();
    const uat = this.#fetched.uat;
    if (uat === undefined || now < uat + this.#maxAgeMs) return;
    const remote = this.#remote;
    if (remote.fresh || remote.reloading) return;
    if (now - this.#lastBackground < this.#backgroundEveryMs) return;
    this.#lastBackground = now;
    remote.reload().then(
      () => this.sync(),
      () => {},
    );
  }
}
