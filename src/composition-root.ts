/**
 * The one place that wires sei-auth: config → store → services → grants, built once and handed
 * to each face — the HTTP app (http/app.ts via server.ts) and the CLI (cli/main.ts). A face
 * receives a {@link Platform} and never builds a service of its own.
 */
import { AccountService } from './accounts/account-service.ts';
import type { PasswordLoginDeps, PasswordVerifier } from './accounts/password-login.ts';
import { AdminApi } from './admin/admin-api.ts';
import { AdminAuthenticator } from './admin/admin-authenticator.ts';
import { ClientService } from './clients/client-service.ts';
import { type Clock, systemClock } from './clock.ts';
import { type Config, type Env, loadConfig } from './config.ts';
import { EventService } from './events/event-service.ts';
import { authorizationCodeGrant } from './grants/authorization-code-grant.ts';
import { clientCredentialsGrant } from './grants/client-credentials-grant.ts';
import { type Grant, grantRegistry } from './grants/grant.ts';
import { passwordGrant } from './grants/password-grant.ts';
import { refreshTokenGrant } from './grants/refresh-token-grant.ts';
import { samlBearerGrant } from './grants/saml-bearer-grant.ts';
import { IdpService } from './idps/idp-service.ts';
import type { JwtSigner } from './keys/jwt-signer.ts';
import { type KeyEncryptionKey, KeyEncryptionKeyError, resolveKeyEncryptionKey } from './keys/key-encryption-key.ts';
import { KeyService } from './keys/key-service.ts';
import { SpSigningKey } from './keys/sp-signing-key.ts';
import { DEFAULT_SESSION_RETENTION_DAYS, Maintenance } from './maintenance/maintenance.ts';
import type { Metrics } from './metrics/metrics.ts';
import { RpLogout } from './oidc/rp-logout.ts';
import { UserInfo } from './oidc/userinfo.ts';
import { BrowserSessions } from './sessions/browser-sessions.ts';
import { LoginIssuer } from './sessions/login-issuer.ts';
import { SessionService } from './sessions/session-service.ts';
import { BrowserSso } from './sso/browser-sso.ts';
import type { AvailabilityObserver } from './store/availability.ts';
import { observeEvents } from './store/observed-store.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { DEFAULT_THROTTLE_POLICY, LoginThrottle, type ThrottlePolicy } from './throttle/login-throttle.ts';
import { AccessTokenMinter } from './tokens/access-token-minter.ts';
import { IdTokenMinter } from './tokens/id-token-minter.ts';
import { ServiceTokenIssuer } from './tokens/service-token-issuer.ts';
import { TokenIntrospection } from './tokens/token-introspection.ts';
import { type TokenLifetimeSettings, TokenLifetimes } from './tokens/token-lifetimes.ts';
import { TokenRevocation } from './tokens/token-revocation.ts';

/** The settings the services need (a subset of {@link Config}, so tests can give just these). */
export interface PlatformSettings {
  issuer: string;
  lifetimes: TokenLifetimeSettings;
  /** login throttling policy (defaults: 5 failures per account, 50 per IP, in 15 minutes) */
  throttle?: Partial<ThrottlePolicy>;
  /** allowed clock difference with SAML IdPs (default 60 s) */
  samlClockSkewMs?: number;
  /** SAML assertions whose expiry is further away than this are refused (default 1 hour) */
  samlMaxAssertionLifetimeMs?: number;
  /** how long maintenance keeps what has ended (defaults: events 90 days, sessions and codes 7) */
  retention?: { eventDays?: number; sessionDays?: number };
  /** contract §6: `aud` of a token requested without `resource` (default: the issuer) */
  defaultAudience?: string;
  /** seconds verifiers may cache the JWKS, the default delay of a key rotation (default 300) */
  jwksMaxAge?: number;
  /** contract §11: seconds a browser sign-in lasts (default 36000) */
  browserSessionTtl?: number;
  /**
   * The key-encryption key of the signing keys (tests: e.g. randomBytes(32)). openPlatform
   * resolves it from the configuration instead (KEY_ENCRYPTION_KEY or the SQLite key file).
   */
  keyEncryptionKey?: Buffer;
}

