import { randomBytes } from 'node:crypto';
import {
  type CryptoKey,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import type { Clock } from '../clock.ts';
import { AdminError } from '../common/admin-error.ts';
import { type ChangeContext, changeFields } from '../events/change-context.ts';
import { securityEvent } from '../events/security-event.ts';
import type { SigningKeyRecord, Store } from '../store/store.ts';
import { type JwtSigner, SIGNING_ALGORITHMS, type SigningAlgorithm } from './jwt-signer.ts';
import type { KeyEncryptionKey } from './key-encryption-key.ts';
import { scheduleKeys } from './key-schedule.ts';
import { openPrivateJwk, sealPrivateJwk } from './key-sealing.ts';

export type KeyStatus = 'pending' | 'active' | 'retiring' | 'retired';

/** One key as `sei-auth keys list` shows it (contract §6). */
export interface KeyView {
  kid: string;
  alg: string;
  status: KeyStatus;
  /** ISO 8601 */
  created_at: string;
  /** ISO 8601: from when it signs */
  activates_at: string;
}

/** A public key as the JWKS publishes it (RFC 7517 §4). */
export type PublicJwk = JWK & { kid: string; alg: string; use: 'sig' };

export interface KeyServiceDeps {
  store: Store;
  clock: Clock;
  /** The key-encryption key, resolved on first use (it may throw KeyEncryptionKeyError). */
  keyEncryptionKey: () => KeyEncryptionKey;
  /** The JWKS Cache-Control max-age, seconds: the default delay before a new key signs. */
  jwksMaxAgeSeconds: number;
  /** The longest lifetime an access token can have (the server's and every client's TTL), ms. */
  longestTokenLifetimeMs: () => Promise<number>;
  /** How long a loaded key set is used before it is read again (default 1 s of the clock). */
  cacheMs?: number;
}

/** What was read of the store, and when. */
interface KeySet {
  loadedAt: number;
  records: SigningKeyRecord[];
  /** read only when a superseded key needs it */
  longestTokenMs: number;
}

interface StatusedKey {
  record: SigningKeyRecord;
  status: KeyStatus;
}

/** A signature waiting for its batch to start (see KeyService.sign). */
interface PendingSignature {
  payload: JWTPayload;
  typ: string;
  alg: SigningAlgorithm;
  resolve: (jwt: string) => void;
  reject: (error: unknown) => void;
}

export const DEFAULT_CACHE_MS = 1000;

/** Records that a key of an algorithm has been made (server_secrets), so the first key is made once. */
const madeMarker = (alg: string) => `signing_key_made:${alg}`;

/**
 * Made on first start: ES256 signs access tokens (contract §6); RS256 signs ID tokens, the one
 * algorithm every OpenID Connect relying party supports (OpenID Connect Discovery 1.0 §3).
 */
const INITIAL_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];

const PUBLISHED: ReadonlySet<KeyStatus> = new Set(['pending', 'active', 'retiring']);

function isSigningAlgorithm(alg: string): alg is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * The signing keys (contract §6): made, rotated and retired here, kept in the store with their
 * private parts sealed, published as a JWKS, and used to sign and recognise JWTs.
 *
 * Several instances share the keys through the store. Signing must not read the database per
 * token, so an instance uses the key set it read for up to `cacheMs` (1 s) of its clock. The
 * statuses are computed from the cached rows at the current time, so a key activating at a
 * known time is taken up on time everywhere; only new rows and retirements wait for a reload.
 * Hence: a rotation with --activate-in ≥ 1 s is seen by every instance before it signs, and
 * `retire` or `--activate-in 0` take effect on every instance within a second. A superseded key
 * stays published for the longest token lifetime plus that second after its successor
 * activated, which covers a token an instance signed with it just before it noticed.
 */
export class KeyService implements JwtSigner {
  private readonly deps: KeyServiceDeps;
  private readonly cacheMs: number;
  private cached: KeySet | undefined;
  private loading: Promise<KeySet> | undefined;
  /** Decrypted private keys and imported public keys, by kid (a key's material never changes). */
  private readonly privateKeys = new Map<string, Promise<CryptoKey>>();
  private readonly publicKeys = new Map<string, Promise<CryptoKey>>();
  /** Signatures asked for since the last batch started (see sign). */
  private pending: PendingSignature[] = [];

  constructor(deps: KeyServiceDeps) {
    this.deps = deps;
    this.cacheMs = deps.cacheMs ?? DEFAULT_CACHE_MS;
  }

