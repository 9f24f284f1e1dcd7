/**
 * Helpers for the operations tests: an app wired like `sei-auth serve` wires it (metrics shared
 * by the store's query timer and the app), and a reader for the Prometheus text format.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../src/clock.ts';
import { composePlatform, type Services } from '../../src/composition-root.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { freshDatabase, type StoreKind } from '../support/harness.ts';

export interface OpsApp {
  app: FastifyInstance;
  store: Store;
  services: Services;
  metrics: Metrics;
  logs: string[];
  close(): Promise<void>;
}

/** The METRICS_TOKEN of ops apps unless a test asks for another (or none): /metrics is closed without one. */
export const OPS_METRICS_TOKEN = 'mt_ops-0123456789abcdef';
export const OPS_SCRAPE_HEADERS = { authorization: `Bearer ${OPS_METRICS_TOKEN}` } as const;

export async function createOpsApp(kind: StoreKind, options: { metricsToken?: string | null } = {}): Promise<OpsApp> {
  const db = await freshDatabase(kind);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const metrics = createMetrics({ version: 'test' });
  const store = await openStore({
    databaseUrl: db.url,
    now: systemClock.now(),
    sqliteSynchronous: 'NORMAL',
    onQuery: (operation, seconds, ok) => metrics.observeQuery(operation, seconds, ok),
  });
  const platform = composePlatform({
    store,
    clock: systemClock,
    metrics,
    settings: { issuer: 'http://localhost:8080', lifetimes: { accessTokenTtl: 3600, refreshTokenTtl: 86_400 } },
  });
  const metricsToken = options.metricsToken === null ? undefined : (options.metricsToken ?? OPS_METRICS_TOKEN);
  const app = buildApp({ platform, logger: createLogger('info', sink), metricsToken });
  await app.ready();
  return {
    app,
    store,
    services: platform.services,
    metrics,
    logs,
    async close() {
      await app.close();
      await store.close();
      await db.drop();
    },
  };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; undefined if none. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