export interface Services {
  accounts: AccountService;
  clients: ClientService;
  sessions: SessionService;
  idps: IdpService;
  events: EventService;
  throttle: LoginThrottle;
  /** carries out the logins grants decide */
  logins: LoginIssuer;
  revocation: TokenRevocation;
  /** RFC 7662 answers, with contract §7's rule on who may read a token */
  introspection: TokenIntrospection;
  /** pruning what has expired (the server's timer and `sei-auth db prune`) */
  maintenance: Maintenance;
  /** SAML browser single sign-on: AuthnRequests out, the ACS in (contract §10) */
  sso: BrowserSso;
  /** the admin API's domain: callers, collections, actions (contract §9) */
  admin: AdminApi;
  /** the JWT signing keys: JWKS, rotation, signing (contract §6) */
  keys: KeyService;
  /** sign-ins on the authorize page that a second app can reuse (contract §11) */
  browserSessions: BrowserSessions;
  /** OpenID Connect Core §5.3: the claims behind an access token */
  userInfo: UserInfo;
  /** OpenID Connect RP-Initiated Logout 1.0 */
  logout: RpLogout;
}

export interface Platform {
  settings: PlatformSettings;
  clock: Clock;
  /** the store every service uses (security events feed the metrics once committed) */
  store: Store;
  /** the server's metrics; absent for the CLI, which never loads prom-client */
  metrics?: Metrics;
  services: Services;
  /** grant_type → grant, for the token endpoint */
  grants: ReadonlyMap<string, Grant>;
  /** the one password check's dependencies, for the password grant and the login page alike */
  passwordLogin: PasswordLoginDeps;
}

export function settingsFromConfig(config: Config): PlatformSettings {
  return {
    issuer: config.issuer,
    lifetimes: { accessTokenTtl: config.accessTokenTtl, refreshTokenTtl: config.refreshTokenTtl },
    throttle: config.throttle,
    samlClockSkewMs: config.samlClockSkew * 1000,
    samlMaxAssertionLifetimeMs: config.samlMaxAssertionLifetime * 1000,
    retention: { eventDays: config.eventRetentionDays, sessionDays: config.sessionRetentionDays },
    defaultAudience: config.defaultAudience,
    jwksMaxAge: config.jwksMaxAge,
    browserSessionTtl: config.browserSessionTtl,
  };
}

