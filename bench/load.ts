/**
 * The load generator: autocannon (a real HTTP/1.1 client with its own connection handling),
 * driven in this process, which the benchmark pins to its own core. Every request is a POST of
 * a form. Latencies and throughput are computed here from every response (autocannon's own
 * histogram has whole-millisecond resolution and its per-second request samples count a partial
 * last second), the same way for the ceilings and the scenarios.
 */
import autocannon, { type AutocannonRequest } from 'autocannon';
import { percentile } from './stats.ts';

export interface LoadSpec {
  /** base URLs; with several, connections are spread over them round-robin (load split) */
  urls: string[];
  path: string;
  /** POST (a form) unless told; GET sends no body */
  method?: 'GET' | 'POST';
  /** the headers of every request of connection `conn` (default: the form's content-type) */
  headers?: (conn: number) => Record<string, string>;
  connections: number;
  /** run for this long (seconds) … */
  seconds?: number;
  /** … or until exactly this many responses have arrived (every request completes: no request is cut off) */
  amount?: number;
  /** the body of every request of connection `conn` (fixed per connection) */
  body?: (conn: number) => string;
  /** a fresh body (and optionally path) for each request of connection `conn` (consumables, chains) */
  next?: (conn: number) => string | { path: string; body: string };
  /** told every response; returns false when the response is not the expected one (an error) */
  onResponse?: (conn: number, status: number, body: string) => boolean;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** non-2xx + unexpected 2xx bodies + connection errors + timeouts: must be 0 */
  errors: number;
  /** 2xx responses whose body was not the expected one */
  wrongBodies: number;
  /** CPU the load generator (this process) used, as a fraction of one core: near 1 means it, not the server, was the limit */
  loadCpu: number;
  /** CPU the server process(es) used, as a fraction of one core (when a probe is set) */
  serverCpu: number;
  /** server CPU time per response, microseconds: the cost of a request, much less disturbed by a busy machine than req/s */
  cpuPerRequest: number;
  statuses: Record<string, number>;
}

const HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

let serverCpuProbe: (() => number) | undefined;
/** Cumulative CPU seconds of the process(es) under test; every run reports their CPU use. */
export function probeServerCpu(probe: (() => number) | undefined): void {
  serverCpuProbe = probe;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if ((spec.seconds === undefined) === (spec.amount === undefined)) throw new TypeError('give seconds or amount');
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let last = 0;
  let wrongBodies = 0;
  let connIndex = 0;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const server0 = serverCpuProbe?.() ?? Number.NaN;
    const instance = autocannon(
      {
        url: spec.urls.length === 1 ? spec.urls[0]! : spec.urls,
        connections: spec.connections,
        ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.seconds! }),
        timeout: 30,
        method: spec.method ?? 'POST',
        headers: HEADERS,
        setupClient(client) {
          const conn = connIndex++;
          const request: AutocannonRequest = { method: spec.method ?? 'POST', path: spec.path, headers: spec.headers?.(conn) ?? HEADERS };
          if (spec.body) request.body = spec.body(conn);
          if (spec.next) {
            const next = spec.next;
            request.setupRequest = (req) => {
              const value = next(conn);
              if (typeof value === 'string') req.body = value;
              else {
                req.path = value.path;
                req.body = value.body;
              }
              return req;
            };
          }
          if (spec.onResponse) {
            const onResponse = spec.onResponse;
            request.onResponse = (status, body) => {
              if (!onResponse(conn, status, body) && status >= 200 && status < 300) wrongBodies++;
            };
          }
          client.setRequests([request]);
        },
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = ((last || performance.now()) - start) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const serverCpu = ((serverCpuProbe?.() ?? Number.NaN) - server0) / ((performance.now() - start) / 1000);
        const transportErrors = result.errors + result.mismatches;
        let non2xx = 0;
        for (const [code, n] of Object.entries(statuses)) if (!code.startsWith('2')) non2xx += n;
        resolve({
          requests: latencies.length,
          seconds,
          rps: latencies.length / seconds,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          errors: non2xx + wrongBodies + transportErrors,
          wrongBodies,
          loadCpu: (cpu.user + cpu.system) / 1e6 / ((performance.now() - start) / 1000),
          serverCpu,
          cpuPerRequest: (serverCpu * ((performance.now() - start) / 1000) * 1e6) / latencies.length,
          statuses: {
            ...statuses,
            ...(result.errors ? { transport_errors: result.errors } : {}),
            ...(result.timeouts ? { timeouts: result.timeouts } : {}),
          },
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      statuses[status] = (statuses[status] ?? 0) + 1;
      last = performance.now();
    });
  });
}

export interface MeasuredResult extends LoadResult {
  /** req/s of every segment, in order */
  segments: number[];
}

/**
 * The machine is shared and noisy: a measurement is `segments` back-to-back runs, and the best
 * one (the least disturbed) is reported, with its latencies; errors are summed over all of them.
 * Ceilings are measured the same way, so ratios compare like with like. `before` runs ahead of
 * each segment (minting the codes it consumes, for instance) and is not timed.
 */
export async function measure(
  spec: Omit<LoadSpec, 'seconds' | 'amount'>,
  segments: number,
  size: { seconds: number } | { amount: () => number },
  before?: () => Promise<void>,
): Promise<MeasuredResult> {
  const results: LoadResult[] = [];
  for (let i = 0; i < segments; i++) {
    if (before) await before();
    results.push(await runLoad({ ...spec, ...('seconds' in size ? { seconds: size.seconds } : { amount: size.amount() }) }));
  }
  return bestOf(results);
}

export function bestOf(results: LoadResult[]): MeasuredResult {
  const best = results.reduce((a, b) => (b.rps > a.rps ? b : a));
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  return {
    ...best,
    errors: results.reduce((n, r) => n + r.errors, 0),
    wrongBodies: results.reduce((n, r) => n + r.wrongBodies, 0),
    requests: results.reduce((n, r) => n + r.requests, 0),
    statuses,
    segments: results.map((r) => r.rps),
  };
}