  /**
   * Makes the first key of each algorithm the server signs with by default unless one was ever
   * made (once per database, even with several processes starting at once): ES256 for access
   * tokens (contract §6) and RS256 for ID tokens (contract §11). Then opens every published private
   * key — so a missing or wrong key-encryption key stops start-up rather than the first token request.
   */
  async ensureInitialKey(): Promise<void> {
    const kek = this.deps.keyEncryptionKey();
    const { store, clock } = this.deps;
    const existing = new Set((await store.signingKeys.list()).map((r) => r.alg));
    const missing = INITIAL_ALGORITHMS.filter((alg) => !existing.has(alg));
    const records = await Promise.all(missing.map((alg) => this.makeKey(alg, clock.now(), kek)));
    for (const record of records) {
      await store.transaction(async (tx) => {
        // Processes starting at once race for the marker; only its winner writes its key.
        if (await tx.serverSecrets.create(madeMarker(record.alg), record.kid, record.createdAt)) await tx.signingKeys.create(record);
      });
    }
    const keys = this.statuses(await this.reload());
    await Promise.all(keys.filter((k) => PUBLISHED.has(k.status)).map((k) => this.privateKey(k.record)));
  }

  /** Every key, oldest activation first, with its status now (read from the store, not the cache). */
  async list(): Promise<KeyView[]> {
    return this.statuses(await this.reload()).map(({ record, status }) => ({
      kid: record.kid,
      alg: record.alg,
      status,
      created_at: new Date(record.createdAt).toISOString(),
      activates_at: new Date(record.activatesAt).toISOString(),
    }));
  }

  /**
   * Makes a key of `alg`, published at once and signing `activateInSeconds` later (default: the
   * JWKS max-age, so that verifiers caching the JWKS know it before they meet it; 0 for an emergency).
   * @throws AdminError for an unknown algorithm or a delay that is not a whole number of seconds ≥ 0
   */
  async rotate(
    options: { alg?: string; activateInSeconds?: number } = {},
    ctx?: ChangeContext,
  ): Promise<{ kid: string; alg: SigningAlgorithm; activatesAt: number }> {
    const alg = options.alg ?? 'ES256';
    if (!isSigningAlgorithm(alg)) throw new AdminError(`unknown signing algorithm "${alg}": use one of ${SIGNING_ALGORITHMS.join(', ')}`);
    const delay = options.activateInSeconds ?? this.deps.jwksMaxAgeSeconds;
    if (!Number.isSafeInteger(delay) || delay < 0) throw new AdminError('--activate-in must be a whole number of seconds, 0 or more');
    const now = this.deps.clock.now();
    const record = await this.makeKey(alg, now, this.deps.keyEncryptionKey(), now + delay * 1000);
    await this.deps.store.transaction(async (tx) => {
      // A key of this algorithm now exists: ensureInitialKey must not make another first one.
      await tx.serverSecrets.create(madeMarker(alg), record.kid, now);
      await tx.signingKeys.create(record);
      if (ctx)
        await tx.events.create(securityEvent('key_rotated', now, { ...changeFields(ctx), target: `key:${record.kid}`, reason: alg }));
    });
    this.cached = undefined;
    return { kid: record.kid, alg, activatesAt: record.activatesAt };
  }

