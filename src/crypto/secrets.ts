import * as crypto from 'node:crypto';

const { createHash, randomBytes, timingSafeEqual } = crypto;

/**
 * Opaque credentials: a kind prefix (so a leaked string says what it is, and secret scanners
 * can match it) and 256 bits from the CSPRNG. Only {@link hashSecret} of a credential is stored.
 */
export type SecretKind = 'access_token' | 'refresh_token' | 'authorization_code' | 'client_secret' | 'browser_session';

const PREFIX: Readonly<Record<SecretKind, string>> = {
  access_token: 'sat_',
  refresh_token: 'srt_',
  authorization_code: 'sac_',
  client_secret: 'scs_',
  browser_session: 'sbs_',
};

/**
 * Random bytes from the CSPRNG, fetched 4 KiB at a time and handed out once each: a call per
 * value costs far more than a slice of a pool (docs/benchmarks.md), and a login draws five. Each slice is zeroed as soon as it is encoded, so the pool holds no copy of
 * a value already handed out. Node's own randomUUID buffers the same way.
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function randomBase64url(bytes: number): string {
  if (bytes > POOL_SIZE) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  const encoded = slice.toString('base64url');
  slice.fill(0);
  return encoded;
}

/**
 * Tokens, codes, JWT ids, sessions and security events begin with the time they were made
 * (milliseconds since 1970, 12 lowercase hex digits), and their stored key ({@link storedKey})
 * with that prefix: each new row's key sorts after the previous one's, so every insert lands on
 * the right-most leaf of its index, a page that the inserts committed together share — instead of
 * a random leaf each (docs/benchmarks.md, "The write path"). The prefix is public, like a JWT's
 * `iat`; the 256 random bits after it are the secret. It is physical ordering, not logic: the
 * wall clock, not the injected one, and a clock step back only costs an insert off the edge.
 */
const TIME_ORDERED: ReadonlySet<SecretKind> = new Set(['access_token', 'refresh_token', 'authorization_code']);
const TIME_DIGITS = 12;
/** kind prefix + time + 43 characters of base64url: what {@link newSecret} makes for a time-ordered kind */
const TIME_ORDERED_SECRET_LENGTH = 4 + TIME_DIGITS + 43;
/** time + 32 characters of base64url: {@link newJwtId} */
const TIME_ORDERED_JTI_LENGTH = TIME_DIGITS + 32;
const HEX = /^[0-9a-f]+$/;

function timePrefix(): string {
  return Date.now().toString(16).padStart(TIME_DIGITS, '0');
}

export function newSecret(kind: SecretKind): string {
  return PREFIX[kind] + (TIME_ORDERED.has(kind) ? timePrefix() : '') + randomBase64url(32);
}

/** A JWT's `jti`: 192 random bits after its time prefix (unique without coordination, not guessable). */
export function newJwtId(): string {
  return timePrefix() + randomBase64url(24);
}

/**
 * The key a token, code or `jti` is stored and looked up by: its time prefix, then its hash. A
 * credential made before the prefix existed (another length) is keyed by its hash alone, as it
 * was stored, so it keeps working until it expires.
 */
export function storedKey(credential: string): string {
  const offset = credential.length === TIME_ORDERED_SECRET_LENGTH ? 4 : credential.length === TIME_ORDERED_JTI_LENGTH ? 0 : -1;
  if (offset < 0) return hashSecret(credential);
  const time = credential.slice(offset, offset + TIME_DIGITS);
  return HEX.test(time) ? time + hashSecret(credential) : hashSecret(credential);
}

/** A public identifier (client ids, user ids …): random, not secret. */
export function newId(prefix: string): string {
  return prefix + randomBase64url(12);
}

/** A public identifier of a row written on the hot path (sessions, security events): time-ordered, then 72 random bits. */
export function newTimeOrderedId(prefix: string): string {
  return prefix + timePrefix() + randomBase64url(9);
}

// crypto.hash (Node 20.12+): one call, no Hash object; every token request hashes one to three credentials.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/**
 * SHA-256 is enough for 256-bit random credentials: there is nothing to brute-force, so a slow
 * hash would only cost every token request (Hydra's bcrypt client secrets ran at ~87 req/s).
 * User passwords, which are guessable, use argon2id instead (crypto/passwords.ts).
 */
export function hashSecret(secret: string): string {
  return oneShotHash ? oneShotHash('sha256', secret, 'base64url') : createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time equality of two strings, whatever their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
