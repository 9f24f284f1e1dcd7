/**
 * The Prometheus metrics of one app instance. Knows neither HTTP nor SQL: the http
 * layer and the store report observations through the methods below. Label values are always
 * from closed sets (route patterns, grant types, error codes, event reasons), never user input.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SecurityEvent } from '../store/store.ts';
import type { QueryOperation } from '../store/timed-driver.ts';

export interface HttpObservation {
  method: string;
  /** the matched route pattern (`/oauth/token`), never the raw URL */
  route: string;
  statusCode: number;
  seconds: number;
}

export interface Metrics {
  /** This app's own metrics (not the process-wide ones; see {@link Metrics.render}). */
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text: this app's metrics, then the process's (event loop, memory, CPU). */
  render(): Promise<string>;
  observeHttpRequest(observation: HttpObservation): void;
  /** One token endpoint request: `grantType` only when registered, `outcome` 'ok' or the error code. */
  observeTokenRequest(grantType: string | undefined, outcome: string): void;
  /** A security event that has been committed to the store. */
  observeEvent(event: SecurityEvent): void;
  observeQuery(operation: QueryOperation, seconds: number, ok: boolean): void;
  /** Login throttling (account or IP locked, request slowed down); incremented by the throttling code. */
  readonly loginThrottling: { increment(reason: string): void };
  /** Where the active-sessions gauge reads from at scrape time (the store is opened after the metrics). */
  countActiveSessionsWith(source: () => Promise<number>): void;
  /** Where the SQLite WAL-frames counter reads from at scrape time (undefined: not SQLite). */
  countWalFramesWith(source: () => number | undefined): void;
}

export interface MetricsOptions {
  /** Adds `sei_auth_build_info{version}`. */
  version?: string;
  /** Include the process metrics (default true). */
  processMetrics?: boolean;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

// The event loop, heap and CPU belong to the process, not to an app: their monitors (an event
// loop delay histogram, a GC observer) are created once, however many apps a test process builds.
let processRegistry: Registry | undefined;
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A fresh set of metrics on its own registry (never prom-client's global one). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const processMetrics = options.processMetrics ?? true;

  if (options.version !== undefined) {
    new Gauge({
      name: 'sei_auth_build_info',
      help: 'Always 1; the version label says which release runs.',
      labelNames: ['version'],
      registers,
    }).set({ version: options.version }, 1);
  }
  const httpDuration = new Histogram({
    name: 'sei_auth_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_BUCKETS,
    registers,
  });
  const tokenRequests = new Counter({
    name: 'sei_auth_token_requests_total',
    help: 'Token endpoint requests by grant type and outcome (ok, or the OAuth error code).',
    labelNames: ['grant_type', 'outcome'],
    registers,
  });
  let activeSessionsSource: (() => Promise<number>) | undefined;
  new Gauge({
    name: 'sei_auth_active_sessions',
    help: 'Sessions neither ended nor expired, in the whole store (read at scrape time; NaN if the store did not answer).',
    registers,
    async collect() {
      if (!activeSessionsSource) return;
      try {
        this.set(await activeSessionsSource());
      } catch {
        // A scrape must not fail with the store: /readyz already reports that.
        this.set(Number.NaN);
      }
    },
  });
  let walFramesSource: (() => number | undefined) | undefined;
  new Counter({
    name: 'sei_auth_sqlite_wal_frames_total',
    help: "Pages this instance's SQLite commits wrote to the write-ahead log (absent on PostgreSQL): divided by requests, the write cost per request.",
    registers,
    collect() {
      const frames = walFramesSource?.();
      if (frames === undefined) return;
      this.reset();
      this.inc(frames);
    },
  });
  const sessionsEnded = new Counter({
    name: 'sei_auth_sessions_ended_total',
    help: 'Sessions ended by this instance, by reason (logout, end_other_sessions, refresh_token_reuse, code_reuse …).',
    labelNames: ['reason'],
    registers,
  });
  const loginThrottling = new Counter({
    name: 'sei_auth_login_throttle_events_total',
    help: 'Login throttling events (an account or address locked, a login refused while locked), by reason.',
    labelNames: ['reason'],
    registers,
  });
  const samlRejections = new Counter({
    name: 'sei_auth_saml_rejections_total',
    help: 'SAML assertions rejected, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const refreshReuse = new Counter({
    name: 'sei_auth_refresh_token_reuse_detections_total',
    help: 'Rotated refresh tokens presented again (RFC 9700 §4.14.2); each ends its session.',
    registers,
  });
  const queryDuration = new Histogram({
    name: 'sei_auth_store_query_duration_seconds',
    help: 'Store latency per statement kind, and per whole transaction; outcome ok or error.',
    labelNames: ['operation', 'outcome'],
    buckets: QUERY_BUCKETS,
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => (processMetrics ? Registry.merge([registry, sharedProcessRegistry()]) : registry).metrics(),
    observeHttpRequest({ method, route, statusCode, seconds }) {
      httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
    },
    observeTokenRequest(grantType, outcome) {
      tokenRequests.inc({ grant_type: grantType ?? 'none', outcome });
    },
    observeEvent(event) {
      const reason = event.reason ?? 'unspecified';
      if (event.type === 'session_ended') sessionsEnded.inc({ reason });
      else if (event.type === 'saml_rejected') samlRejections.inc({ reason });
      else if (event.type === 'refresh_token_reused') refreshReuse.inc();
    },
    observeQuery(operation, seconds, ok) {
      queryDuration.observe({ operation, outcome: ok ? 'ok' : 'error' }, seconds);
    },
    loginThrottling: { increment: (reason) => loginThrottling.inc({ reason }) },
    countWalFramesWith(source) {
      walFramesSource = source;
    },
    countActiveSessionsWith(source) {
      activeSessionsSource = source;
    },
  };
}