  /**
   * Takes a key out of the JWKS at once: tokens it signed stop verifying. The key that signs
   * now cannot be retired (nothing would sign): rotate first, with --activate-in 0 in an emergency.
   * @throws AdminError for an unknown kid, a key already retired, or the active key
   */
  async retire(kid: string, ctx?: ChangeContext): Promise<void> {
    const key = this.statuses(await this.reload()).find((k) => k.record.kid === kid);
    if (!key) throw new AdminError(`no signing key with kid ${kid} (see sei-auth keys list)`);
    if (key.status === 'retired') throw new AdminError(`signing key ${kid} is already retired`);
    if (key.status === 'active') {
      throw new AdminError(
        `signing key ${kid} is the active ${key.record.alg} key: rotate first (sei-auth keys rotate --alg ${key.record.alg} --activate-in 0 in an emergency), then retire it`,
      );
    }
    const now = this.deps.clock.now();
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.signingKeys.retire(kid, now))) throw new AdminError(`signing key ${kid} is already retired`);
      if (ctx) await tx.events.create(securityEvent('key_retired', now, { ...changeFields(ctx), target: `key:${kid}` }));
    });
    this.cached = undefined;
  }

  /** The JWK Set (RFC 7517 §5): the public keys of every pending, active and retiring key. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    const keys = this.statuses(await this.current()).filter((k) => PUBLISHED.has(k.status));
    return { keys: keys.map((k) => JSON.parse(k.record.publicJwk) as PublicJwk) };
  }

  /**
   * The signatures asked for during one turn of the event loop start together, once its I/O
   * callbacks have run (setImmediate). WebCrypto makes each signature a job on libuv's thread
   * pool; the requests of one turn each reach here from their own callback, and started one at a
   * time their hand-offs to the pool and back cost about as much CPU again as the signatures.
   * A signature is awaited after the token's transaction commits, so starting it a few
   * callbacks later costs no latency.
   */
  sign(payload: JWTPayload, options: { typ: string; alg?: SigningAlgorithm }): Promise<string> {
    return new Promise((resolve, reject) => {
      const first = this.pending.length === 0;
      this.pending.push({ payload, typ: options.typ, alg: options.alg ?? 'ES256', resolve, reject });
      if (first) setImmediate(() => void this.signPending());
    });
  }

  private async signPending(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    let keys: StatusedKey[];
    try {
      keys = this.statuses(await this.current());
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    // One key lookup per key of the batch, not per signature.
    const byKey = new Map<SigningKeyRecord, PendingSignature[]>();
    for (const p of batch) {
      const active = keys.find((k) => k.status === 'active' && k.record.alg === p.alg);
      if (!active) {
        p.reject(new Error(`no active ${p.alg} signing key (sei-auth keys rotate --alg ${p.alg})`));
        continue;
      }
      const group = byKey.get(active.record);
      if (group) group.push(p);
      else byKey.set(active.record, [p]);
    }
    for (const [record, group] of byKey) {
      this.privateKey(record).then(
        (key) => {
          for (const p of group) {
            try {
              new SignJWT(p.payload).setProtectedHeader({ alg: p.alg, kid: record.kid, typ: p.typ }).sign(key).then(p.resolve, p.reject);
            } catch (error) {
              // A payload jose refuses at once fails that signature alone, not the rest of the batch.
              p.reject(error);
            }
          }
        },
        (error: unknown) => {
          for (const p of group) p.reject(error);
        },
      );
    }
  }

  async verifyOwn(token: string): Promise<JWTPayload | undefined> {
    try {
      const header = decodeProtectedHeader(token);
      const key = this.statuses(await this.current()).find((k) => PUBLISHED.has(k.status) && k.record.kid === header.kid);
      // RFC 8725 §3.1: the algorithm is the key's own, never the one the token asks for (no `none`, no HMAC).
      if (!key || header.alg !== key.record.alg) return undefined;
      // Signature only: expiry and the other claims are the caller's (introspection's) business.
      const { payload } = await compactVerify(token, await this.publicKey(key.record), { algorithms: [key.record.alg] });
      const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
      return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as JWTPayload) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The key set, read again once it is older than cacheMs (or the clock went back). */
  private current(): Promise<KeySet> {
    const now = this.deps.clock.now();
    const cached = this.cached;
    if (cached && now - cached.loadedAt < this.cacheMs && now >= cached.loadedAt) return Promise.resolve(cached);
    return this.reload();
  }

  private reload(): Promise<KeySet> {
    this.loading ??= (async () => {
      try {
        const loadedAt = this.deps.clock.now();
        const records = await this.deps.store.signingKeys.list();
        // Only a superseded key needs the longest token lifetime (a read of every client).
        const unretired = records.filter((r) => r.retiredAt === null && r.activatesAt <= loadedAt + this.cacheMs);
        const algs = new Set(unretired.map((r) => r.alg));
        const longestTokenMs = unretired.length > algs.size ? await this.deps.longestTokenLifetimeMs() : 0;
        this.cached = { loadedAt, records, longestTokenMs };
        return this.cached;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private statuses(set: KeySet): StatusedKey[] {
    const now = this.deps.clock.now();
    return scheduleKeys(set.records, now).map(({ record, state, supersededAt }): StatusedKey => {
      if (state !== 'superseded') return { record, status: state };
      // Tokens it signed until its successor activated (or until an instance noticed, within
      // cacheMs) are valid for at most the longest lifetime after that.
      const leavesAt = (supersededAt ?? now) + set.longestTokenMs + this.cacheMs;
      return { record, status: now < leavesAt ? 'retiring' : 'retired' };
    });
  }

  private async makeKey(alg: SigningAlgorithm, now: number, kek: KeyEncryptionKey, activatesAt = now): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    // 128 random bits, base64url: unique and says nothing about the key.
    const kid = randomBytes(16).toString('base64url');
    const publicJwk: PublicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateJwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg });
    return {
      kid,
      alg,
      publicJwk: JSON.stringify(publicJwk),
      privateJwkSealed: sealPrivateJwk(kek, kid, privateJwk),
      createdAt: now,
      activatesAt,
      retiredAt: null,
    };
  }

  private privateKey(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = this.privateKeys.get(record.kid);
    if (!key) {
      key = (async () => {
        const jwk = JSON.parse(openPrivateJwk(this.deps.keyEncryptionKey(), record.kid, record.privateJwkSealed)) as JWK;
        return (await importJWK(jwk, record.alg)) as CryptoKey;
      })();
      // A failure (a wrong key-encryption key) is not remembered: the next call tries again.
      key.catch(() => this.privateKeys.delete(record.kid));
      this.privateKeys.set(record.kid, key);
    }
    return key;
  }

  private publicKey(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = this.publicKeys.get(record.kid);
    if (!key) {
      key = importJWK(JSON.parse(record.publicJwk) as JWK, record.alg) as Promise<CryptoKey>;
      key.catch(() => this.publicKeys.delete(record.kid));
      this.publicKeys.set(record.kid, key);
    }
    return key;
  }
}
