import { LruCache } from './lru-cache.js';
import type { ResolvedOptions } from './options.js';
import { TokenError } from './token-error.js';
import { optionalString, splitScope, type VerifiedToken, VouchedToken } from './verified-token.js';

/** A cached answer: the token it vouches for, or why it is refused (an inactive answer, cached briefly). */
type Answer = { active: true; token: VerifiedToken } | { active: false; reason: string };

/** RFC 6749 Appendix B: client credentials in HTTP Basic are form-encoded first (RFC 6749 §2.3.1). */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}

function audienceIncludes(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

/**
 * Opaque tokens: RFC 7662 introspection at the issuer, with a bounded LRU cache of the answers
 * (active ones never past the token's exp, inactive ones for `negativeTtlMs`) and one request in
 * flight per token however many callers present it at once. A failure to get an answer (network,
 * timeout, non-200, malformed JSON) is a 503 and is never cached.
 */
export class Introspection {
  readonly #o: ResolvedOptions;
  readonly #cache: LruCache<Answer>;
  readonly #inflight = new Map<string, Promise<Answer>>();
  readonly #authorization: string | undefined;

  constructor(o: ResolvedOptions) {
    this.#o = o;
    this.#cache = new LruCache(o.introspection.cacheSize);
    this.#authorization =
      o.clientId !== undefined && o.clientSecret !== undefined ? basicAuthorization(o.clientId, o.clientSecret) : undefined;
  }

  /** whether answers are cached at all (cacheSize > 0) */
  get caching(): boolean {
    return this.#cache.enabled;
  }

  clear(): void {
    this.#cache.clear();
  }

  /** The cached answer for the token whose hash is `key`, if any: a synchronous fast path. */
  cached(key: string): VerifiedToken | undefined {
    if (!this.#cache.enabled) return undefined;
    const answer = this.#cache.get(key, this.#o.now());
    if (answer === undefined) return undefined;
    if (answer.active) return answer.token;
    throw new TokenError('invalid_token', answer.reason, { realm: this.#o.realm });
  }

  /** Asks the issuer (the caller looked in the cache already), one request per token at a time. */
  async verify(token: string, key: string): Promise<VerifiedToken> {
    if (this.#authorization === undefined)
      throw new TokenError('invalid_token', 'opaque tokens are not accepted here (no introspection credentials)', { realm: this.#o.realm });
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#ask(token, key).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    const answer = await pending;
    if (answer.active) return answer.token;
    throw new TokenError('invalid_token', answer.reason, { realm: this.#o.realm });
  }

  async #ask(token: string, key: string): Promise<Answer> {
    const o = this.#o;
    const body = await this.#post(token);
    const answer = this.#judge(body);
    const now = o.now();
    if (answer.active) {
      // Never past exp: an answer is only reused while the token itself is still valid.
      const until = Math.min(now + o.introspection.cacheTtlMs, answer.token.expiresAt * 1000);
      if (until > now) this.#cache.set(key, answer, until);
    } else {
      this.#cache.set(key, answer, now + o.introspection.negativeTtlMs);
    }
    return answer;
  }

  async #post(token: string): Promise<Record<string, unknown>> {
    const o = this.#o;
    const unavailable = (why: string, cause?: unknown) =>
      new TokenError('temporarily_unavailable', `token introspection failed: ${why}`, {
        realm: o.realm,
        retryAfterSeconds: o.retryAfterSeconds,
        cause,
      });
    let response: Response;
    let text: string;
    try {
      response = await o.fetch(o.introspectionEndpoint, {
        method: 'POST',
        headers: {
          authorization: this.#authorization!,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(o.introspection.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw unavailable(timedOut ? 'timeout' : 'the issuer is unreachable', error);
    }
    // A 401 here means this resource server's own credentials are refused: still not the token's fault.
    if (response.status !== 200) throw unavailable(`HTTP ${response.status} from the issuer`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw unavailable('the answer is not JSON', error);
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      typeof (parsed as { active?: unknown }).active !== 'boolean'
    )
      throw unavailable('the answer is not an introspection response');
    return parsed as Record<string, unknown>;
  }

  /** RFC 7662 §2.2 answer → the token, or why it is refused. */
  #judge(a: Record<string, unknown>): Answer {
    const o = this.#o;
    const refuse = (reason: string): Answer => ({ active: false, reason });
    if (a.active !== true) return refuse('the token is not active (expired, revoked or unknown)');
    // A refresh token is not an access token (RFC 6749 §1.5), whatever the issuer says of it.
    if (a.token_type === 'refresh_token') return refuse('a refresh token is not an access token');
    // RFC 7662 §4: the resource server must check that the token was meant for it.
    if (a.iss !== o.issuer) return refuse("the token's issuer is not accepted");
    if (!audienceIncludes(a.aud, o.audience)) return refuse('the token is not meant for this audience');
    if (typeof a.sub !== 'string' || a.sub === '' || typeof a.client_id !== 'string' || typeof a.exp !== 'number')
      return refuse('the introspection answer lacks sub, client_id or exp');
    // The same leeway as for a JWT's exp (RFC 9068 §4), should the two clocks disagree a little.
    if (a.exp <= o.now() / 1000 - o.clockTolerance) return refuse('the token has expired');
    return {
      active: true,
      token: new VouchedToken(
        {
          sub: a.sub,
          email: optionalString(a.email),
          clientId: a.client_id,
          scope: splitScope(a.scope),
          sessionId: optionalString(a.sid),
          expiresAt: a.exp,
          format: 'opaque' as const,
        },
        o.realm,
      ),
    };
  }
}