/** Builds the services and grants over an open store. */
export function composePlatform(input: {
  store: Store;
  clock: Clock;
  settings: PlatformSettings;
  metrics?: Metrics;
  /** replaces the argon2id verify of password logins (tests count the verifications with it) */
  verifyPassword?: PasswordVerifier;
  /** how the key-encryption key is had, on first use (default: settings.keyEncryptionKey) */
  resolveKeyEncryptionKey?: () => KeyEncryptionKey;
}): Platform {
  const { clock, settings } = input;
  const { metrics } = input;
  const store = metrics ? observeEvents(input.store, (event) => metrics.observeEvent(event)) : input.store;
  const lifetimes = new TokenLifetimes(settings.lifetimes);
  const defaultAudience = settings.defaultAudience ?? settings.issuer;
  const throttle = new LoginThrottle({
    store,
    clock,
    policy: settings.throttle,
    observer: metrics && {
      onLock: (kind) => metrics.loginThrottling.increment(`${kind}_locked`),
      onRefused: () => metrics.loginThrottling.increment('refused'),
    },
  });
  const accounts = new AccountService({ store, clock });
  const clients = new ClientService({ store, clock });
  const sessions = new SessionService({ store, clock });
  const idps = new IdpService({ store, clock });
  const events = new EventService({ store });
  const resolveKek =
    input.resolveKeyEncryptionKey ??
    (() => {
      if (!settings.keyEncryptionKey) throw new KeyEncryptionKeyError('KEY_ENCRYPTION_KEY is not set');
      return { key: settings.keyEncryptionKey, source: 'KEY_ENCRYPTION_KEY' };
    });
  let kek: KeyEncryptionKey | undefined;
  const keys = new KeyService({
    store,
    clock,
    // Resolved once, on first use: commands that never touch the keys never need it.
    keyEncryptionKey: () => (kek ??= resolveKek()),
    jwksMaxAgeSeconds: settings.jwksMaxAge ?? 300,
    longestTokenLifetimeMs: async () =>
      Math.max(settings.lifetimes.accessTokenTtl, ...(await store.clients.list()).map((c) => c.accessTtl ?? 0)) * 1000,
  });
  // The signing keys sign JWT access tokens and recognise them when presented again (contract §6).
  const signer: JwtSigner = keys;
  const minter = new AccessTokenMinter({ signer, issuer: settings.issuer });
  const idTokens = new IdTokenMinter({ signer, issuer: settings.issuer });
  const tokenDeps = { store, clock, lifetimes, minter, defaultAudience, idTokens };
  const browserSessions = new BrowserSessions({ store, clock, ttlSeconds: settings.browserSessionTtl ?? 36_000 });
  const services: Services = {
    accounts,
    clients,
    sessions,
    idps,
    events,
    admin: new AdminApi({
      accounts,
      clients,
      idps,
      sessions,
      events,
      keys,
      clock,
      authenticator: new AdminAuthenticator({ store, clock, signer }),
    }),
    throttle,
    logins: new LoginIssuer(tokenDeps),
    revocation: new TokenRevocation({ store, clock, signer }),
    introspection: new TokenIntrospection({ store, clock, signer, issuer: settings.issuer, defaultAudience }),
    maintenance: new Maintenance({
      store,
      clock,
      policy: {
        eventRetentionDays: settings.retention?.eventDays ?? 90,
        sessionRetentionDays: settings.retention?.sessionDays ?? DEFAULT_SESSION_RETENTION_DAYS,
        throttleWindowMs: settings.throttle?.windowMs ?? DEFAULT_THROTTLE_POLICY.windowMs,
      },
    }),
    sso: new BrowserSso({
      store,
      clock,
      issuer: settings.issuer,
      clockSkewMs: settings.samlClockSkewMs ?? 60_000,
      maxAssertionLifetimeMs: settings.samlMaxAssertionLifetimeMs ?? 3_600_000,
      spSigningKey: new SpSigningKey({ store, clock, issuer: settings.issuer, keyEncryptionKey: () => (kek ??= resolveKek()) }),
      browserSessions,
    }),
    keys,
    browserSessions,
    userInfo: new UserInfo({ store, clock, signer }),
    logout: new RpLogout({ store, signer, issuer: settings.issuer, browserSessions }),
  };
  const passwordLogin: PasswordLoginDeps = { store, clock, throttle, verify: input.verifyPassword };
  const grants = grantRegistry([
    passwordGrant(passwordLogin),
    clientCredentialsGrant({ passwordLogin, serviceTokens: new ServiceTokenIssuer(tokenDeps) }),
    refreshTokenGrant(tokenDeps),
    authorizationCodeGrant({ store, clock }),
    samlBearerGrant({
      store,
      clock,
      issuer: settings.issuer,
      clockSkewMs: settings.samlClockSkewMs ?? 60_000,
      maxAssertionLifetimeMs: settings.samlMaxAssertionLifetimeMs ?? 3_600_000,
    }),
  ]);
  return { settings, clock, store, metrics, services, grants, passwordLogin };
}

export interface OpenPlatform extends Platform {
  config: Config;
  /** closes the store */
  close(): Promise<void>;
}

/**
 * Loads the configuration from the environment (the same for the server and every CLI
 * command), opens the store and composes the platform. The server passes its metrics, created
 * before the store so that queries are timed from the first one.
 * @throws ConfigError naming the variable with a bad value
 */
export async function openPlatform(
  env: Env,
  options: {
    clock?: Clock;
    metrics?: Metrics;
    onStoreAvailability?: AvailabilityObserver;
    /** where a warning about the key-encryption key goes (the server's logger; default stderr) */
    warn?: (message: string, fields: Record<string, unknown>) => void;
  } = {},
): Promise<OpenPlatform> {
  const config = loadConfig(env);
  const clock = options.clock ?? systemClock;
  const { metrics } = options;
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    now: clock.now(),
    sqliteSynchronous: config.sqliteSynchronous,
    sqliteGroupTransactions: config.sqliteGroupTransactions,
    poolSize: config.databasePoolSize,
    onQuery: metrics && ((operation, seconds, ok) => metrics.observeQuery(operation, seconds, ok)),
    onAvailability: options.onStoreAvailability,
    createFolder: config.databaseUrlIsDefault,
  });
  const warn = options.warn ?? ((message: string) => process.stderr.write(`sei-auth: warning: ${message}\n`));
  const platform = composePlatform({
    store,
    clock,
    settings: settingsFromConfig(config),
    metrics,
    resolveKeyEncryptionKey: () => resolveKeyEncryptionKey({ configured: config.keyEncryptionKey, databaseUrl: config.databaseUrl, warn }),
  });
  return { ...platform, config, close: () => store.close() };
}
