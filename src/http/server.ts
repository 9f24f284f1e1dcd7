import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { type OpenPlatform, openPlatform } from '../composition-root.ts';
import { type Config, type Env, loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { describeDatabaseUrl } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { VERSION } from '../version.ts';
import { buildApp } from './app.ts';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  config: Config;
  url: string;
  /** Stops accepting, lets in-flight requests finish (bounded), then closes the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  shutdownTimeoutMs?: number;
}

/** Starts the server from environment variables (the `serve` command and tests). */
export async function startServer(env: Env, options: StartOptions = {}): Promise<RunningServer> {
  const metrics = createMetrics({ version: VERSION });
  // The configuration is read again by openPlatform; the logger must exist before the store opens.
  const early = loadConfig(env);
  const logger = options.logger ?? createLogger(early.logLevel);
  const where = describeDatabaseUrl(early.databaseUrl);
  const platform: OpenPlatform = await openPlatform(env, {
    clock: options.clock,
    metrics,
    // One line when the store stops answering (with the cause: host and error code, never
    // credentials) and one when it is back — at the same level, so whoever sees one sees both.
    onAvailability: (change) => {
      if (!change.available) {
        logger.warn(
          { store: where, cause: change.cause },
          `store unavailable: ${where}: ${change.cause}; requests are answered 503 until it is back`,
        );
      } else {
        logger.warn(
          { store: where, down_for_ms: change.downForMs },
          `store available again: ${where}, after ${(change.downForMs / 1000).toFixed(1)} s`,
        );
      }
    },
  });
  const { config, clock, store, services } = platform;
  const app = buildApp({
    platform,
    logger,
    rateLimits: config.rateLimits,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
  });
  // Fastify would log its own "Server listening at" line(s) (one per address for `localhost`);
  // the one start-up line below says that and more, so fastify's are held back.
  const level = app.log.level;
  if (logger.isLevelEnabled('info')) app.log.level = 'warn';
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    app.log.level = level;
    await app.close();
    await store.close();
    throw error;
  }
  app.log.level = level;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    {
      version: VERSION,
      listen: url,
      store: describeDatabaseUrl(config.databaseUrl),
      issuer: config.issuer,
      access_token_ttl: config.accessTokenTtl,
      refresh_token_ttl: config.refreshTokenTtl,
    },
    `sei-auth ${VERSION} listening on ${url}, store ${describeDatabaseUrl(config.databaseUrl)}, issuer ${config.issuer}, ` +
      `access TTL ${config.accessTokenTtl}s, refresh TTL ${config.refreshTokenTtl}s`,
  );
  if ((await store.clients.list()).length === 0) {
    logger.info(
      'fresh store: create a client and a user to get started:\n' +
        '  npx sei-auth client create --name "My app" --redirect-url https://app.example/callback --json\n' +
        '  printf %s "a-long-password" | npx sei-auth user create --email you@example.com --password-stdin --json',
    );
  }

  // Certificates near (or past) expiry: warned at start-up, then again once a day while it lasts.
  const warnedAt = new Map<string, number>();
  const warnExpiringCertificates = async () => {
    for (const { entityId, cert } of await services.idps.expiringCertificates()) {
      const last = warnedAt.get(cert.id);
      if (last !== undefined && clock.now() - last < 86_400_000) continue;
      warnedAt.set(cert.id, clock.now());
      const when = new Date(cert.notAfter).toISOString();
      const verb = cert.notAfter <= clock.now() ? 'expired on' : 'expires on';
      logger.warn(
        { idp: entityId, certificate: cert.id, not_after: when },
        `the signing certificate ${cert.id} of IdP ${entityId} ${verb} ${when}: register its successor with \`sei-auth idp add-cert\``,
      );
    }
  };
  await warnExpiringCertificates();

  // One run at a time: a backlog may take longer than a short MAINTENANCE_INTERVAL.
  let maintaining: Promise<void> | undefined;
  const stopMaintenance = new AbortController();
  const maintain = () =>
    (maintaining ??= services.maintenance
      .run(stopMaintenance.signal)
      .then(async (pruned) => {
        await warnExpiringCertificates();
        return pruned;
      })
      .then(
        (pruned) => logger.debug({ pruned }, 'maintenance'),
        (error: unknown) => logger.warn({ err: error }, 'maintenance failed; will retry'),
      )
      .finally(() => {
        maintaining = undefined;
      }));
  void maintain();
  const maintenanceTimer = setInterval(maintain, config.maintenanceInterval * 1000);
  maintenanceTimer.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(maintenanceTimer);
      stopMaintenance.abort();
      const timeout = options.shutdownTimeoutMs ?? config.shutdownTimeout * 1000;
      const timer = setTimeout(() => {
        logger.warn({ timeout_ms: timeout }, 'shutdown timeout: closing the connections still open');
        app.server.closeAllConnections();
      }, timeout);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
        // A run in progress stops after its current batch; the store closes after it.
        await maintaining;
        await store.close();
      }
    })());
  return { app, store, config, url, close };
}
