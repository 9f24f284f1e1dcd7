/**
 * The resource-server verifier's rows (issue #14 item 6): in-process (bench/verifier-loops.ts, in
 * a child pinned like the server) and over HTTP (bench/verifier-api.ts: the same fastify API with
 * and without the plugin, measured alternately with autocannon from this process). Renders the
 * "Resource-server verifier" section of docs/benchmarks.md, which a verifier-only run
 * (`npm run bench -- verifier`, or BENCH_ONLY=verifier) splices into the existing file.
 */
import type { BenchConfig } from './config.ts';
import { type LoadResult, probeServerCpu, runLoad } from './load.ts';
import { cpuSecondsOf, freePort, type Pinning, runNodeJson, spawnNode, waitReady } from './processes.ts';
import { startBenchIssuer } from './verifier-issuer.ts';

export const SECTION_TITLE = '## Resource-server verifier (`sei-auth/resource-server`)';

interface AlgRow {
  alg: string;
  bare: number[];
  verifier: number[];
  ratios: number[];
  medianRatio: number;
  /** CPU µs per operation of each segment (this process, all threads) */
  bareCpu: number[];
  verifierCpu: number[];
  /** the ceiling's CPU per operation over the verifier's (medians) */
  cpuRatio: number;
}

export interface VerifierReport {
  startedAt: Date;
  command: string;
  node: string;
  pin: Pinning;
  loops: {
    parallel: number;
    segmentMs: number;
    sliceMs: number;
    algs: AlgRow[];
    cached: { segments: number[]; median: number };
    opaque: { segments: number[]; median: number };
  };
  http: {
    connections: number;
    seconds: number;
    plain: LoadResult[];
    protected: LoadResult[];
    ratios: number[];
    medianRatio: number;
    /** the unprotected API's CPU per request over the protected one's (medians) */
    cpuRatio: number;
    errors: number;
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function runVerifierBench(
  cfg: BenchConfig,
  pin: Pinning,
  say: (line: string) => void,
  command: string,
): Promise<VerifierReport> {
  const startedAt = new Date();
  say('verifier, in-process: jose.jwtVerify vs verifier.verify per algorithm, then the two caches …');
  const loops = await runNodeJson<VerifierReport['loops']>(['--import', 'tsx', 'bench/verifier-loops.ts'], {
    env: { ...process.env, PAIRS: String(Math.max(5, cfg.segments + 3)) },
    core: pin.serverCore,
    pin,
    timeoutMs: 300_000,
  });
  for (const a of loops.algs)
    say(
      `verifier ${a.alg}: jwtVerify ${fmtRates(a.bare)}/s, verifier.verify ${fmtRates(a.verifier)}/s → ${pct(a.medianRatio)} (median of pairs)`,
    );
  say(`verifier cached: ${fmtRates(loops.cached.segments)}/s; opaque from the introspection cache: ${fmtRates(loops.opaque.segments)}/s`);

  // ---- over HTTP: the API with and without the plugin, alternately, each connection reusing its own token
  const issuer = await startBenchIssuer();
  const [port, protectedPort] = [await freePort(), await freePort()];
  const api = spawnNode(['--import', 'tsx', 'bench/verifier-api.ts'], {
    env: { ...process.env, PORT: String(port), PROTECTED_PORT: String(protectedPort), ISSUER: issuer.issuer },
    core: pin.serverCore,
    pin,
  });
  try {
    const plainUrl = `http://127.0.0.1:${port}`;
    const protectedUrl = `http://127.0.0.1:${protectedPort}`;
    await waitReady(api, `${plainUrl}/readyz`);
    await waitReady(api, `${protectedUrl}/readyz`);
    // Each run reports the API process's CPU per request: a view of the cost a busy machine disturbs
    // far less than req/s. (This runs last in a full bench: replacing run.ts's probe is harmless.)
    probeServerCpu(() => cpuSecondsOf(api.pid));
    const connections = cfg.connections;
    const tokens = await Promise.all(Array.from({ length: connections }, (_, i) => issuer.sign('ES256', i)));
    const spec = (url: string, seconds: number, withToken: boolean) => ({
      urls: [url],
      path: '/orders',
      method: 'GET' as const,
      connections,
      seconds,
      headers: (conn: number): Record<string, string> => (withToken ? { authorization: `Bearer ${tokens[conn % connections]}` } : {}),
      onResponse: (_c: number, status: number, body: string) => status === 200 && body.includes('"orders"'),
    });
    await runLoad(spec(plainUrl, 2, false)); // warm-up
    await runLoad(spec(protectedUrl, 2, true));
    const seconds = Math.max(2, cfg.seconds / cfg.segments);
    const rounds = Math.max(6, cfg.segments + 2);
    const plain: LoadResult[] = [];
    const guarded: LoadResult[] = [];
    say(`verifier over HTTP: fastify API unprotected vs protected by the plugin (JWT), ${rounds} × ${seconds} s each, alternately …`);
    for (let r = 0; r < rounds; r++) {
      plain.push(await runLoad(spec(plainUrl, seconds, false)));
      guarded.push(await runLoad(spec(protectedUrl, seconds, true)));
    }
    const ratios = guarded.map((g, i) => g.rps / plain[i]!.rps);
    const http = {
      connections,
      seconds,
      plain,
      protected: guarded,
      ratios,
      medianRatio: median(ratios),
      cpuRatio: median(plain.map((x) => x.cpuPerRequest)) / median(guarded.map((x) => x.cpuPerRequest)),
      errors: [...plain, ...guarded].reduce((n, x) => n + x.errors, 0),
    };
    say(
      `verifier over HTTP: unprotected ${fmtRates(plain.map((x) => x.rps))} req/s, protected ${fmtRates(guarded.map((x) => x.rps))} req/s → ${pct(http.medianRatio)} (median of pairs); CPU per request ${n1(median(plain.map((x) => x.cpuPerRequest)))} vs ${n1(median(guarded.map((x) => x.cpuPerRequest)))} µs (${pct(http.cpuRatio)}); errors ${http.errors}`,
    );
    return { startedAt, command, node: process.version, pin, loops, http };
  } finally {
    probeServerCpu(undefined);
    await api.stop();
    await issuer.close();
  }
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
const n1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const fmtRates = (xs: number[]) => xs.map(n0).join(' / ');
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

export function renderVerifierSection(r: VerifierReport): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(SECTION_TITLE);
  line();
  line(
    `Measured ${r.startedAt.toISOString()} with \`${r.command}\` (Node ${r.node}; ${r.pin.enabled ? `the verifier's loops and the API on core ${r.pin.serverCore}, autocannon on core ${r.pin.loadCore}` : 'unpinned'}). Every ratio pairs segments measured one right after the other in the same run; the ratio is the median over the pairs. The issuer (JWKS, introspection) is a loopback stub in the bench process, fetched once per verifier, so these rows measure the verifier, not sei-auth.`,
  );
  line();
  line('| Row | median | per segment | ceiling (median) | ratio | target | met? | CPU µs per operation (ceiling / row) |');
  line('|---|---:|---|---:|---:|---:|:---:|---:|');
  for (const a of r.loops.algs) {
    line(
      `| \`verifier.verify\`, ${a.alg} JWT seen for the first time (verified-token cache off), ${r.loops.parallel} in flight | ${n0(median(a.verifier))}/s | ${fmtRates(a.verifier)} | \`jose.jwtVerify\`, same key and alg: ${n0(median(a.bare))}/s | ${pct(a.medianRatio)} | ≥ 80 % | ${met(a.medianRatio >= 0.8)} | ${n1(median(a.bareCpu))} / ${n1(median(a.verifierCpu))} (${pct(a.cpuRatio)}) |`,
    );
  }
  line(
    `| \`verifier.verify\`, a JWT presented again (verified-token cache: SHA-256 of the token, exp re-checked), one at a time | ${n0(r.loops.cached.median)}/s | ${fmtRates(r.loops.cached.segments)} | – | – | ≥ 100,000/s | ${met(r.loops.cached.median >= 100_000)} | – |`,
  );
  line(
    `| \`verifier.verify\`, an opaque token from the introspection cache, one at a time | ${n0(r.loops.opaque.median)}/s | ${fmtRates(r.loops.opaque.segments)} | – | – | ≥ 100,000/s | ${met(r.loops.opaque.median >= 100_000)} | – |`,
  );
  const h = r.http;
  line(
    `| fastify API protected by the plugin (JWT, each of ${h.connections} connections reusing its token), GET over HTTP | ${n0(median(h.protected.map((x) => x.rps)))} req/s | ${fmtRates(h.protected.map((x) => x.rps))} | the same API unprotected: ${n0(median(h.plain.map((x) => x.rps)))} req/s | ${pct(h.medianRatio)} | ≥ 70 % | ${met(h.medianRatio >= 0.7)} | ${n1(median(h.plain.map((x) => x.cpuPerRequest)))} / ${n1(median(h.protected.map((x) => x.cpuPerRequest)))} (${pct(h.cpuRatio)}) |`,
  );
  line();
  line(
    `Per algorithm, ratio per pair: ${r.loops.algs.map((a) => `${a.alg} ${a.ratios.map(pct).join(' / ')}`).join('; ')}. Over HTTP (${h.seconds} s segments, errors ${h.errors}): ratio per pair ${h.ratios.map(pct).join(' / ')}; p50/p99 of the best protected segment ${best(h.protected).p50.toFixed(2)}/${best(h.protected).p99.toFixed(2)} ms against ${best(h.plain).p50.toFixed(2)}/${best(h.plain).p99.toFixed(2)} ms unprotected.`,
  );
  line();
  line(
    `- **First-time verification** runs \`verifier.verify("Bearer …")\` on 256 distinct tokens in rotation with the verified-token cache disabled (\`verifiedCache: { size: 0 }\`), so every call checks the header's syntax, finds the key of the JWKS fetched once (jose \`createRemoteJWKSet\`) and runs \`jwtVerify\` with the RFC 9068 checks; the ceiling is \`jose.jwtVerify(token, publicKey)\` on the same tokens with no claim checks at all. Both keep 8 verifications in flight (WebCrypto verifies off the main thread); within each pair the two sides alternate every ${r.loops.sliceMs} ms, so both see the same machine. CPU per operation is this process's (all threads) — what the ratio would be on an idle core.`,
  );
  line(
    '- **Cached rows** present 1,000 tokens verified (or introspected) once beforehand, one call at a time: header parse, SHA-256 of the token, an LRU lookup, the exp check.',
  );
  line(
    '- **Over HTTP**: bench/verifier-api.ts serves `GET /orders` (a small JSON body) twice in one process — behind `seiAuth` and without it — and autocannon alternates between them; each connection sends its own ES256 token on every request, so after the first request of each connection the plugin serves from the verified-token cache.',
  );
  line();
  return out.join('\n');
}

function best(results: LoadResult[]): LoadResult {
  return results.reduce((a, b) => (b.rps > a.rps ? b : a));
}

/** The document with the verifier section replaced (or inserted before "## How each row is measured", else appended). */
export function spliceVerifierSection(doc: string, section: string): string {
  section = `${section.trimEnd()}\n\n`;
  const start = doc.indexOf(SECTION_TITLE);
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + SECTION_TITLE.length);
    return `${doc.slice(0, start)}${section}${next >= 0 ? doc.slice(next + 1) : ''}`;
  }
  const before = doc.indexOf('## How each row is measured');
  if (before >= 0) return `${doc.slice(0, before)}${section}${doc.slice(before)}`;
  return `${doc.trimEnd()}\n\n${section}`;
}
