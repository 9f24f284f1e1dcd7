/**
 * The resource-server verifier's rows (issue #14 item 6): in-process (bench/verifier-loops.ts, in
 * a child pinned like the server) and over HTTP (bench/verifier-api.ts: the same fastify API with
 * and without the plugin, measured alternately with autocannon from this process). Renders the
 * "Resource-server verifier" section of docs/benchmarks.md, which a verifier-only run
 * (`npm run bench -- verifier`, or BENCH_ONLY=verifier) splices into the existing file.
 */
import type { BenchConfig } from './config.ts';
import { type LoadResult, runLoad } from './load.ts';
import { freePort, type Pinning, runNodeJson, spawnNode, waitReady } from './processes.ts';
import { startBenchIssuer } from './verifier-issuer.ts';

export const SECTION_TITLE = '## Resource-server verifier (`sei-auth/resource-server`)';

interface AlgRow {
  alg: string;
  bare: number[];
  verifier: number[];
  ratios: number[];
  medianRatio: number;
}

export interface VerifierReport {
  startedAt: Date;
  command: string;
  node: string;
  pin: Pinning;
  loops: {
    parallel: number;
    segmentMs: number;
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
    const rounds = Math.max(3, cfg.segments);
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
      errors: [...plain, ...guarded].reduce((n, x) => n + x.errors, 0),
    };
    say(
      `verifier over HTTP: unprotected ${fmtRates(plain.map((x) => x.rps))} req/s, protected ${fmtRates(guarded.map((x) => x.rps))} req/s → ${pct(http.medianRatio)} (median of pairs), errors ${http.errors}`,
    );
    return { startedAt, command, node: process.version, pin, loops, http };
  } finally {
    await api.stop();
    await issuer.close();
  }
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
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
  line('| Row | median | per segment | ceiling (median) | ratio | target | met? |');
  line('|---|---:|---|---:|---:|---:|:---:|');
  for (const a of r.loops.algs) {
    line(
      `| \`verifier.verify\`, ${a.alg} JWT seen for the first time (verified-token cache off), ${r.loops.parallel} in flight | ${n0(median(a.verifier))}/s | ${fmtRates(a.verifier)} | \`jose.jwtVerify\`, same key and alg: ${n0(median(a.bare))}/s | ${pct(a.medianRatio)} | ≥ 80 % | ${met(a.medianRatio >= 0.8)} |`,
    );
  }
  line(
    `| \`verifier.verify\`, a JWT presented again (verified-token cache: SHA-256 of the token, exp re-checked), one at a time | ${n0(r.loops.cached.median)}/s | ${fmtRates(r.loops.cached.segments)} | – | – | ≥ 100,000/s | ${met(r.loops.cached.median >= 100_000)} |`,
  );
  line(
    `| \`verifier.verify\`, an opaque token from the introspection cache, one at a time | ${n0(r.loops.opaque.median)}/s | ${fmtRates(r.loops.opaque.segments)} | – | – | ≥ 100,000/s | ${met(r.loops.opaque.median >= 100_000)} |`,
  );
  const h = r.http;
  line(
    `| fastify API protected by the plugin (JWT, each of ${h.connections} connections reusing its token), GET over HTTP | ${n0(median(h.protected.map((x) => x.rps)))} req/s | ${fmtRates(h.protected.map((x) => x.rps))} | the same API unprotected: ${n0(median(h.plain.map((x) => x.rps)))} req/s | ${pct(h.medianRatio)} | ≥ 70 % | ${met(h.medianRatio >= 0.7)} |`,
  );
  line();
  line(
    `Per algorithm, ratio per pair: ${r.loops.algs.map((a) => `${a.alg} ${a.ratios.map(pct).join(' / ')}`).join('; ')}. Over HTTP (${h.seconds} s segments, errors ${h.errors}): ratio per pair ${h.ratios.map(pct).join(' / ')}; p50/p99 of the best protected segment ${best(h.protected).p50.toFixed(2)}/${best(h.protected).p99.toFixed(2)} ms against ${best(h.plain).p50.toFixed(2)}/${best(h.plain).p99.toFixed(2)} ms unprotected.`,
  );
  line();
  line(
    '- **First-time verification** runs `verifier.verify("Bearer …")` on 256 distinct tokens in rotation with the verified-token cache disabled (`verifiedCache: { size: 0 }`), so every call parses the header, picks the key from the cached JWKS (jose `createRemoteJWKSet`) and runs `jwtVerify` with the RFC 9068 checks; the ceiling is `jose.jwtVerify(token, publicKey)` on the same tokens with no claim checks at all. Both keep 8 verifications in flight (WebCrypto verifies off the main thread).',
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
  const start = doc.indexOf(SECTION_TITLE);
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + SECTION_TITLE.length);
    return `${doc.slice(0, start)}${section}${next >= 0 ? doc.slice(next + 1) : ''}`;
  }
  const before = doc.indexOf('## How each row is measured');
  if (before >= 0) return `${doc.slice(0, before)}${section}\n${doc.slice(before)}`;
  return `${doc.trimEnd()}\n\n${section}`;
}
