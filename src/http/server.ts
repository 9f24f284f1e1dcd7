import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { type OpenPlatform, openPlatform } from '../composition-root.ts';
import { type Config, ConfigError, type Env, loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { describeDatabaseUrl } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { VERSION } from '../version.ts';
import { buildApp } from './app.ts';
import { CONSOLE_CLIENT_ID } from './console/console-client.ts';
import { buildMetricsApp } from './metrics-app.ts';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  config: Config;
  url: string;
  /** The METRICS_PORT listener's /metrics URL (always on 127.0.0.1); undefined without METRICS_PORT. */
  metricsUrl: string | undefined;
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
  // The logger exists before the store, so that an outage from the first query on is reported.
  const logger = options.logger ?? createLogger(loadConfig(env).logLevel);
  const platform: OpenPlatform = await openPlatform(env, {
    clock: options.clock,
    metrics,
    onStoreAvailability: (change) => {
      if (!change.available) logger.warn({ store: 'unavailable', cause: change.cause }, `store unavailable: ${change.cause}`);
      else
        logger.info(
          { store: 'available', down_ms: change.downForMs },
          `store available again after ${Math.round(change.downForMs / 1000)} s`,
        );
    },
    warn: (message, fields) => logger.warn(fields, message),
  });
  const { config, clock, store, services } = platform;
  try {
    // Contract §6: the first key on first start; a missing or wrong KEY_ENCRYPTION_KEY stops start-up here.
    await services.keys.ensureInitialKey();
  } catch (error) {
    await store.close();
    throw error;
  }
  const app = buildApp({
    platform,
    logger,
    rateLimits: config.rateLimits,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    metricsPort: config.metricsPort !== undefined,
  });
  const metricsApp = config.metricsPort !== undefined ? buildMetricsApp({ metrics, logger }) : undefined;
  // Fastify would log its own "Server listening at" line(s) (one per address for `localhost`);
  // the one start-up line below says that and more, so fastify's are held back.
  const level = app.log.level;
  const metricsLevel = metricsApp?.log.level;
  if (logger.isLevelEnabled('info')) {
    app.log.level = 'warn';
    if (metricsApp) metricsApp.log.level = 'warn';
  }
  const restoreLevels = () => {
    app.log.level = level;
    if (metricsApp && metricsLevel) metricsApp.log.level = metricsLevel;
  };
  try {
    await app.listen({ port: config.port, host: config.host });
    // Loopback only, whatever HOST is: without a token, only this host may scrape.
    await metricsApp?.listen({ port: config.metricsPort, host: '127.0.0.1' }).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError('METRICS_PORT', `cannot listen on 127.0.0.1:${config.metricsPort} (${error.code ?? error.message})`);
    });
  } catch (error) {
    restoreLevels();
    await metricsApp?.close();
    await app.close();
    await store.close();
    throw error;
  }
  restoreLevels();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const metricsUrl = metricsApp ? `http://127.0.0.1:${config.metricsPort}/metrics` : undefined;
  // Where the metrics are, so an operator who sees 401 on /metrics knows why.
  const metricsWhere =
    metricsUrl ?? (config.metricsToken !== undefined ? `${url}/metrics with METRICS_TOKEN` : 'off (set METRICS_TOKEN or METRICS_PORT)');
  logger.info(
    {
      version: VERSION,
      listen: url,
      store: describeDatabaseUrl(config.databaseUrl),
      issuer: config.issuer,
      access_token_ttl: config.accessTokenTtl,
      refresh_token_ttl: config.refreshTokenTtl,
      metrics: metricsWhere,
    },
    `sei-auth ${VERSION} listening on ${url}, store ${describeDatabaseUrl(config.databaseUrl)}, issuer ${config.issuer}, ` +
      `access TTL ${config.accessTokenTtl}s, refresh TTL ${config.refreshTokenTtl}s, metrics ${metricsWhere}`,
  );
  // The admin console's own client (made at start) does not make a store less fresh.
  if ((await store.clients.list()).every((client) => client.id === CONSOLE_CLIENT_ID)) {
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
        // Scrapes are short: the metrics listener closes after the main one, then the store.
        await metricsApp?.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the metrics listener failed'));
        // A run in progress stops after its current batch; the store closes after it.
        await maintaining;
        await store.close();
      }
    })());
  return { app, store, config, url, metricsUrl, close };
}
